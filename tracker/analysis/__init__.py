"""Analyses of stored data: the event study, correlations and the GPU estimate.

Also here: the announcements calendar (:mod:`.events`), the panels every analysis reads
(:mod:`.panels`), the results interface they share (:mod:`.results`), and how results are
rendered and drawn (:mod:`.output` for table/JSON/CSV, :mod:`.plotting` for charts), which the
report and the CLI reuse.
"""
