"""Every HTTP call ccxt makes for the client: counted, classified by status, retried or refused.

ccxt turns HTTP statuses into its own exception types, which vary by exchange (Binance's 429
may be ``DDoSProtection`` or ``RateLimitExceeded``, a 451 is ``ExchangeNotAvailable`` like a
502). So the client hooks ccxt's ``fetch`` and ``on_rest_response`` to see the status and
headers of each answer, and decides from those:

=========================  ==========================================================
451, 403                   :class:`GeoBlocked` at once (retrying cannot help)
418                        :class:`ExchangeBanned` at once, with the ban's length when
                           the exchange gives it (Retry-After, or Binance's
                           "banned until <ms>"): retrying into a ban lengthens it
429                        wait Retry-After (at most the cap, else
                           :class:`ExchangeRateLimited`), or back off without one
5xx, timeouts, network     back off (doubling, bounded; or Retry-After) and retry
2xx that is not JSON       the same (an HTML page or a cut-off transfer)
bad symbol                 :class:`UnknownMarket`
anything else              :class:`ExchangeError`, one line
=========================  ==========================================================
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Mapping

from ...errors import first_line
from .errors import ExchangeBanned, ExchangeError, ExchangeRateLimited, ExchangeUnavailable, GeoBlocked, UnknownMarket

_BANNED_UNTIL = re.compile(r"banned until (\d{12,14})")


@dataclass
class Answer:
    """What the last HTTP call got back."""

    status: int
    headers: Mapping[str, str]
    body: str

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None

    def server_time(self) -> datetime | None:
        """The answer's Date header as naive UTC (second resolution), or None."""
        text = self.header("Date")
        if not text:
            return None
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is not None:
            when = when.astimezone(timezone.utc).replace(tzinfo=None)
        return when


