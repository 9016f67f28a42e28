"""The fake exchange server: Binance (``/api/v3``) and OKX (``/api/v5``) shapes on 127.0.0.1.

One server answers both APIs from the same markets and candles, so a client of either exchange
can be pointed at its root (``fake.base_url``). It records every request (path, query, status,
fault and the request's headers, so tests can check no key is sent), counts calls per path,
injects the faults of :mod:`tracker.sources.fakeexchange.faults`, and dates every answer
(``Date`` header, ``serverTime``) by its own clock, which tests may freeze or move.

Example
-------
>>> with FakeExchange(now=datetime(2024, 3, 1)) as fake:          # doctest: +SKIP
...     fake.add_fault("rate_limit", endpoint="/api/v3/klines", retry_after=2)
...     client = ExchangeClient("binance", base_url=fake.base_url)
"""
from __future__ import annotations

import json
import logging
import threading
from calendar import timegm
from collections import Counter, deque
from datetime import datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import SplitResult

from ..fakegecko.clock import FakeClock
from ..fakeserver.http import CONTROL_PREFIX, FakeHandler, HttpApp, header_number, write_response
from . import binance, okx
from .control import ControlMethods
from .faults import BAD_GATEWAY, BAN_MESSAGE, CLOUDFRONT_403, GEO_MESSAGE, MAINTENANCE, RATE_MESSAGE, FaultBook, FaultRule
from .listings import Listing, data_end, real_listings, synthetic_listings
from .series import Series, ms

REQUEST_LOG_LIMIT = 20000


class _Handler(FakeHandler):
    server_version = "fakeexchange/1"
    logger = logging.getLogger("tracker.fakeexchange")

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(timegm(self.server.app.clock.now().timetuple()), usegmt=True)  # the fake's "now"


