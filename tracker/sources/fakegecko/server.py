"""The fake CoinGecko server: real HTTP on 127.0.0.1, an ephemeral port, faults on demand.

It serves the endpoints the tracker uses under ``/api/v3`` (plus ``/coins/{id}/market_chart``
and, on a Pro host, ``/key``), enforces a rate limit, checks the key header for its host type
(10010/10011 for a key of the wrong type), refuses history older than 365 days to keyless and
Demo callers (10012), and injects the faults listed in :mod:`tracker.sources.fakegecko.faults`.

It is controlled the same way in-process and from another process: every control method of
:class:`FakeGecko` is an operation on the ``/__fake/...`` HTTP API (served by
:mod:`tracker.sources.fakegecko.control_api`), which :class:`tracker.sources.fakegecko.control.FakeGeckoControl`
calls remotely. This module serves the API responses.

Example
-------
>>> with FakeGecko() as fake:                                   # doctest: +SKIP
...     fake.add_fault("rate_limit", endpoint="/coins/markets", retry_after=1)
...     client = CoinGeckoClient(fake.base_url)
"""
from __future__ import annotations

import json
import logging
import math
import socket
import struct
import threading
import time
from datetime import datetime
from typing import Any, Iterable, Mapping
from urllib.parse import SplitResult

from ..fakeserver.http import FakeHandler, HttpApp, header_number, write_response
from .clock import FakeClock, real_utcnow
from .control_api import CONTROL_PREFIX, ControlApi, WindowLimiter
from .faults import (
    CLOUDFLARE_403,
    CLOUDFLARE_502,
    DRIFT_KINDS,
    RATE_LIMIT_MESSAGE,
    FaultBook,
    FaultRule,
    apply_drift,
    status_body,
)
from .responses import ApiError, Market, finite
from .universe import Universe, generate

API_PREFIX = "/api/v3"
HOST_TYPES = ("public", "pro")
_NOT_PATH = {"error": "Incorrect path. Please check https://www.coingecko.com/api/documentation"}


