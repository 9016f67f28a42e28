"""The CoinGecko HTTP client: one polite, bounded, counted call at a time.

The endpoints it serves (``ping``, ``markets``, ``market_chart_range`` ...) are in
:mod:`tracker.sources.coingecko.endpoints`; this module is the transport under them.

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
from typing import Any, Callable, Iterator

import requests

from ... import __version__
from ...urls import mask_url, mask_urls
from .endpoints import MAX_PER_PAGE, Endpoints
from .errors import (
    CoinGeckoCancelled,
    CoinGeckoConnectionError,
    CoinGeckoError,
    CoinGeckoTimeout,
    ResponseFormatError,
    UnreachableError,
    error_for_response,
    error_payload,
    one_line,
    scrub,
    unreachable,
    unreachable_reason,
)
from .plans import Plan, get_plan
from .ratelimit import RateLimiter
from .retry import RetryPolicy, parse_retry_after

log = logging.getLogger("tracker.coingecko")

_READ_CHUNK = 64 * 1024


@dataclass
class CallTally:
    """HTTP attempts made while a :meth:`CoinGeckoClient.track_calls` block was open."""

    count: int = 0
    by_endpoint: Counter = field(default_factory=Counter)
    # The last call's error when it means "no call can succeed now": the host cannot be reached
    # (UnreachableError) or the caller asked to stop (CoinGeckoCancelled). A later call that
    # succeeds clears it. Jobs read it to stop at once and to record how their run ended.
    halted: CoinGeckoError | None = None
    # Rows of /coins/markets and /coins/categories dropped for having no id (schema drift).
    rows_dropped: int = 0


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


class CoinGeckoClient(Endpoints):
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
    calls_per_minute:
        The budget for the default limiter (default: the plan's conservative figure).
    limiter:
        A limiter to use instead (e.g. one shared by several clients).
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
        calls_per_minute: float | None = None,
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
        self.limiter = limiter if limiter is not None else RateLimiter(calls_per_minute or self.plan.calls_per_minute, sleep=self._sleep)
        self.retry = retry or RetryPolicy()
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._calls = 0
        self._by_endpoint: Counter = Counter()
        self._local = threading.local()

    def __repr__(self) -> str:
        key = "key set" if self._secret else "no key"
        return f"CoinGeckoClient({mask_url(self.base_url)!r}, plan={self.plan.name!r}, {key})"

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

    def _halted(self, error: CoinGeckoError | None) -> None:
        for tally in self._tallies():
            tally.halted = error

    def _count_dropped(self, payload: Any, frame) -> None:
        """Count the rows a keyed parser left out: every row it keeps becomes one frame row."""
        dropped = len(payload) - len(frame) if isinstance(payload, list) else 0
        for tally in self._tallies():
            tally.rows_dropped += dropped

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
                raise self._halt(CoinGeckoCancelled("stopped before calling CoinGecko", endpoint=path))
            try:
                self.limiter.acquire()
                payload = self._attempt(path, endpoint, params, attempt)
                result = parse(payload) if parse is not None else payload
            except CoinGeckoCancelled as error:
                raise self._halt(error) from None
            except CoinGeckoError as error:
                delay = self.retry.delay_for(error, attempt, self._rng)
                if delay is None:
                    raise self._give_up(error, path, attempt) from None
                # Offline, a retry line per call says nothing the run's one line does not.
                level = logging.DEBUG if isinstance(error, UnreachableError) else logging.INFO
                log.log(level, "GET %s: %s; retry %d/%d in %.2fs", path, error, attempt + 1, self.retry.max_retries, delay)
                if getattr(error, "retry_after", None) is not None:
                    # Hold back every caller sharing this client, not only this one.
                    self.limiter.defer(delay)
                else:
                    try:
                        self._sleep(delay)
                    except CoinGeckoCancelled as cancelled:
                        raise self._halt(cancelled) from None
                attempt += 1
            else:
                self._halted(None)
                return result

    def _halt(self, error: CoinGeckoError) -> CoinGeckoError:
        self._halted(error)
        return error

    def _give_up(self, error: CoinGeckoError, path: str, attempt: int) -> CoinGeckoError:
        """The error to raise once no retry is left (logged here only when the caller's own
        record of it would not say enough)."""
        if isinstance(error, UnreachableError):
            return self._halt(error)  # the job stops on it and says so in one line
        if self.retry.over_cap(error):
            return type(error)(
                f"{error.message} (Retry-After {error.retry_after:g}s is longer than the "
                f"{self.retry.retry_after_cap_seconds:g}s cap, coingecko.retry_after_cap_seconds)",
                status=error.status, error_code=error.error_code, endpoint=error.endpoint,
                retry_after=error.retry_after,
            )
        if error.retryable:
            log.warning("GET %s failed after %d attempt(s): %s", path, attempt + 1, error)
            if getattr(error, "retry_after", None) is not None:
                # Out of retries, but the server's pause still holds for the next
                # call, whichever caller makes it.
                self.limiter.defer(error.retry_after)
        return error

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
            reason = unreachable_reason(exc)
            if reason is None:
                raise CoinGeckoConnectionError(self._transport_reason(exc), endpoint=path) from None
            refund = getattr(self.limiter, "refund", None)
            if refund is not None:
                refund()  # nothing answered: the server's budget is untouched
            raise unreachable(self.base_url, reason, endpoint=path) from None
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
                f"unexpected redirect (HTTP {status}); not followed, so the API key stays with {mask_url(self.base_url).split('/')[2]}",
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
        return one_line(mask_urls(scrub(f"{type(exc).__name__}: {text}", self._secret)), 160)

    def close(self) -> None:
        if self._owns_session:
            self.session.close()

    def __enter__(self) -> "CoinGeckoClient":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


__all__ = ["CallTally", "CoinGeckoClient", "MAX_PER_PAGE"]
