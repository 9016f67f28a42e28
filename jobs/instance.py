"""One daemon per database: an exclusive lock on a small file beside it.

Two daemons on one file would not corrupt it (every write is idempotent), but they would
spend the API budget twice and tidy away each other's half-written spool folders. The lock is
an ``flock`` on ``<database>.daemon.lock``: the operating system drops it when the process
ends, however it ends (kill -9 included), so a crashed daemon never blocks the next start.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from tracker.errors import TrackerError


class DaemonAlreadyRunning(TrackerError):
    """Another daemon (or `tracker daemon --once`) holds this database."""


def instance_lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".daemon.lock")


class InstanceLock:
    """Hold ``<database>.daemon.lock`` for the length of a ``with`` block.

    Raises
    ------
    DaemonAlreadyRunning
        When another process holds it (the message names its PID).
    """

    def __init__(self, db_path: Path):
        self.path = instance_lock_path(Path(db_path))
        self._fd: int | None = None

    def __enter__(self) -> "InstanceLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise DaemonAlreadyRunning(
                f"a tracker daemon (PID {holder}) is already running against {self.path.parent / self.path.name[:-len('.daemon.lock')]}; "
                "stop it first (its jobs already do this work)"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        self._fd = fd
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock; the file stays (removing it would race)
            self._fd = None
