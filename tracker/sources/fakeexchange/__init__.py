"""A fake exchange for tests: Binance and OKX REST shapes, real HTTP on 127.0.0.1, faults on demand.

``FakeExchange`` runs in-process (a context manager); ``FakeExchangeProcess`` runs
``python -m tracker.sources.fakeexchange`` in a subprocess; both are steered through the same
methods (``add_fault``, ``stats``, ``calls``, ``set_now``, ``add_gap``, ``delist``), the second
over the ``/__fake`` HTTP API (``FakeExchangeControl``). Candles come from real hourly closes
when a data folder is given, else from seeded synthetic walks (see ``series`` and ``listings``).
"""
from .control import ControlMethods, FakeExchangeControl, FakeExchangeProcess
from .faults import FAULT_KINDS, FaultRule
from .listings import Listing, real_listings, synthetic_listings
from .server import FakeExchange

__all__ = [
    "FAULT_KINDS",
    "ControlMethods",
    "FakeExchange",
    "FakeExchangeControl",
    "FakeExchangeProcess",
    "FaultRule",
    "Listing",
    "real_listings",
    "synthetic_listings",
]
