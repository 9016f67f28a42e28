"""What the fake servers (:mod:`~tracker.sources.fakegecko`, :mod:`~tracker.sources.fakeexchange`) share.

The plumbing, not the APIs they imitate: the threaded HTTP server and its lifecycle
(:mod:`.http`), the fault rules and their book (:mod:`.faults`), the control client and the
subprocess launcher (:mod:`.control`, :mod:`.process`) and the ``python -m`` entry (:mod:`.cli`).
"""
