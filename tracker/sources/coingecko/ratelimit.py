"""A client-side limiter that keeps a run inside its calls-per-minute budget.

Calls are spaced at least ``60 / calls_per_minute`` seconds apart, measured from when each call
was actually let through. Even spacing (rather than a bucket that allows bursts) guarantees that
no 60-second window ever holds more than the budget, and it is what CoinGecko's per-minute
counters reward. After a 429, :meth:`RateLimiter.defer` holds every caller back until the
server's Retry-After has passed, so threads sharing one client do not keep knocking.
"""
from __future__ import annotations

import threading
import time
from typing import Callable


class RateLimiter:
    """Thread-safe even spacing of calls.

    Parameters
    ----------
    calls_per_minute:
        The budget; 0 or None disables the limiter (tests of the fake server's own limit).
    clock:
        Monotonic seconds; injectable for tests.
    sleep:
        ``sleep(seconds)``; injectable, e.g. to wake early when a daemon stops. It may return
        early: the limiter re-checks the clock and waits again.
    """

    def __init__(
        self,
        calls_per_minute: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if calls_per_minute is not None and calls_per_minute < 0:
            raise ValueError("calls_per_minute must not be negative")
        self.calls_per_minute = calls_per_minute or None
        self.interval = 60.0 / calls_per_minute if calls_per_minute else 0.0
        self._clock = clock
        self._sleep = sleep
        self._state = threading.Lock()      # guards _next_allowed
        self._turnstile = threading.Lock()  # one waiter at a time, so spacing holds across threads
        self._next_allowed = float("-inf")
        self._granted = threading.local()   # (the slot before, the slot this thread was given)
        self.waited_seconds = 0.0           # total time callers were held back (for run details)

    def acquire(self) -> float:
        """Wait until a call may start; return how long this caller waited."""
        waited = 0.0
        with self._turnstile:
            while True:
                with self._state:
                    now = self._clock()
                    wait = self._next_allowed - now
                    if wait <= 0:
                        self._granted.last = (self._next_allowed, now + self.interval)
                        self._next_allowed = now + self.interval
                        self.waited_seconds += waited
                        return waited
                self._sleep(wait)
                waited += wait

    def refund(self) -> None:
        """Give back this thread's last slot: its call never reached the server (nothing
        answered at the address), so it spent none of the server's budget. A no-op once another
        call has taken a later slot."""
        granted = getattr(self._granted, "last", None)
        if granted is None:
            return
        with self._state:
            before, given = granted
            if self._next_allowed == given:
                self._next_allowed = before
            self._granted.last = None

    def defer(self, seconds: float) -> None:
        """Let no call start for ``seconds`` from now (e.g. a 429's Retry-After)."""
        with self._state:
            self._next_allowed = max(self._next_allowed, self._clock() + max(0.0, seconds))

    def __repr__(self) -> str:
        rate = f"{self.calls_per_minute:g}/min" if self.calls_per_minute else "unlimited"
        return f"RateLimiter({rate})"


__all__ = ["RateLimiter"]