class FakeExchange(HttpApp, ControlMethods):
    """A fake Binance + OKX REST server.

    Parameters
    ----------
    port:
        0 picks a free port.
    data_dir:
        A folder of ``<SYM>_1h_close.csv`` real hourly closes (e.g. ``../shared/realdata/binance_spot_hourly_mark6``);
        None serves seeded synthetic markets (see :mod:`tracker.sources.fakeexchange.listings`).
    seed:
        Seed of everything synthetic.
    now:
        Freeze the fake's clock at this naive-UTC instant. None: real time, except with
        ``data_dir``, where the clock stands still where the real data ends (the close of its
        last hourly candle), so the fake behaves like an exchange whose history reaches "now".
    """

    NAME = "fake exchange"
    THREAD_NAME = "fakeexchange"
    handler_class = _Handler

    def __init__(self, *, port: int = 0, data_dir: str | Path | None = None, seed: int = 7, now: datetime | None = None,
                 listings: list[Listing] | None = None):
        found = listings if listings is not None else (real_listings(Path(data_dir)) if data_dir else synthetic_listings())
        self.listings: dict[str, Listing] = {x.symbol: x for x in found}
        self.series = Series(self.listings, seed=seed)
        if now is None and data_dir and listings is None:
            now = data_end(self.listings.values())
        self.clock = FakeClock(now)
        self.faultbook = FaultBook()
        self._init_http(port)
        self._lock = threading.Lock()
        self._reset_stats()

    # -- lifecycle (start, stop, with, port: HttpApp) ----------------------------------------

    @property
    def base_url(self) -> str:
        """The REST root to give a client: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    # -- control ----------------------------------------------------------------------------

    def _reset_stats(self) -> None:
        with self._lock:
            self._calls = 0
            self._by_path: Counter = Counter()
            self._by_status: Counter = Counter()
            self._faults_fired: Counter = Counter()
            self._requests: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def _control(self, method: str, op: str, payload: Any = None) -> Any:
        ops = {
            ("GET", "health"): lambda body: {"ok": True},
            ("GET", "stats"): lambda body: self._stats(),
            ("DELETE", "stats"): lambda body: self._reset_stats() or {"ok": True},
            ("GET", "faults"): lambda body: {"rules": self.faultbook.rules()},
            ("DELETE", "faults"): lambda body: self.faultbook.clear() or {"rules": []},
            ("POST", "faults"): self._op_faults,
            ("GET", "clock"): lambda body: self._clock_state(),
            ("POST", "clock"): self._op_clock,
            ("POST", "gap"): self._op_gap,
            ("POST", "delist"): self._op_delist,
            ("GET", "listings"): lambda body: {"listings": [_describe(x) for x in self.listings.values()]},
        }
        handler = ops.get((method, op.strip("/")))
        if handler is None:
            raise LookupError(f"no control operation {method} {CONTROL_PREFIX}/{op}")
        return handler(payload)

    def _stats(self) -> dict[str, Any]:
        with self._lock:
            return {"calls": self._calls, "by_path": dict(self._by_path), "by_status": {str(k): v for k, v in self._by_status.items()},
                    "faults_fired": dict(self._faults_fired), "requests": list(self._requests)}

    def _op_faults(self, payload: Any) -> dict[str, Any]:
        rules = payload.get("rules") if isinstance(payload, dict) else payload
        if not isinstance(rules, list):
            raise ValueError("POST /__fake/faults takes a JSON list of rules")
        for rule in [FaultRule.from_dict(r) for r in rules]:  # all valid, or none added
            self.faultbook.add(rule)
        return {"rules": self.faultbook.rules()}

    def _op_clock(self, payload: Any) -> dict[str, Any]:
        body = payload or {}
        if "now" in body:
            self.clock.set(datetime.fromisoformat(body["now"]) if body["now"] else None, frozen=body.get("frozen", True))
        if body.get("advance_seconds"):
            self.clock.advance(float(body["advance_seconds"]))
        return self._clock_state()

    def _clock_state(self) -> dict[str, Any]:
        return {"now": self.clock.now().isoformat(), "frozen": self.clock.frozen}

    def _listing(self, body: Any) -> Listing:
        symbol = (body or {}).get("symbol")
        if symbol not in self.listings:
            raise ValueError(f"unknown symbol {symbol!r}")
        return self.listings[symbol]

    def _op_gap(self, payload: Any) -> dict[str, Any]:
        listing = self._listing(payload)
        listing.gaps.append((ms(datetime.fromisoformat(payload["start"])), ms(datetime.fromisoformat(payload["end"]))))
        self.series.forget(listing.symbol)
        return _describe(listing)

    def _op_delist(self, payload: Any) -> dict[str, Any]:
        listing = self._listing(payload)
        listing.last_open, listing.status = datetime.fromisoformat(payload["last_open"]), "BREAK"
        self.series.forget(listing.symbol)
        return _describe(listing)

    # -- HTTP -------------------------------------------------------------------------------

    def _serve_request(self, handler: _Handler, method: str, url: SplitResult, params: dict[str, str]) -> None:
        self._serve_api(handler, method, url.path, url.query, params)

    def _note(self, handler: _Handler, path: str, query: str, status: int | None, fault: str | None) -> None:
        with self._lock:
            self._calls += 1
            self._by_path[path] += 1
            if status is not None:
                self._by_status[status] += 1
            if fault:
                self._faults_fired[fault] += 1
            self._requests.append({"path": path, "query": query, "status": status, "fault": fault,
                                   "headers": {k.lower(): v for k, v in handler.headers.items()}})

    def _serve_api(self, handler: _Handler, method: str, path: str, query: str, params: dict[str, str]) -> None:
        fault = self.faultbook.pick(path, params)
        if fault is not None and fault.kind == "truncated":
            status, payload = self._answer(method, path, params)
            body = json.dumps(payload, separators=(",", ":")).encode()
            self._note(handler, path, query, status, fault.kind)
            self._send(handler, status, body[: len(body) // 2], {"Content-Type": "application/json"})
            return
        if fault is not None:
            status, body, headers = self._fault_answer(fault, path)
            self._note(handler, path, query, status, fault.kind)
            if status is None:
                self.stopping.wait(fault.delay if fault.delay is not None else 30.0)
                handler.close_connection = True
                return
            self._send(handler, status, body, headers)
            return
        status, payload = self._answer(method, path, params)
        self._note(handler, path, query, status, None)
        self._send(handler, status, json.dumps(payload, separators=(",", ":")).encode(), {"Content-Type": "application/json"})

    def _answer(self, method: str, path: str, params: dict[str, str]) -> tuple[int, Any]:
        if method != "GET":
            return 405, {"code": -1000, "msg": "Method not allowed."}
        try:
            if path.startswith(binance.PREFIX + "/"):
                return 200, binance.route(self, path[len(binance.PREFIX):], params)
            if path.startswith(okx.PREFIX + "/"):
                return 200, okx.route(self, path[len(okx.PREFIX):], params)
        except (binance.BinanceError, okx.OkxError) as error:
            return error.status, error.body
        return 404, {"code": -1000, "msg": "Not found."}

    def _fault_answer(self, fault: FaultRule, path: str) -> tuple[int | None, bytes, dict[str, str]]:
        as_json = {"Content-Type": "application/json"}
        kind = fault.kind
        if kind == "timeout":
            return None, b"", {}
        if kind == "rate_limit":
            retry = fault.retry_after if fault.retry_after is not None else 1
            headers = {**as_json, **({"Retry-After": header_number(retry)} if retry != "" else {})}
            return 429, _error(path, -1003, RATE_MESSAGE, "50011", "Too Many Requests"), headers
        if kind == "ban":
            retry = float(fault.retry_after) if fault.retry_after not in (None, "") else 120.0
            until = ms(self.clock.now()) + int(retry * 1000)
            headers = {**as_json, **({"Retry-After": header_number(retry)} if fault.retry_after != "" else {})}
            return 418, _error(path, -1003, BAN_MESSAGE.format(until=until), "50011", "IP banned"), headers
        if kind == "geo_block":
            return 451, _error(path, 0, GEO_MESSAGE, "51155", "Service unavailable in your region"), as_json
        if kind == "busy_200":
            return 200, _error(path, -1008, "Server is currently overloaded with other requests. Please try again in a few minutes.",
                               "50001", "Service temporarily unavailable"), as_json
        if kind == "html_200":
            return 200, MAINTENANCE.encode(), {"Content-Type": "text/html"}
        if kind == "forbidden":
            return 403, CLOUDFRONT_403.encode(), {"Content-Type": "text/html"}
        status = int(fault.status or 500)
        headers = {"Retry-After": header_number(fault.retry_after)} if fault.retry_after is not None else {}
        if status == 502:
            return 502, BAD_GATEWAY.encode(), {"Content-Type": "text/html", **headers}
        return status, _error(path, -1008 if status == 503 else -1000, "Internal error; unable to process your request. Please try again.",
                              "50001", "Service temporarily unavailable"), {**as_json, **headers}

    def _control_request(self, method: str, op: str, payload: Any, params: dict[str, str]) -> Any:
        return self._control(method, op, payload)

    def _reply_json(self, handler: _Handler, status: int, payload: Any) -> None:
        self._send(handler, status, json.dumps(payload).encode(), {"Content-Type": "application/json"})

    def _send(self, handler: _Handler, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        write_response(handler, status, body, {"Content-Length": str(len(body)), **headers})


def _error(path: str, binance_code: int, binance_msg: str, okx_code: str, okx_msg: str) -> bytes:
    body = {"code": okx_code, "msg": okx_msg, "data": []} if path.startswith(okx.PREFIX) else {"code": binance_code, "msg": binance_msg}
    return json.dumps(body).encode()


def _describe(listing: Listing) -> dict[str, Any]:
    return {"symbol": listing.symbol, "base": listing.base, "quote": listing.quote, "status": listing.status,
            "first_open": listing.first_open.isoformat(),
            "last_open": listing.last_open.isoformat() if listing.last_open else None}


__all__ = ["CONTROL_PREFIX", "FakeExchange"]
