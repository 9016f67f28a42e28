"""The CoinGecko HTTP client: one polite, bounded, counted call at a time.

Every call goes through the rate limiter, carries a timeout (a total deadline, not only a
per-read one), sends the key only in the plan's header, follows no redirect (a redirect to
another host would carry the key there), and is retried per :class:`RetryPolicy`. Each HTTP
attempt, retries included, is counted: ``client.calls`` in total and per endpoint, and per job
with :meth:`CoinGeckoClient.track_calls`.

The client returns DataFrames and dicts; it knows nothing of the database.
"""
from __future__ import annotations

import contextlib
import json
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Iterator, Sequence

import pandas as pd
import requests

from .. import __version__
from .chunking import ChartChunk
from .errors import (
    CoinGeckoCancelled,
    CoinGeckoConnectionError,
    CoinGeckoError,
    CoinGeckoTimeout,
    ResponseFormatError,
    error_for_response,
    error_payload,
    one_line,
    scrub,
)
from .parsing import (
    parse_categories,
    parse_categories_list,
    parse_chart,
    parse_coins_list,
    parse_global,
    parse_markets,
)
from .plans import Plan, get_plan
from .ratelimit import RateLimiter
from .retry import RetryPolicy, parse_retry_after

log = logging.getLogger("tracker.coingecko")

MAX_PER_PAGE = 250
_READ_CHUNK = 64 * 1024


@dataclass
class CallTally:
    """HTTP attempts made while a :meth:`CoinGeckoClient.track_calls` block was open."""

    count: int = 0
    by_endpoint: Counter = field(default_factory=Counter)


@dataclass
class MarketsPage:
    """One page of ``/coins/markets``: the rows and which page it was."""

    page: int
    frame: pd.DataFrame


