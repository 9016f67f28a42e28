"""Log a failure that repeats without flooding: the first time in full, then a reminder now and then."""
from __future__ import annotations

import logging
import time


class RepeatedFailureLog:
    """Per job: log the first failure, then only every ``remind_every`` seconds while it repeats."""

    def __init__(self, logger: logging.Logger, remind_every: float = 1800.0):
        self.logger = logger
        self.remind_every = remind_every
        self._state: dict[str, tuple[str, int, float]] = {}  # job -> (message, count, last logged)

    def failure(self, job: str, message: str, next_run: str) -> None:
        previous, count, logged_at = self._state.get(job, ("", 0, 0.0))
        now = time.monotonic()
        count = count + 1 if previous == message else 1
        if count == 1 or now - logged_at >= self.remind_every:
            suffix = f" (failed {count} times in a row)" if count > 1 else ""
            self.logger.error("%s failed: %s%s; next try at %s", job, message, suffix, next_run)
            logged_at = now
        self._state[job] = (message, count, logged_at)

    def success(self, job: str) -> None:
        previous, count, _ = self._state.pop(job, ("", 0, 0.0))
        if count:
            self.logger.info("%s recovered after %d failed run(s) (%s)", job, count, previous)
