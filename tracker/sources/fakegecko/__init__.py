"""A fake CoinGecko API v3 server for tests and demos: deterministic data, real HTTP, faults on demand.

``FakeGecko`` runs in-process (a context manager); ``FakeGeckoProcess`` runs
``python -m tracker.sources.fakegecko`` in a subprocess; both are steered through the same methods
(``add_fault``, ``stats``, ``set_members``, ``delist``, ``set_now``, ``configure``), the
second over the ``/__fake`` HTTP API (``FakeGeckoControl``). The package needs nothing outside
itself at runtime.
"""
from .clock import FakeClock
from .control import ControlMethods, FakeGeckoControl, FakeGeckoProcess
from .faults import DRIFT_KINDS, FAULT_KINDS, FaultRule
from .series import CoinSpec
from .server import API_PREFIX, FakeGecko, endpoint_template
from .universe import Universe, generate

__all__ = [
    "API_PREFIX",
    "DRIFT_KINDS",
    "FAULT_KINDS",
    "CoinSpec",
    "ControlMethods",
    "FakeClock",
    "FakeGecko",
    "FakeGeckoControl",
    "FakeGeckoProcess",
    "FaultRule",
    "Universe",
    "endpoint_template",
    "generate",
]
