"""The fake server's "now": the real UTC time, or a time the test chose (frozen or shifted)."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

from ...utc import now as real_utcnow


class FakeClock:
    """Naive-UTC "now" for the fake server's data.

    Parameters
    ----------
    now:
        Freeze the clock at this instant; None follows the real clock.

    The rate limit always runs on real time: it models how fast calls arrive, not the data.
    """

    def __init__(self, now: datetime | None = None):
        self._lock = threading.Lock()
        self._frozen: datetime | None = now
        self._offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return real_utcnow() + self._offset

    def set(self, now: datetime | None, *, frozen: bool = True) -> datetime:
        """Move to ``now`` (None: back to the real clock); ``frozen=False`` keeps it ticking from there."""
        with self._lock:
            if now is None:
                self._frozen, self._offset = None, timedelta(0)
            elif frozen:
                self._frozen = now
            else:
                self._frozen, self._offset = None, now - real_utcnow()
        return self.now()

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)
        return self.now()

    @property
    def frozen(self) -> bool:
        with self._lock:
            return self._frozen is not None


__all__ = ["FakeClock", "real_utcnow"]