def endpoint_template(path: str) -> str:
    """``/coins/bitcoin/market_chart/range`` -> ``/coins/{id}/market_chart/range``."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "coins" and parts[2] not in ("list", "markets", "categories"):
        parts[2] = "{id}"
    return "/".join(parts)


class _Handler(FakeHandler):
    server_version = "fakegecko/1"
    logger = logging.getLogger("tracker.fakegecko")

    def do_PUT(self) -> None:
        self.server.app._dispatch(self, "PUT")


class FakeGecko(ControlApi, HttpApp):
    """A fake CoinGecko API server.

    Parameters
    ----------
    port:
        0 picks a free port.
    host_type:
        ``public`` (api.coingecko.com: keyless or Demo key) or ``pro`` (pro-api: Pro key).
    universe:
        The coins and categories; by default :func:`~tracker.sources.fakegecko.universe.generate` with
        ``seed``, ``ai_coins`` and ``other_coins``.
    rate_limit_per_minute, rate_window_seconds:
        The enforced limit: at most this many requests per window (None: no limit).
    history_limit_days:
        History window for keyless and Demo callers (10012 beyond); Pro callers have none.
    demo_keys, pro_keys:
        Keys accepted (None accepts any non-empty key of the right type).
    require_key:
        Refuse keyless callers on the public host (10002), as CoinGecko increasingly does.
    now:
        Freeze the data clock at this naive-UTC instant (None: real time).
    """

    NAME = "fake server"
    THREAD_NAME = "fakegecko"
    handler_class = _Handler

    def __init__(
        self,
        *,
        port: int = 0,
        host_type: str = "public",
        universe: Universe | None = None,
        seed: int = 7,
        ai_coins: int = 300,
        other_coins: int = 150,
        rate_limit_per_minute: float | None = None,
        rate_window_seconds: float = 60.0,
        history_limit_days: int | None = 365,
        demo_keys: Iterable[str] | None = None,
        pro_keys: Iterable[str] | None = None,
        require_key: bool = False,
        now: datetime | None = None,
    ):
        if host_type not in HOST_TYPES:
            raise ValueError(f"host_type must be one of {HOST_TYPES}")
        self.host_type = host_type
        self.universe = universe or generate(seed=seed, ai_coins=ai_coins, other_coins=other_coins)
        self.market = Market(self.universe)
        self.clock = FakeClock(now)
        self.faultbook = FaultBook()
        self.limiter = WindowLimiter(rate_limit_per_minute, rate_window_seconds * 1.0)
        self._rate_per_window = rate_limit_per_minute
        self.history_limit_days = history_limit_days
        self.demo_keys = set(demo_keys) if demo_keys is not None else None
        self.pro_keys = set(pro_keys) if pro_keys is not None else None
        self.require_key = require_key
        self._init_http(port)
        self._stats_lock = threading.Lock()
        self._reset_stats_locked()

    # -- lifecycle (start, stop, with, port: HttpApp) ----------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The API root to give a client, e.g. ``http://127.0.0.1:PORT/api/v3``."""
        return self.root_url + API_PREFIX

    # -- control (the same operations serve the Python API and /__fake/...: ControlApi) -----

    # -- HTTP -------------------------------------------------------------------------------

    def _dispatch(self, handler: _Handler, method: str) -> None:
        handler.arrived = time.monotonic()  # when the request line was read: what the rate limit counts
        super()._dispatch(handler, method)

    def _serve_request(self, handler: _Handler, method: str, url: SplitResult, params: dict[str, str]) -> None:
        if url.path.startswith(API_PREFIX + "/") or url.path == API_PREFIX:
            self._serve_api(handler, method, url.path[len(API_PREFIX) :] or "/", url.query, params)
        else:
            self._send_json(handler, 404, _NOT_PATH)

    def _note(self, handler: _Handler, *, path: str, template: str, query: str, status: int | None, fault: str | None,
              auth: str | None, rate_limited: bool = False) -> None:
        arrived = getattr(handler, "arrived", time.monotonic())
        with self._stats_lock:
            self._calls += 1
            self._by_endpoint[template] += 1
            if status is not None:
                self._by_status[status] += 1
            if fault:
                self._faults_fired[fault] += 1
            if rate_limited:
                self._rate_limited += 1
            self._requests.append({
                "t": round(arrived - self._started, 6),
                "at": real_utcnow().isoformat(timespec="milliseconds"),
                "path": path, "endpoint": template, "query": query, "status": status,
                "fault": fault, "auth": auth,
            })

    def _authenticate(self, handler: _Handler, params: dict[str, str]) -> tuple[str | None, ApiError | None]:
        demo = handler.headers.get("x-cg-demo-api-key") or params.get("x_cg_demo_api_key")
        pro = handler.headers.get("x-cg-pro-api-key") or params.get("x_cg_pro_api_key")
        if "x_cg_demo_api_key" in params or "x_cg_pro_api_key" in params:
            with self._stats_lock:
                self._key_in_query += 1
        now = self.clock.now()
        if self.host_type == "public":
            if pro:
                return "pro", ApiError(400, status_body(10010, "If you are using Pro API key, please change your root URL from api.coingecko.com to pro-api.coingecko.com", timestamp=now))
            if demo:
                if self.demo_keys is not None and demo not in self.demo_keys:
                    return "demo", ApiError(401, status_body(10002, "Invalid API Key. Please make sure you're using the right key.", timestamp=now))
                return "demo", None
            if self.require_key:
                return None, ApiError(401, status_body(10002, "API Key Missing. Please make sure you're using the right authentication method.", timestamp=now))
            return "keyless", None
        if demo and not pro:
            return "demo", ApiError(400, status_body(10011, "If you are using Demo API key, please change your root URL from pro-api.coingecko.com to api.coingecko.com", timestamp=now))
        if not pro:
            return None, ApiError(401, status_body(10002, "API Key Missing. Please make sure you're using the right authentication method.", timestamp=now))
        if self.pro_keys is not None and pro not in self.pro_keys:
            return "pro", ApiError(401, status_body(10002, "Invalid API Key. Please make sure you're using the right key.", timestamp=now))
        return "pro", None

    def _route(self, path: str, template: str, params: dict[str, str], auth: str | None, fault: FaultRule | None) -> Any:
        now = self.clock.now()
        limit = None if auth == "pro" else self.history_limit_days
        m = self.market
        if path == "/ping":
            return m.ping()
        if path == "/coins/list":
            return m.coins_list(now, params)
        if path == "/coins/categories/list":
            return m.categories_list()
        if path == "/coins/categories":
            return m.categories(now, params)
        if path == "/coins/markets":
            return m.markets(now, params, shift=1 if fault is not None and fault.kind == "rank_shift" else 0)
        if template == "/coins/{id}/market_chart/range":
            return m.chart_range(path.split("/")[2], now, params, limit)
        if template == "/coins/{id}/market_chart":
            return m.chart_days(path.split("/")[2], now, params, limit)
        if template == "/coins/{id}/tickers":
            return m.tickers(path.split("/")[2], now, params)
        if path == "/global":
            return m.global_data(now)
        if path == "/key":
            if self.host_type != "pro":
                raise ApiError(401, status_body(10005, "This request is limited Pro API subscribers. Please visit https://www.coingecko.com/en/api/pricing"))
            return m.key_usage(self._calls, self._rate_per_window)
        raise ApiError(404, _NOT_PATH)

    def _serve_api(self, handler: _Handler, method: str, path: str, query: str, params: dict[str, str]) -> None:
        template = endpoint_template(path)
        if method != "GET":
            self._note(handler, path=path, template=template, query=query, status=405, fault=None, auth=None)
            self._send_json(handler, 405, {"error": "Method not allowed"})
            return
        wait = self.limiter.admit(handler.arrived)
        if wait is not None:
            self._note(handler, path=path, template=template, query=query, status=429, fault=None, auth=None, rate_limited=True)
            self._send_json(handler, 429, status_body(429, RATE_LIMIT_MESSAGE), {"Retry-After": str(max(1, math.ceil(wait)))})
            return
        auth, refusal = self._authenticate(handler, params)
        if refusal is not None:
            self._note(handler, path=path, template=template, query=query, status=refusal.status, fault=None, auth=auth)
            self._send_json(handler, refusal.status, refusal.body, refusal.headers)
            return
        fault = self.faultbook.pick(path, template, params)
        kind = fault.kind if fault else None
        if fault is not None and self._serve_fault(handler, fault, path, template, query, auth):
            return
        try:
            payload = self._route(path, template, params, auth, fault)
        except ApiError as error:
            self._note(handler, path=path, template=template, query=query, status=error.status, fault=kind, auth=auth)
            self._send_json(handler, error.status, error.body, error.headers)
            return
        if kind in DRIFT_KINDS:
            payload = apply_drift(kind, template, payload, fault.fields)
        body = _dumps(payload)
        if kind == "truncated":
            self._note(handler, path=path, template=template, query=query, status=200, fault=kind, auth=auth)
            self._send(handler, 200, body[: len(body) // 2], "application/json")
            return
        if kind == "truncated_transfer":
            self._note(handler, path=path, template=template, query=query, status=200, fault=kind, auth=auth)
            self._send(handler, 200, body[: len(body) // 2], "application/json", content_length=len(body))
            handler.close_connection = True
            return
        self._note(handler, path=path, template=template, query=query, status=200, fault=kind, auth=auth)
        self._send(handler, 200, body, "application/json")

    def _serve_fault(self, handler: _Handler, fault: FaultRule, path: str, template: str, query: str, auth: str | None) -> bool:
        """Answer a fault that replaces the normal answer; False for faults that alter it instead."""
        kind = fault.kind

        def note(status: int | None) -> None:
            self._note(handler, path=path, template=template, query=query, status=status, fault=kind, auth=auth)

        if kind == "slow":
            self.stopping.wait(fault.delay if fault.delay is not None else 2.0)
            return False
        if kind == "timeout":
            note(None)
            self.stopping.wait(fault.delay if fault.delay is not None else 60.0)
            handler.close_connection = True
            return True
        if kind == "reset":
            note(None)
            _reset(handler)
            return True
        if kind == "rate_limit":
            note(429)
            retry_after = fault.retry_after if fault.retry_after is not None else 1
            headers = {"Retry-After": header_number(retry_after)} if retry_after != "" else {}
            self._send_json(handler, 429, status_body(429, RATE_LIMIT_MESSAGE), headers)
            return True
        if kind == "throttled":
            note(429)
            self._send(handler, 429, b"Throttled", "text/plain")
            return True
        if kind == "server_error":
            status = int(fault.status or 500)
            note(status)
            headers = {"Retry-After": header_number(fault.retry_after)} if fault.retry_after is not None else {}
            if status == 502:
                self._send(handler, 502, CLOUDFLARE_502.encode(), "text/html; charset=UTF-8", headers=headers)
            elif status == 503:
                self._send_json(handler, 503, status_body(503, "The service is temporarily unavailable. Please check https://status.coingecko.com"), headers)
            else:
                self._send_json(handler, status, {"error": "Internal server error"}, headers)
            return True
        if kind == "cloudflare_403":
            note(403)
            self._send(handler, 403, CLOUDFLARE_403.encode(), "text/html; charset=UTF-8")
            return True
        if kind == "not_found":
            note(404)
            self._send_json(handler, 404, {"error": "coin not found"})
            return True
        if kind == "history_limit":
            note(401)
            from .faults import HISTORY_LIMIT_MESSAGE
            self._send_json(handler, 401, {"error": status_body(10012, HISTORY_LIMIT_MESSAGE, timestamp=self.clock.now())})
            return True
        if kind == "paid_only":
            note(401)
            self._send_json(handler, 401, status_body(10005, "This request is limited Pro API subscribers. Please visit https://www.coingecko.com/en/api/pricing"))
            return True
        if kind == "bad_request":
            note(400)
            self._send_json(handler, 400, {"error": "Missing parameter vs_currency"})
            return True
        if kind == "unauthorized":
            note(401)
            self._send_json(handler, 401, status_body(10002, "API Key Missing. Please make sure you're using the right authentication method.", timestamp=self.clock.now()))
            return True
        if kind == "error_200":
            note(200)
            self._send_json(handler, 200, {"error": "Something went wrong, please try again later"})
            return True
        return False  # truncated*, drift_*, rank_shift: the normal answer, altered

    # -- writing ----------------------------------------------------------------------------

    def _send_json(self, handler: _Handler, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        self._send(handler, status, _dumps(payload), "application/json", headers=headers)

    def _reply_json(self, handler: _Handler, status: int, payload: Any) -> None:
        self._send_json(handler, status, payload)

    def _send(self, handler: _Handler, status: int, body: bytes, content_type: str, *,
              headers: Mapping[str, str] | None = None, content_length: int | None = None) -> None:
        length = str(len(body) if content_length is None else content_length)
        write_response(handler, status, body, {"Content-Type": content_type, "Content-Length": length, **(headers or {})})


def _dumps(payload: Any) -> bytes:
    try:
        return json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except ValueError:
        pass  # a NaN or infinity somewhere: JSON has no such numbers, so send null

    def clean(value: Any) -> Any:
        if isinstance(value, float):
            return finite(value)
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    return json.dumps(clean(payload), separators=(",", ":")).encode("utf-8")


def _reset(handler: _Handler) -> None:
    """Close the connection with a TCP RST instead of answering."""
    handler.close_connection = True
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    except OSError:
        pass


__all__ = ["API_PREFIX", "CONTROL_PREFIX", "FakeGecko", "WindowLimiter", "endpoint_template"]
