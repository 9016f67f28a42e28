"""Steering a fake exchange, in-process or in another process, through one set of methods.

:class:`ControlMethods` defines them as operations on the ``/__fake/...`` HTTP API;
:class:`~tracker.sources.fakeexchange.server.FakeExchange` runs them directly and
:class:`FakeExchangeControl` sends them over HTTP (e.g. to a :class:`FakeExchangeProcess`).

HTTP control API (JSON in, JSON out)::

    GET    /__fake/health
    GET    /__fake/stats           calls, by_path, by_status, faults_fired, requests (path, query,
                                   status, fault, headers)
    DELETE /__fake/stats
    GET    /__fake/faults; POST /__fake/faults [rule, ...]; DELETE /__fake/faults
    GET    /__fake/clock; POST /__fake/clock  {"now": ISO or null, "frozen": true, "advance_seconds": N}
    POST   /__fake/gap             {"symbol": S, "start": ISO, "end": ISO}   no candles in [start, end)
    POST   /__fake/delist          {"symbol": S, "last_open": ISO}           status BREAK, history ends
    GET    /__fake/listings        symbol, base, quote, status, first_open, last_open
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from ..fakeserver.control import CommonControl, ControlClient
from ..fakeserver.process import FakeProcess


class ControlMethods(CommonControl):
    """The control surface shared by the in-process server and the remote client."""

    def add_fault(self, kind: str, **options: Any) -> dict[str, Any]:
        """Add one rule (see :mod:`tracker.sources.fakeexchange.faults`); returns it as stored."""
        return self._control("POST", "faults", [{"kind": kind, **options}])["rules"][-1]

    def calls(self, path: str | None = None) -> int:
        """API calls so far, or those to one path (``/api/v3/klines``)."""
        stats = self.stats()
        return stats["calls"] if path is None else stats["by_path"].get(path, 0)

    def add_gap(self, symbol: str, start: datetime, end: datetime) -> None:
        """Remove the candles of ``symbol`` opening in [start, end) (whole hours, at every interval)."""
        self._control("POST", "gap", {"symbol": symbol, "start": start.isoformat(), "end": end.isoformat()})

    def delist(self, symbol: str, last_open: datetime) -> None:
        """End ``symbol``'s history after the hourly candle opening at ``last_open``; status BREAK."""
        self._control("POST", "delist", {"symbol": symbol, "last_open": last_open.isoformat()})

    def listings(self) -> list[dict[str, Any]]:
        return self._control("GET", "listings")["listings"]


class FakeExchangeControl(ControlClient, ControlMethods):
    """Control a fake exchange running elsewhere, over its ``/__fake`` HTTP API."""

    NAME = "fake exchange"


class FakeExchangeProcess(FakeProcess):
    """Run ``python -m tracker.sources.fakeexchange`` in a subprocess for a ``with`` block.

    ``base_url`` is the root to give clients (and ``TRACKER_EXCHANGE_BASE_URL``); ``control``
    a :class:`FakeExchangeControl`.
    """

    MODULE = "tracker.sources.fakeexchange"
    NAME = "fake exchange"
    control_class = FakeExchangeControl
    control: FakeExchangeControl | None


__all__ = ["ControlMethods", "FakeExchangeControl", "FakeExchangeProcess"]