def _endpoint_template(path: str) -> str:
    """``/coins/bitcoin/market_chart/range`` -> ``/coins/{id}/market_chart/range`` (for counting)."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[1] == "coins" and parts[2] not in ("list", "markets", "categories"):
        parts[2] = "{id}"
    return "/".join(parts)


def _summarise(params: dict[str, Any] | None) -> str:
    if not params:
        return ""
    shown = []
    for key, value in params.items():
        value = str(value)
        if len(value) > 40:
            value = value[:37] + "..."
        shown.append(f"{key}={value}")
    return " " + " ".join(shown)


class CoinGeckoClient:
    """A synchronous CoinGecko API client.

    Parameters
    ----------
    base_url:
        The API root, e.g. ``https://api.coingecko.com/api/v3`` or a fake server's URL.
    plan:
        ``keyless``, ``demo`` or ``pro``: picks the key header and the history limit.
    api_key:
        The key for demo and pro. Sent only in the plan's header.
    session:
        A ``requests.Session`` (or anything with its ``request`` method); one is made if omitted.
    timeout:
        Seconds allowed for one HTTP attempt, from sending to the last byte.
    limiter:
        The rate limiter; by default one at the plan's conservative budget.
    retry:
        The retry policy.
    stop_event:
        When set, waits (rate limit, backoff) end at once with :class:`CoinGeckoCancelled`.
    rng:
        Random source for jitter (tests pass a seeded one).

    Examples
    --------
    >>> client = CoinGeckoClient("https://api.coingecko.com/api/v3")   # doctest: +SKIP
    >>> client.ping()                                                   # doctest: +SKIP
    '(V3) To the Moon!'
    """

    def __init__(
        self,
        base_url: str,
        *,
        plan: str | Plan = "keyless",
        api_key: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 20.0,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        stop_event: threading.Event | None = None,
        rng: random.Random | None = None,
    ):
        self.plan = plan if isinstance(plan, Plan) else get_plan(plan)
        self.base_url = base_url.rstrip("/")
        self._auth = self.plan.headers(api_key)  # raises ConfigError for demo/pro without a key
        self._secret = api_key if self.plan.needs_key else None
        self._owns_session = session is None
        self.session = session if session is not None else requests.Session()
        self.timeout = float(timeout)
        self.stop_event = stop_event
        self.limiter = limiter if limiter is not None else RateLimiter(self.plan.calls_per_minute, sleep=self._sleep)
        self.retry = retry or RetryPolicy()
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._calls = 0
        self._by_endpoint: Counter = Counter()
        self._local = threading.local()

    def __repr__(self) -> str:
        key = "key set" if self._secret else "no key"
        return f"CoinGeckoClient({self.base_url!r}, plan={self.plan.name!r}, {key})"

    # -- counting ---------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        """HTTP attempts made by this client so far, retries included."""
        with self._lock:
            return self._calls

    @property
    def calls_by_endpoint(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_endpoint)

    def reset_counters(self) -> None:
        with self._lock:
            self._calls = 0
            self._by_endpoint.clear()

    @contextlib.contextmanager
    def track_calls(self) -> Iterator[CallTally]:
        """Count the calls made by this thread inside the block (one job's calls, even when
        other threads share the client)."""
        tally = CallTally()
        stack = self._tallies()
        stack.append(tally)
        try:
            yield tally
        finally:
            stack.remove(tally)

    def _tallies(self) -> list[CallTally]:
        if not hasattr(self._local, "tallies"):
            self._local.tallies = []
        return self._local.tallies

    def _count(self, endpoint: str) -> None:
        with self._lock:
            self._calls += 1
            self._by_endpoint[endpoint] += 1
        for tally in self._tallies():
            tally.count += 1
            tally.by_endpoint[endpoint] += 1

    # -- transport --------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.stop_event is None:
            time.sleep(seconds)
            return
        if self.stop_event.wait(seconds):
            raise CoinGeckoCancelled("stopped while waiting to call CoinGecko")

    def get(self, path: str, params: dict[str, Any] | None = None, *, parse: Callable[[Any], Any] | None = None) -> Any:
        """GET ``path`` (e.g. ``/coins/markets``) and return its JSON, with limits and retries.

        ``parse``, when given, turns the JSON into the result inside the retry loop, so an
        answer it rejects as incomplete (a retryable :class:`ResponseFormatError`) is asked for
        again like any other transient failure.
        """
        endpoint = _endpoint_template(path)
        attempt = 0
        while True:
            if self.stop_event is not None and self.stop_event.is_set():
                raise CoinGeckoCancelled("stopped before calling CoinGecko", endpoint=path)
            self.limiter.acquire()
            try:
                payload = self._attempt(path, endpoint, params, attempt)
                return parse(payload) if parse is not None else payload
            except CoinGeckoError as error:
                delay = self.retry.delay_for(error, attempt, self._rng)
                if delay is None:
                    if self.retry.over_cap(error):
                        error = type(error)(
                            f"{error.message} (Retry-After {error.retry_after:g}s is longer than the "
                            f"{self.retry.retry_after_cap_seconds:g}s cap, coingecko.retry_after_cap_seconds)",
                            status=error.status, error_code=error.error_code, endpoint=error.endpoint,
                            retry_after=error.retry_after,
                        )
                    elif error.retryable:
                        log.warning("GET %s failed after %d attempt(s): %s", path, attempt + 1, error)
                    raise error from None
                log.info("GET %s: %s; retry %d/%d in %.2fs", path, error, attempt + 1, self.retry.max_retries, delay)
                if getattr(error, "retry_after", None) is not None:
                    # Hold back every caller sharing this client, not only this one.
                    self.limiter.defer(delay)
                else:
                    self._sleep(delay)
                attempt += 1

    def _attempt(self, path: str, endpoint: str, params: dict[str, Any] | None, attempt: int) -> Any:
        url = self.base_url + path
        headers = {"Accept": "application/json", "User-Agent": f"ai-token-tracker/{__version__}", **self._auth}
        started = time.monotonic()
        deadline = started + self.timeout
        self._count(endpoint)
        try:
            response = self.session.request(
                "GET", url, params=params, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except requests.Timeout as exc:
            raise CoinGeckoTimeout(f"no answer within {self.timeout:g}s ({type(exc).__name__})", endpoint=path) from None
        except requests.ConnectionError as exc:
            raise CoinGeckoConnectionError(self._transport_reason(exc), endpoint=path) from None
        except requests.RequestException as exc:
            raise CoinGeckoError(self._transport_reason(exc), endpoint=path) from None
        try:
            body = self._read_body(response, deadline, path)
        finally:
            response.close()
        elapsed_ms = (time.monotonic() - started) * 1000
        status = response.status_code
        log.debug("GET %s%s -> %d in %.0f ms (attempt %d)", path, _summarise(params), status, elapsed_ms, attempt + 1)
        content_type = response.headers.get("Content-Type", "")
        if 300 <= status < 400:
            raise CoinGeckoError(
                f"unexpected redirect (HTTP {status}); not followed, so the API key stays with {self.base_url.split('/')[2]}",
                status=status, endpoint=path,
            )
        if status >= 400:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise error_for_response(
                status, body, content_type=content_type, endpoint=path, retry_after=retry_after, secret=self._secret
            )
        try:
            payload = json.loads(body)
        except ValueError:
            # A 200 whose body is not JSON: cut short in transit, or an HTML page from a proxy.
            looks_cut = body[:1] in (b"{", b"[")
            what = f"response is not valid JSON ({len(body)} bytes{', cut short' if looks_cut else ''})"
            raise ResponseFormatError(what, retryable=True, status=status, endpoint=path) from None
        found = error_payload(payload) if isinstance(payload, dict) and set(payload) <= {"error", "status"} else None
        if found is not None:
            raise error_for_response(status, body, content_type=content_type, endpoint=path, secret=self._secret)
        return payload

    def _read_body(self, response: requests.Response, deadline: float, path: str) -> bytes:
        """Read the whole body, enforcing the total deadline between chunks."""
        parts = []
        try:
            for part in response.iter_content(_READ_CHUNK):
                parts.append(part)
                if time.monotonic() > deadline:
                    raise CoinGeckoTimeout(f"answer not complete within {self.timeout:g}s", endpoint=path)
        except requests.Timeout:
            raise CoinGeckoTimeout(f"answer not complete within {self.timeout:g}s", endpoint=path) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError) as exc:
            raise CoinGeckoConnectionError(f"connection broke while reading the answer ({type(exc).__name__})", endpoint=path) from None
        return b"".join(parts)

    def _transport_reason(self, exc: Exception) -> str:
        # requests' messages name the URL (never the key: it is only in a header) and nest the
        # cause; keep the last, most specific part.
        text = str(exc)
        if "Caused by" in text:
            text = text.split("Caused by", 1)[1].strip(" ()")
        return one_line(scrub(f"{type(exc).__name__}: {text}", self._secret), 160)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> "CoinGeckoClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def ping(self) -> str:
        """``/ping``: CoinGecko's greeting; a cheap check of the host and the key."""
        payload = self.get("/ping")
        if not isinstance(payload, dict) or "gecko_says" not in payload:
            raise ResponseFormatError("ping answered without gecko_says", endpoint="/ping")
        return str(payload["gecko_says"])

    def coins_list(self, *, status: str = "active") -> pd.DataFrame:
        """``/coins/list``: every coin's id, symbol and name (one call, no paging)."""
        return parse_coins_list(self.get("/coins/list", {"status": status}))

    def categories_list(self) -> pd.DataFrame:
        """``/coins/categories/list``: every category's id and name."""
        return parse_categories_list(self.get("/coins/categories/list"))

    def categories(self, order: str = "market_cap_desc") -> pd.DataFrame:
        """``/coins/categories``: market data for every category, in one call."""
        return parse_categories(self.get("/coins/categories", {"order": order}))

    def markets_pages(
        self,
        vs_currency: str,
        *,
        category: str | None = None,
        ids: Sequence[str] | None = None,
        per_page: int = MAX_PER_PAGE,
        order: str = "id_asc",
    ) -> Iterator[MarketsPage]:
        """``/coins/markets`` page by page, by ``category`` or by ``ids`` (never both).

        A category is paged until a page comes back short. Ids are sent in groups of
        ``per_page``, one call per group. ``order=id_asc`` keeps pages stable while market caps
        move; duplicates across pages are the caller's to drop (see :meth:`markets`).
        """
        if (category is None) == (ids is None):
            raise ValueError("give exactly one of category or ids")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        base = {"vs_currency": vs_currency, "order": order, "per_page": per_page}
        if ids is not None:
            unique = list(dict.fromkeys(ids))
            for number, start in enumerate(range(0, len(unique), per_page), 1):
                group = unique[start : start + per_page]
                payload = self.get("/coins/markets", {**base, "ids": ",".join(group), "page": 1})
                yield MarketsPage(number, parse_markets(payload))
            return
        page = 1
        while True:
            payload = self.get("/coins/markets", {**base, "category": category, "page": page})
            frame = parse_markets(payload)
            yield MarketsPage(page, frame)
            # A short page is the last. Count what CoinGecko sent, not what parsed, so a dropped
            # malformed row cannot end the paging early.
            sent = len(payload) if isinstance(payload, list) else 0
            if sent < per_page:
                return
            page += 1

    def markets(self, vs_currency: str, *, category: str | None = None, ids: Sequence[str] | None = None,
                per_page: int = MAX_PER_PAGE, order: str = "id_asc") -> pd.DataFrame:
        """All pages of ``/coins/markets`` as one frame, one row per coin id (the later page wins)."""
        frames = [p.frame for p in self.markets_pages(vs_currency, category=category, ids=ids, per_page=per_page, order=order)]
        frame = pd.concat(frames, ignore_index=True) if frames else parse_markets([])
        return frame.drop_duplicates("coin_id", keep="last").reset_index(drop=True)

    def market_chart_range(self, coin_id: str, vs_currency: str, start: datetime | int, end: datetime | int) -> pd.DataFrame:
        """``/coins/{id}/market_chart/range`` between two instants (naive UTC datetimes or UNIX seconds).

        Returns one row per timestamp: ``ts`` (naive UTC, from milliseconds), ``price``,
        ``market_cap``, ``total_volume``. The granularity follows CoinGecko's rules for the
        length asked for; see :mod:`tracker.coingecko.chunking`.
        """
        def seconds(moment: datetime | int) -> int:
            if isinstance(moment, datetime):
                return int((moment - datetime(1970, 1, 1)).total_seconds())
            return int(moment)

        if not coin_id or "/" in coin_id or "?" in coin_id:
            raise ValueError(f"not a coin id: {coin_id!r}")
        path = f"/coins/{coin_id}/market_chart/range"
        return self.get(path, {"vs_currency": vs_currency, "from": seconds(start), "to": seconds(end)},
                        parse=lambda payload: parse_chart(payload, endpoint=path))

    def market_chart_chunk(self, coin_id: str, vs_currency: str, chunk: ChartChunk) -> pd.DataFrame:
        """The raw points for one planned chunk (see :func:`tracker.coingecko.chunking.plan_history`)."""
        params = chunk.params()
        return self.market_chart_range(coin_id, vs_currency, params["from"], params["to"])

    def global_data(self) -> dict[str, Any]:
        """``/global``: totals for the whole market (``updated_at`` as a naive UTC datetime)."""
        return parse_global(self.get("/global"))


__all__ = ["CallTally", "CoinGeckoClient", "MarketsPage"]
