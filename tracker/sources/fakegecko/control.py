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

from typing import Any, Iterable

from ..fakeserver.control import CommonControl, ControlClient
from ..fakeserver.process import FakeProcess


def _rule_dict(rule: Any) -> dict[str, Any]:
    return rule.to_dict() if hasattr(rule, "to_dict") else dict(rule)


class ControlMethods(CommonControl):
    """The control surface shared by the in-process server and the remote client."""

    # faults
    def add_fault(self, kind: str, **options: Any) -> dict[str, Any]:
        """Add one rule (see :mod:`tracker.sources.fakegecko.faults`); returns it as stored."""
        return self.add_faults([{"kind": kind, **options}])[-1]

    def add_faults(self, rules: Iterable[Any], *, replace: bool = False) -> list[dict[str, Any]]:
        return self._control("POST", "faults", {"rules": [_rule_dict(r) for r in rules], "replace": replace})["rules"]

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

    # settings (faults, stats and the clock: CommonControl)
    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change rate_limit_per_minute, rate_window_seconds, history_limit_days or require_key."""
        return self._control("POST", "config", settings)


class FakeGeckoControl(ControlClient, ControlMethods):
    """Control a fake server running elsewhere, over its ``/__fake`` HTTP API.

    Parameters
    ----------
    url:
        The server's base URL (``http://127.0.0.1:PORT/api/v3``) or root.
    """

    NAME = "fake server"
    API_PREFIX = "/api/v3"


class FakeGeckoProcess(FakeProcess):
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

    MODULE = "tracker.sources.fakegecko"
    NAME = "fake server"
    control_class = FakeGeckoControl
    control: FakeGeckoControl | None


__all__ = ["ControlMethods", "FakeGeckoControl", "FakeGeckoProcess"]
