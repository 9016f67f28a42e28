"""Steering a fake server, in-process or from another process, through one set of methods.

:class:`ControlMethods` defines the methods (faults, stats, membership, delisting, clock,
settings) as operations on the ``/__fake/...`` API. :class:`~tracker.sources.fakegecko.server.FakeGecko`
runs them directly; :class:`FakeGeckoControl` sends them over HTTP to a server in another
process, e.g. one started by :class:`FakeGeckoProcess` (``python -m tracker.sources.fakegecko``).

HTTP control API (JSON in, JSON out)::

    GET    /__fake/health
    GET    /__fake/stats                 calls, by_endpoint, by_status, faults_fired, rate_limited,
                                         key_in_query, requests (t, at, path, query, status, fault, auth)
    DELETE /__fake/stats                 (or POST /__fake/stats/reset)
    GET    /__fake/faults                the rules, with matched/fired counts
    POST   /__fake/faults                [rule, ...] or {"rules": [...], "replace": true}
    DELETE /__fake/faults
    GET    /__fake/members?category=ID   the category's listed members
    POST   /__fake/members               {"category": ID, "add": [...], "remove": [...], "set": [...]}
    POST   /__fake/delist, /__fake/relist  {"coins": [...]}
    GET    /__fake/clock; POST /__fake/clock  {"now": ISO or null, "frozen": true, "advance_seconds": N}
    GET    /__fake/config; POST /__fake/config  {"rate_limit_per_minute", "rate_window_seconds",
                                                 "history_limit_days", "require_key"}
    GET    /__fake/universe              coin count, delisted ids, member count per category
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import datetime
from typing import Any, Iterable, Mapping, Sequence

import requests


def _rule_dict(rule: Any) -> dict[str, Any]:
    return rule.to_dict() if hasattr(rule, "to_dict") else dict(rule)


class ControlMethods:
    """The control surface shared by the in-process server and the remote client."""

    def _control(self, method: str, op: str, payload: Any = None, query: Mapping[str, str] | None = None) -> Any:
        raise NotImplementedError

    # faults
    def add_fault(self, kind: str, **options: Any) -> dict[str, Any]:
        """Add one rule (see :mod:`tracker.sources.fakegecko.faults`); returns it as stored."""
        return self.add_faults([{"kind": kind, **options}])[-1]

    def add_faults(self, rules: Iterable[Any], *, replace: bool = False) -> list[dict[str, Any]]:
        return self._control("POST", "faults", {"rules": [_rule_dict(r) for r in rules], "replace": replace})["rules"]

    def clear_faults(self) -> None:
        self._control("DELETE", "faults")

    def faults(self) -> list[dict[str, Any]]:
        return self._control("GET", "faults")["rules"]

    # stats
    def stats(self) -> dict[str, Any]:
        """Calls in total, per endpoint template and per status; faults fired; the request log."""
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("DELETE", "stats")

    # data
    def set_members(self, category: str, *, add: Iterable[str] = (), remove: Iterable[str] = (),
                    replace_with: Iterable[str] | None = None) -> int:
        """Change a category's membership; returns the new count of listed members."""
        body: dict[str, Any] = {"category": category, "add": list(add), "remove": list(remove)}
        if replace_with is not None:
            body["set"] = list(replace_with)
        return self._control("POST", "members", body)["count"]

    def members(self, category: str) -> list[str]:
        return self._control("GET", "members", query={"category": category})["members"]

    def delist(self, coins: Iterable[str]) -> list[str]:
        """Delist coins: gone from markets and lists, 404 for their charts."""
        return self._control("POST", "delist", {"coins": list(coins)})["delisted"]

    def relist(self, coins: Iterable[str]) -> list[str]:
        return self._control("POST", "relist", {"coins": list(coins)})["delisted"]

    # clock and settings
    def data_now(self) -> datetime:
        return datetime.fromisoformat(self._control("GET", "clock")["now"])

    def set_now(self, now: datetime | None, *, frozen: bool = True) -> datetime:
        """Set the data clock (None: back to real time)."""
        payload = {"now": now.isoformat() if now is not None else None, "frozen": frozen}
        return datetime.fromisoformat(self._control("POST", "clock", payload)["now"])

    def advance(self, seconds: float) -> datetime:
        return datetime.fromisoformat(self._control("POST", "clock", {"advance_seconds": seconds})["now"])

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change rate_limit_per_minute, rate_window_seconds, history_limit_days or require_key."""
        return self._control("POST", "config", settings)


class FakeGeckoControl(ControlMethods):
    """Control a fake server running elsewhere, over its ``/__fake`` HTTP API.

    Parameters
    ----------
    url:
        The server's base URL (``http://127.0.0.1:PORT/api/v3``) or root.
    """

    def __init__(self, url: str, *, timeout: float = 10.0):
        root = url.rstrip("/")
        if root.endswith("/api/v3"):
            root = root[: -len("/api/v3")]
        self.root_url = root
        self.base_url = root + "/api/v3"
        self.timeout = timeout
        self._session = requests.Session()

    def _control(self, method: str, op: str, payload: Any = None, query: Mapping[str, str] | None = None) -> Any:
        response = self._session.request(method, f"{self.root_url}/__fake/{op}", json=payload, params=query, timeout=self.timeout)
        if response.status_code != 200:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise ValueError(f"fake server refused {method} /__fake/{op}: {message}")
        return response.json()

    def close(self) -> None:
        self._session.close()


class FakeGeckoProcess:
    """Run ``python -m tracker.sources.fakegecko`` in a subprocess for the length of a ``with`` block.

    Parameters
    ----------
    args:
        Extra command-line options, e.g. ``["--rate-limit", "30", "--host-type", "pro"]``.
    startup_timeout:
        Seconds to wait for the server to print its URL.

    Attributes
    ----------
    base_url:
        The API root to point clients (and ``COINGECKO_BASE_URL``) at.
    control:
        A :class:`FakeGeckoControl` for faults and stats.
    """

    def __init__(self, args: Sequence[str] = (), *, startup_timeout: float = 90.0, env: Mapping[str, str] | None = None):
        self.args = list(args)
        self.startup_timeout = startup_timeout
        self.env = dict(env) if env is not None else None
        self.process: subprocess.Popen | None = None
        self.base_url: str | None = None
        self.control: FakeGeckoControl | None = None

    def start(self) -> "FakeGeckoProcess":
        env = dict(os.environ if self.env is None else self.env)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracker.sources.fakegecko", "--port", "0", *self.args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(self.startup_timeout)
        url = line[0].strip() if line else ""
        if not url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the fake server did not start: {url or 'no URL printed'}")
        self.base_url = url
        self.control = FakeGeckoControl(url)
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

    def __enter__(self) -> "FakeGeckoProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


__all__ = ["ControlMethods", "FakeGeckoControl", "FakeGeckoProcess"]
