"""Waiting longer between runs while the API host cannot be reached at all.

A run that finds the host unreachable (DNS lookup failed, connection refused, no route) has
already stopped after two quick tries. Its job's next run is then put off to at least
``first`` seconds from now, doubling with each such run in a row up to ``most``: a daemon
started on a laptop without network costs a few lines and a few calls an hour, not a line
and two calls every 10 minutes per job. A job whose next scheduled run is later anyway
keeps it (a daily job is not brought forward), and the first run that reaches the host
ends the backoff.
"""
from __future__ import annotations

import threading

OFFLINE_FIRST_SECONDS = 30.0
OFFLINE_MOST_SECONDS = 1800.0


class OfflineBackoff:
    """Per job: how many runs in a row found the host unreachable, and the wait that earns.

    Parameters
    ----------
    first:
        The least wait after the first such run, in seconds.
    most:
        The longest wait, however many runs in a row failed.
    """

    def __init__(self, first: float = OFFLINE_FIRST_SECONDS, most: float = OFFLINE_MOST_SECONDS):
        self.first, self.most = float(first), float(most)
        self._lock = threading.Lock()
        self._in_a_row: dict[str, int] = {}

    def failed(self, job: str) -> float:
        """Note one more unreachable run of ``job``; returns the least wait before its next run."""
        with self._lock:
            count = self._in_a_row.get(job, 0) + 1
            self._in_a_row[job] = count
        return min(self.most, self.first * 2 ** min(count - 1, 30))

    def reached(self, job: str) -> None:
        """``job`` reached the host: the next failure starts from ``first`` again."""
        with self._lock:
            self._in_a_row.pop(job, None)

    def in_a_row(self, job: str) -> int:
        with self._lock:
            return self._in_a_row.get(job, 0)


__all__ = ["OFFLINE_FIRST_SECONDS", "OFFLINE_MOST_SECONDS", "OfflineBackoff"]
