"""The read-only snapshot published after each job, for long interactive sessions.

Use the live file for one-shot queries (`tracker sql`, `duckdb -readonly ... -c`); open the
snapshot for anything that stays open (a notebook, DBeaver, an interactive `duckdb` shell),
because an open session on the live file blocks the daemon's writes.
"""
from __future__ import annotations

import time
from pathlib import Path

from storage import Database

SNAPSHOT_NAME = "tracker.duckdb"


def snapshot_path(snapshot_dir: Path) -> Path:
    """Where the snapshot lives: ``<snapshot_dir>/tracker.duckdb``."""
    return snapshot_dir / SNAPSHOT_NAME


def discard_unfinished_snapshots(snapshot_dir: Path) -> int:
    """Remove copies a killed process left half-written beside the snapshot
    (``.tracker.duckdb.<pid>.tmp`` and its WAL). Call only when no other daemon runs."""
    if not Path(snapshot_dir).is_dir():
        return 0
    stale = list(Path(snapshot_dir).glob(f".{SNAPSHOT_NAME}.*.tmp*"))
    for path in stale:
        path.unlink(missing_ok=True)
    return len(stale)


def publish_snapshot(db: Database, snapshot_dir: Path) -> tuple[Path, float]:
    """Copy the database to ``snapshot_dir/tracker.duckdb``. Returns (path, milliseconds)."""
    started = time.perf_counter()
    path = db.copy_to(snapshot_path(snapshot_dir))
    return path, (time.perf_counter() - started) * 1000
