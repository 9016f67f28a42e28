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

import os
import subprocess
import sys
import threading
from datetime import datetime
from typing import Any, Mapping, Sequence

import requests


class ControlMethods:
    """The control surface shared by the in-process server and the remote client."""

    def _control(self, method: str, op: str, payload: Any = None) -> Any:
        raise NotImplementedError

    def add_fault(self, kind: str, **options: Any) -> dict[str, Any]:
        """Add one rule (see :mod:`tracker.sources.fakeexchange.faults`); returns it as stored."""
        return self._control("POST", "faults", [{"kind": kind, **options}])["rules"][-1]

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def faults(self) -> list[dict[str, Any]]:
        return self._control("GET", "faults")["rules"]

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("DELETE", "stats")

    def calls(self, path: str | None = None) -> int:
        """API calls so far, or those to one path (``/api/v3/klines``)."""
        stats = self.stats()
        return stats["calls"] if path is None else stats["by_path"].get(path, 0)

    def set_now(self, now: datetime | None, *, frozen: bool = True) -> datetime:
        payload = {"now": now.isoformat() if now is not None else None, "frozen": frozen}
        return datetime.fromisoformat(self._control("POST", "clock", payload)["now"])

    def advance(self, seconds: float) -> datetime:
        return datetime.fromisoformat(self._control("POST", "clock", {"advance_seconds": seconds})["now"])

    def data_now(self) -> datetime:
        return datetime.fromisoformat(self._control("GET", "clock")["now"])

    def add_gap(self, symbol: str, start: datetime, end: datetime) -> None:
        """Remove the candles of ``symbol`` opening in [start, end) (whole hours, at every interval)."""
        self._control("POST", "gap", {"symbol": symbol, "start": start.isoformat(), "end": end.isoformat()})

    def delist(self, symbol: str, last_open: datetime) -> None:
        """End ``symbol``'s history after the hourly candle opening at ``last_open``; status BREAK."""
        self._control("POST", "delist", {"symbol": symbol, "last_open": last_open.isoformat()})

    def listings(self) -> list[dict[str, Any]]:
        return self._control("GET", "listings")["listings"]


class FakeExchangeControl(ControlMethods):
    """Control a fake exchange running elsewhere, over its ``/__fake`` HTTP API."""

    def __init__(self, url: str, *, timeout: float = 10.0):
        self.root_url = url.rstrip("/")
        self.base_url = self.root_url
        self.timeout = timeout
        self._session = requests.Session()

    def _control(self, method: str, op: str, payload: Any = None) -> Any:
        response = self._session.request(method, f"{self.root_url}/__fake/{op}", json=payload, timeout=self.timeout)
        if response.status_code != 200:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise ValueError(f"fake exchange refused {method} /__fake/{op}: {message}")
        return response.json()

    def close(self) -> None:
        self._session.close()


class FakeExchangeProcess:
    """Run ``python -m tracker.sources.fakeexchange`` in a subprocess for a ``with`` block.

    ``base_url`` is the root to give clients (and ``TRACKER_EXCHANGE_BASE_URL``); ``control``
    a :class:`FakeExchangeControl`.
    """

    def __init__(self, args: Sequence[str] = (), *, startup_timeout: float = 30.0, env: Mapping[str, str] | None = None):
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.env = dict(env) if env is not None else None
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.control: FakeExchangeControl | None = None

    def start(self) -> "FakeExchangeProcess":
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.process = subprocess.Popen([sys.executable, "-m", "tracker.sources.fakeexchange", "--port", "0", *self.args],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        url = line[0].strip() if line else ""
        if not url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the fake exchange did not start: {url or 'no URL printed'}")
        self.base_url = url
        self.control = FakeExchangeControl(url)
        return self

    def stop(self) -> None:
        if self.control is not None:
            self.control.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()

    def __enter__(self) -> "FakeExchangeProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["ControlMethods", "FakeExchangeControl", "FakeExchangeProcess"]