def retry_after_seconds(answer: Answer | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds (a number or an HTTP date), else Binance's "banned until <ms>"."""
    if answer is None:
        return None
    text = (answer.header("Retry-After") or "").strip()
    if text:
        try:
            return max(0.0, float(text))
        except ValueError:
            pass
        try:
            when = parsedate_to_datetime(text)
            reference = now or answer.server_time() or datetime.now(timezone.utc).replace(tzinfo=None)
            return max(0.0, (when.astimezone(timezone.utc).replace(tzinfo=None) - reference).total_seconds())
        except (TypeError, ValueError, IndexError):
            pass
    match = _BANNED_UNTIL.search(answer.body or "")
    if match:
        reference = answer.server_time() or datetime.now(timezone.utc).replace(tzinfo=None)
        until = datetime.fromtimestamp(int(match.group(1)) / 1000, timezone.utc).replace(tzinfo=None)
        return max(0.0, (until - reference).total_seconds())
    return None


class Caller:
    """Runs ccxt methods with the client's retry policy, counting the HTTP calls.

    Parameters
    ----------
    exchange:
        The ccxt exchange; its ``fetch`` and ``on_rest_response`` are wrapped.
    sleep:
        Called with the seconds to wait between attempts (tests pass a recorder).
    """

    def __init__(self, exchange: Any, exchange_id: str, *, max_retries: int, retry_after_cap_seconds: float,
                 backoff_seconds: float, backoff_max_seconds: float, sleep: Callable[[float], Any]):
        self.exchange = exchange
        self.exchange_id = exchange_id
        self.max_retries = max_retries
        self.retry_after_cap_seconds = retry_after_cap_seconds
        self.backoff_seconds = backoff_seconds
        self.backoff_max_seconds = backoff_max_seconds
        self.sleep = sleep
        self.calls = 0
        self.waits: list[float] = []
        self.last: Answer | None = None
        self._hook()

    def _hook(self) -> None:
        fetch = self.exchange.fetch
        on_rest_response = self.exchange.on_rest_response

        def counted_fetch(url, method="GET", headers=None, body=None):
            self.calls += 1
            self.last = None
            return fetch(url, method, headers, body)

        def seen(code, reason, url, method, response_headers, response_body, request_headers, request_body):
            self.last = Answer(int(code), dict(response_headers or {}), response_body or "")
            return on_rest_response(code, reason, url, method, response_headers, response_body, request_headers, request_body)

        self.exchange.fetch = counted_fetch
        self.exchange.on_rest_response = seen

    def run(self, what: str, method: Callable[..., Any], *args: Any, symbol: str | None = None) -> Any:
        """``method(*args)``, retried per the policy; ``what`` names the request in messages."""
        import ccxt

        attempt = 0
        while True:
            self.last = None
            self.exchange.last_json_response = None
            try:
                result = method(*args)
            except ccxt.BaseError as exc:
                wait = self._wait_or_raise(exc, what, attempt, symbol)
            except (TypeError, KeyError, ValueError, AttributeError, IndexError):
                if not self._unreadable():
                    raise
                wait = self._unreadable_wait(what, attempt)  # ccxt choked on a body that is not JSON
            else:
                if not self._unreadable():
                    return result
                wait = self._unreadable_wait(what, attempt)
            attempt += 1
            self.waits.append(wait)
            self.sleep(wait)

    def _unreadable(self) -> bool:
        """A 2xx answer whose body did not parse as JSON (an HTML page, a cut-off transfer)."""
        return self.last is not None and 200 <= self.last.status < 300 and self.exchange.last_json_response is None

    def _unreadable_wait(self, what: str, attempt: int) -> float:
        if attempt >= self.max_retries:
            raise ExchangeUnavailable(f"{self.exchange_id} {what} failed after {attempt + 1} attempts: the answer was not JSON",
                                      exchange_id=self.exchange_id)
        return self._backoff(attempt)

    def _wait_or_raise(self, exc: Exception, what: str, attempt: int, symbol: str | None) -> float:
        import ccxt

        answer, name = self.last, self.exchange_id
        status = answer.status if answer is not None else None
        if status in (451, 403):
            raise GeoBlocked(name, status) from None
        if status == 418:
            raise ExchangeBanned(name, retry_after_seconds(answer)) from None
        if status == 429:
            retry_after = retry_after_seconds(answer)
            if retry_after is not None and retry_after > self.retry_after_cap_seconds:
                raise ExchangeRateLimited(name, retry_after, self.retry_after_cap_seconds) from None
            if attempt >= self.max_retries:
                raise ExchangeRateLimited(name, retry_after) from None
            return retry_after if retry_after is not None else self._backoff(attempt)
        if isinstance(exc, ccxt.BadSymbol) and symbol is not None:
            raise UnknownMarket(name, symbol) from None
        # A network error, or a 2xx whose body says "busy" (OKX answers some outages with HTTP 200
        # and an error code ccxt reads as ExchangeNotAvailable); not a 404, which ccxt files alike.
        transient = (status is not None and status >= 500) or (
            isinstance(exc, ccxt.NetworkError) and (status is None or 200 <= status < 300))
        if transient:
            if attempt >= self.max_retries:
                cause = f"HTTP {status}" if status is not None else _network_cause(exc)
                raise ExchangeUnavailable(
                    f"{name} {what} failed after {attempt + 1} attempts: {cause}", exchange_id=name) from None
            retry_after = retry_after_seconds(answer) if status is not None else None
            if retry_after is not None and retry_after <= self.retry_after_cap_seconds:
                return retry_after  # a 503 may say when to come back
            return self._backoff(attempt)
        cause = f"HTTP {status}: {_short(exc)}" if status is not None else _short(exc)
        raise ExchangeError(f"{name} {what} failed: {cause}", exchange_id=name) from None

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff_max_seconds, self.backoff_seconds * (2 ** attempt))


def _network_cause(exc: Exception) -> str:
    """What went wrong below HTTP, in words, with the request ccxt names (method and URL)."""
    import ccxt

    request = _short(exc)
    if isinstance(exc, ccxt.RequestTimeout):
        return f"no answer in time ({request})"
    cause = exc.__cause__
    detail = type(cause).__name__ if cause is not None else type(exc).__name__
    return f"no connection, {detail} ({request})"


def _short(exc: Exception) -> str:
    """ccxt's message without the echoed URL noise, on one line and bounded."""
    text = first_line(exc, type(exc).__name__)
    return text if len(text) <= 200 else text[:197] + "..."


__all__ = ["Answer", "Caller", "retry_after_seconds"]
