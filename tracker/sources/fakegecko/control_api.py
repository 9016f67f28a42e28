"""The fake server's control API: the ``/__fake/...`` operations and the rate limiter they reset.

:class:`ControlApi` carries the server side of :class:`~tracker.sources.fakegecko.control.ControlMethods`:
each operation (stats, faults, members, delisting, clock, settings, universe) runs directly on
the server's state, both for the in-process Python API and for ``/__fake/...`` HTTP requests.
The API responses themselves are served by :mod:`tracker.sources.fakegecko.server`.
"""
from __future__ import annotations

import threading
import time
from collections import Counter, deque
from datetime import datetime
from typing import Any, Mapping

from ..fakeserver.http import CONTROL_PREFIX
from .control import ControlMethods
from .faults import FaultRule

REQUEST_LOG_LIMIT = 20000
_SETTINGS = {"rate_limit_per_minute", "rate_window_seconds", "history_limit_days", "require_key"}


class WindowLimiter:
    """The server's own rate limit: at most ``limit`` requests in any ``window`` seconds.

    A small grace (2% of the window) stands for the slack of a real server's counters, so a
    client that spaces its calls exactly at the budget is not refused for network jitter.
    """

    GRACE = 0.02

    def __init__(self, limit: float | None, window: float = 60.0):
        self.limit = int(limit) if limit else None
        self.window = float(window)
        self._arrivals: deque[float] = deque()
        self._lock = threading.Lock()

    def admit(self, now: float) -> float | None:
        """None if the request may go ahead (and count it), else the seconds until one may."""
        if not self.limit:
            return None
        with self._lock:
            horizon = now - self.window * (1.0 - self.GRACE)
            while self._arrivals and self._arrivals[0] <= horizon:
                self._arrivals.popleft()
            if len(self._arrivals) >= self.limit:
                return max(0.001, self._arrivals[0] - horizon)
            self._arrivals.append(now)
            return None


