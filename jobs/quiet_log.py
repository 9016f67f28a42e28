"""Keeping a daemon's log readable when something fails over and over (offline, rate-limited).

Two tools:

- :class:`RepeatedFailureLog`: per job, the first failure is logged in full with the time of
  the next try; the same failure again is silent (a reminder every half hour says how many
  times in a row), and the first success after says it recovered.
- :class:`RepeatFilter`: a logging filter for the libraries under the daemon (the CoinGecko
  client logs each retry, ingestion each coin that failed). It lets each kind of message (its
  format string) through once per window and counts the rest, so a server that is down for a
  day costs a handful of lines, not thousands.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Callable, Iterator

REMIND_EVERY = 1800.0  # seconds
LIBRARY_LOGGERS = ("tracker.coingecko", "tracker.ingest")


class RepeatedFailureLog:
    """Per job: log the first failure, then only every ``remind_every`` seconds while it repeats.

    Parameters
    ----------
    logger:
        Where the lines go.
    remind_every:
        Seconds between reminders while the same failure repeats.
    clock:
        A monotonic clock (tests pass a fake one).
    """

    def __init__(self, logger: logging.Logger, remind_every: float = REMIND_EVERY,
                 clock: Callable[[], float] = time.monotonic):
        self.logger = logger
        self.remind_every = remind_every
        self.clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[str, int, float]] = {}  # job -> (message, count, last logged)

    def failure(self, job: str, message: str, next_run: str, *, status: str = "failed", detail: str = "") -> bool:
        """Note a failed (or partial) run; returns True when a line was logged."""
        with self._lock:
            previous, count, logged_at = self._state.get(job, ("", 0, 0.0))
            now = self.clock()
            count = count + 1 if previous == message else 1
            due = count == 1 or now - logged_at >= self.remind_every
            if due:
                logged_at = now
            self._state[job] = (message, count, logged_at)
        if due:
            repeated = f" ({count} times in a row)" if count > 1 else ""
            extra = f"; {detail}" if detail else ""
            level = logging.WARNING if status == "partial" else logging.ERROR
            self.logger.log(level, "%s %s%s: %s%s; next try at %s", job, status, repeated, message, extra, next_run)
        return due

    def success(self, job: str) -> str:
        """Note a good run; returns a note to append to its line when it ends a failing streak."""
        with self._lock:
            previous, count, _ = self._state.pop(job, ("", 0, 0.0))
        return f" (recovered after {count} failed run(s))" if count else ""


class RepeatFilter(logging.Filter):
    """Let each kind of message through once per ``window`` seconds; count the others.

    A kind is the logger, the level and the format string (``"GET %s: %s; retry %d/%d in
    %.2fs"``), so one retry line stands for all the retries of the next half hour, whichever
    coin they were for. The first line after a quiet spell says how many were left out.
    """

    def __init__(self, window: float = REMIND_EVERY, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.window = window
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, str(record.msg))
        now = self.clock()
        with self._lock:
            shown_at, left_out = self._seen.get(key, (None, 0))
            if shown_at is not None and now - shown_at < self.window:
                self._seen[key] = (shown_at, left_out + 1)
                return False
            self._seen[key] = (now, 0)
        if left_out:
            record.msg = f"{record.getMessage()} [{left_out} similar line(s) left out since the last one]"
            record.args = None
        return True


@contextlib.contextmanager
def quiet_library_logs(window: float = REMIND_EVERY, loggers: tuple[str, ...] = LIBRARY_LOGGERS) -> Iterator[RepeatFilter]:
    """Put one :class:`RepeatFilter` on the library loggers for the length of the block."""
    repeat = RepeatFilter(window)
    targets = [logging.getLogger(name) for name in loggers]
    for target in targets:
        target.addFilter(repeat)
    try:
        yield repeat
    finally:
        for target in targets:
            target.removeFilter(repeat)
