"""When to try a failed call again, and how long to wait first.

Retried: 429, 5xx and 408, timeouts, connection errors and bodies cut short. A host that cannot
be reached at all (DNS lookup failed, connection refused, no route) is tried once more after a
short pause, not five times over a minute: offline, every retry is a wait for nothing. Never retried:
400, 401, 403, 404, 10005 (paid endpoint) and 10012 (history limit): repeating those cannot
succeed and only spends credits.

A 429 waits exactly as long as its ``Retry-After`` asks (CoinGecko has sent 119 s), plus a
little jitter, unless that is longer than the cap, in which case the call fails at once so the
job can record it and move on. Everything else backs off exponentially with jitter.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from .errors import CoinGeckoError, RateLimitError, ServerError, UnreachableError


@dataclass(frozen=True)
class RetryPolicy:
    """How many times to retry, and the waits between.

    Parameters
    ----------
    max_retries:
        Retries after the first attempt (so at most ``max_retries + 1`` calls).
    backoff_seconds:
        The first backoff; each further retry doubles it.
    backoff_max_seconds:
        The longest backoff; also the wait after a 429 that names no Retry-After (CoinGecko's
        counters are per minute, so 60 s by default).
    retry_after_cap_seconds:
        The longest Retry-After honoured; a longer one fails the call immediately.
    jitter:
        The fraction of each backoff drawn at random, so that clients do not retry in step.
    unreachable_retries:
        Retries after an :class:`~.errors.UnreachableError` (never more than ``max_retries``).
    unreachable_backoff_seconds:
        The pause before each of those retries.
    """

    max_retries: int = 5
    backoff_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    retry_after_cap_seconds: float = 300.0
    jitter: float = 0.5
    unreachable_retries: int = 1
    unreachable_backoff_seconds: float = 1.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before retry number ``attempt + 1`` (attempt counts from 0)."""
        rng = rng or random
        full = min(self.backoff_max_seconds, self.backoff_seconds * (2**attempt))
        return full * (1.0 - self.jitter * rng.random())

    def delay_for(self, error: CoinGeckoError, attempt: int, rng: random.Random | None = None) -> float | None:
        """Seconds to wait before retrying after ``error``, or None to give up.

        ``attempt`` is the number of the attempt that failed, counting from 0.
        """
        if not error.retryable or attempt >= self.max_retries:
            return None
        if isinstance(error, UnreachableError):
            return self.unreachable_backoff_seconds if attempt < self.unreachable_retries else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            if retry_after > self.retry_after_cap_seconds:
                return None
            rng = rng or random
            # Never earlier than asked; a little later so several clients do not return together.
            return retry_after + min(1.0, 0.1 * retry_after) * rng.random()
        if isinstance(error, RateLimitError):
            return self.backoff_max_seconds
        return self.backoff(attempt, rng)

    def over_cap(self, error: CoinGeckoError) -> bool:
        """True when ``error`` asked for a longer wait than this policy honours."""
        retry_after = getattr(error, "retry_after", None)
        return isinstance(error, (RateLimitError, ServerError)) and retry_after is not None and retry_after > self.retry_after_cap_seconds


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date; None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        now = now or datetime.now(timezone.utc)
        seconds = (when - now).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


__all__ = ["RetryPolicy", "parse_retry_after"]