class ControlApi(ControlMethods):
    """The server side of the control operations; mixed into :class:`~tracker.sources.fakegecko.server.FakeGecko`."""

    def _control(self, method: str, op: str, payload: Any = None, query: Mapping[str, str] | None = None) -> Any:
        return self._control_op(method, op, payload, dict(query or {}))

    def _reset_stats_locked(self) -> None:
        self._started = time.monotonic()
        self._calls = 0
        self._by_endpoint: Counter = Counter()
        self._by_status: Counter = Counter()
        self._faults_fired: Counter = Counter()
        self._rate_limited = 0
        self._key_in_query = 0
        self._requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def _stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {
                "calls": self._calls,
                "by_endpoint": dict(self._by_endpoint),
                "by_status": {str(k): v for k, v in self._by_status.items()},
                "faults_fired": dict(self._faults_fired),
                "rate_limited": self._rate_limited,
                "key_in_query": self._key_in_query,
                "requests": list(self._requests),
            }

    def _control_op(self, method: str, op: str, payload: Any, query: dict[str, str]) -> Any:
        op = op.strip("/")
        handler = self._operations().get((method, op))
        if handler is None:
            raise LookupError(f"no control operation {method} {CONTROL_PREFIX}/{op}")
        return handler(payload, query)

    def _operations(self) -> dict[tuple[str, str], Any]:
        return {
            ("GET", "health"): lambda payload, query: {"ok": True, "host_type": self.host_type},
            ("GET", "stats"): lambda payload, query: self._stats(),
            ("DELETE", "stats"): self._op_reset_stats,
            ("POST", "stats/reset"): self._op_reset_stats,
            ("GET", "faults"): lambda payload, query: {"rules": self.faultbook.rules()},
            ("DELETE", "faults"): self._op_clear_faults,
            ("POST", "faults"): self._op_add_faults,
            ("GET", "members"): self._op_members,
            ("POST", "members"): self._op_set_members,
            ("POST", "delist"): lambda payload, query: self._op_listing(self.universe.delist, payload),
            ("POST", "relist"): lambda payload, query: self._op_listing(self.universe.relist, payload),
            ("GET", "clock"): lambda payload, query: self._clock_state(),
            ("POST", "clock"): self._op_clock,
            ("PUT", "clock"): lambda payload, query: self._clock_state(),  # as before the split: other methods read it
            ("DELETE", "clock"): lambda payload, query: self._clock_state(),
            ("GET", "config"): lambda payload, query: self._config(),
            ("POST", "config"): self._op_configure,
            ("GET", "universe"): lambda payload, query: self.universe.summary(),
        }

    def _op_reset_stats(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        with self._stats_lock:
            self._reset_stats_locked()
        return {"ok": True}

    def _op_clear_faults(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        self.faultbook.clear()
        return {"rules": []}

    def _op_add_faults(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        rules = payload.get("rules") if isinstance(payload, dict) else payload
        if not isinstance(rules, list):
            raise ValueError("POST /__fake/faults takes a JSON list of rules, or {\"rules\": [...]}")
        parsed = [FaultRule.from_dict(r) for r in rules]  # all valid, or none added
        if isinstance(payload, dict) and payload.get("replace"):
            self.faultbook.clear()
        for rule in parsed:
            self.faultbook.add(rule)
        return {"rules": self.faultbook.rules()}

    def _op_members(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        category = query.get("category", "")
        if category not in self.universe.categories:
            raise ValueError(f"unknown category {category!r}")
        return {"category": category, "members": [c.coin_id for c in self.universe.members(category, self.clock.now())]}

    def _op_set_members(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        body = _object(payload)
        category = body.get("category")
        if not isinstance(category, str) or not category:
            raise ValueError("members needs a category")
        count = self.universe.set_members(
            category, add=_strings(body.get("add", [])), remove=_strings(body.get("remove", [])),
            replace_with=_strings(body["set"]) if body.get("set") is not None else None, name=body.get("name"),
        )
        return {"category": category, "count": count}

    def _op_listing(self, change: Any, payload: Any) -> dict[str, Any]:
        change(_strings(_object(payload).get("coins", [])))
        return {"delisted": [c.coin_id for c in self.universe.delisted_coins()]}

    def _op_clock(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        body = _object(payload)
        if "now" in body:
            now = body["now"]
            self.clock.set(datetime.fromisoformat(now.replace("Z", "")) if now else None, frozen=body.get("frozen", True))
        if body.get("advance_seconds"):
            self.clock.advance(float(body["advance_seconds"]))
        return self._clock_state()

    def _clock_state(self) -> dict[str, Any]:
        return {"now": self.clock.now().isoformat(), "frozen": self.clock.frozen}

    def _op_configure(self, payload: Any, query: dict[str, str]) -> dict[str, Any]:
        body = _object(payload)
        unknown = sorted(set(body) - _SETTINGS)
        if unknown:
            raise ValueError(f"unknown setting(s): {', '.join(unknown)}")
        if "rate_limit_per_minute" in body or "rate_window_seconds" in body:
            limit = body.get("rate_limit_per_minute", self._rate_per_window)
            window = float(body.get("rate_window_seconds", self.limiter.window))
            self.limiter = WindowLimiter(limit, window)
            self._rate_per_window = limit
        if "history_limit_days" in body:
            self.history_limit_days = body["history_limit_days"]
        if "require_key" in body:
            self.require_key = bool(body["require_key"])
        return self._config()

    def _config(self) -> dict[str, Any]:
        return {
            "host_type": self.host_type, "rate_limit_per_minute": self._rate_per_window,
            "rate_window_seconds": self.limiter.window, "history_limit_days": self.history_limit_days,
            "require_key": self.require_key,
        }

    def _control_request(self, method: str, op: str, payload: Any, params: dict[str, str]) -> Any:
        """A ``/__fake/...`` request (read and answered by :class:`~tracker.sources.fakeserver.http.HttpApp`)."""
        return self._control_op(method, op, payload, params)


def _object(payload: Any) -> dict[str, Any]:
    if payload is None:
        return {}
    if not isinstance(payload, dict):
        raise ValueError("expected a JSON object")
    return payload


def _strings(values: Any) -> list[str]:
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError("expected a list of ids")
    return values
