"""The exchange client's errors: one line each, naming the exchange, never a key (none is ever used).

Hierarchy::

    TrackerError
    └── ExchangeError            any failure talking to an exchange
        ├── GeoBlocked           HTTP 451, or 403: the exchange refuses this location
        ├── ExchangeBanned       HTTP 418: the exchange banned this IP for a while; never retried
        ├── ExchangeRateLimited  HTTP 429 whose Retry-After is longer than the client will wait
        ├── UnknownMarket        the exchange lists no such market
        └── ExchangeUnavailable  5xx, timeouts or network errors, still failing after the retries

A message names the library's parameter ``exchange_id`` in backticks, which the CLI shows as
its flag (``--exchange``), see :mod:`tracker.cli.flags`.
"""
from __future__ import annotations

from ...errors import TrackerError

# Exchanges to suggest when one refuses this location; the refusing one is left out.
ALTERNATIVES = ("okx", "bybit", "kraken", "binance")


class ExchangeError(TrackerError):
    """A failure talking to an exchange; ``exchange_id`` names it."""

    def __init__(self, message: str, *, exchange_id: str = "", parameters: tuple[str, ...] = ()):
        super().__init__(message, parameters=parameters)
        self.exchange_id = exchange_id


class GeoBlocked(ExchangeError):
    """The exchange answered 451 (or 403): it refuses requests from this location."""

    def __init__(self, exchange_id: str, status: int):
        others = [name for name in ALTERNATIVES if name != exchange_id][:2]
        super().__init__(
            f"{exchange_id} refuses requests from this location (HTTP {status}); "
            f"choose another exchange with `exchange_id`, e.g. {' or '.join(others)}",
            exchange_id=exchange_id, parameters=("exchange_id",),
        )
        self.status = status


class ExchangeBanned(ExchangeError):
    """HTTP 418: an IP ban. ``retry_after_seconds`` is its length when the exchange says it."""

    def __init__(self, exchange_id: str, retry_after_seconds: float | None):
        length = f" for {_duration(retry_after_seconds)}" if retry_after_seconds is not None else ""
        super().__init__(
            f"{exchange_id} has banned this IP address{length} (HTTP 418, after too many requests); "
            "wait until the ban ends before fetching again",
            exchange_id=exchange_id,
        )
        self.retry_after_seconds = retry_after_seconds


class ExchangeRateLimited(ExchangeError):
    """HTTP 429 asking for a longer wait than the client's cap (or with no retries left)."""

    def __init__(self, exchange_id: str, retry_after_seconds: float | None, cap_seconds: float | None = None):
        if retry_after_seconds is not None and cap_seconds is not None and retry_after_seconds > cap_seconds:
            why = f"asks to wait {_duration(retry_after_seconds)}, longer than the {_duration(cap_seconds)} the client waits"
        else:
            why = "kept answering 429 Too Many Requests after every retry"
        super().__init__(f"{exchange_id} rate limit: the exchange {why}; try again later", exchange_id=exchange_id)
        self.retry_after_seconds = retry_after_seconds


class UnknownMarket(ExchangeError):
    """The exchange has no market of this symbol."""

    def __init__(self, exchange_id: str, symbol: str):
        super().__init__(
            f"{exchange_id} has no market {symbol!r}; give a symbol such as FET/USDT or FETUSDT that `exchange_id` lists",
            exchange_id=exchange_id, parameters=("exchange_id",),
        )
        self.symbol = symbol


class ExchangeUnavailable(ExchangeError):
    """Server errors, timeouts or network failures that outlasted the retries."""


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:g}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


__all__ = ["ExchangeBanned", "ExchangeError", "ExchangeRateLimited", "ExchangeUnavailable", "GeoBlocked", "UnknownMarket"]
