"""The spool: fetched batches that wait on disk while the database is locked.

When a reader holds the database file longer than the lock timeout, the daemon saves the
batch it fetched here instead of dropping it, and writes it on a later run. Batches are kept
and written strictly in the order they were fetched: once anything waits, new batches queue
behind it, so a late membership observation can never overtake a newer one. A batch that
cannot be read back is moved to ``rejected/`` with the reason logged, so it never blocks the
queue.
"""
from __future__ import annotations

import itertools
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from storage import Database, DatabaseLockedError
from tracker.errors import InputError
from tracker.ingest import Batch, write_batch
from tracker.ingest.runs import utcnow

log = logging.getLogger("tracker.daemon")

_sequence = itertools.count()


@dataclass
class DrainResult:
    written: int = 0
    rows: int = 0
    lock_ms: list[float] = field(default_factory=list)
    rejected: int = 0
    waiting: int = 0


class Spool:
    """The folder of batches waiting for the database (see the module docstring).

    Parameters
    ----------
    folder:
        ``database.spool_dir``; made when the first batch is put.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def pending(self) -> list[Path]:
        """Waiting batches, oldest first (their names sort in the order they were put)."""
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "rejected")

    def run_ids(self) -> set[str]:
        """The runs whose batches wait here (read from each batch's manifest)."""
        ids = set()
        for folder in self.pending():
            try:
                manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
                ids.add(str(manifest["run"]["run_id"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue  # unreadable: drain() rejects it; its run is tidied like any other
        return ids

    def discard_unfinished(self) -> int:
        """Remove half-written batches (a process killed while spooling leaves its staging
        folder behind; it never became a batch). Call only when no other daemon runs."""
        if not self.folder.is_dir():
            return 0
        stale = [p for p in self.folder.iterdir() if p.is_dir() and p.name.startswith(".") and p.name.endswith(".tmp")]
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        return len(stale)

    def put(self, batch: Batch) -> Path:
        """Save ``batch`` as the newest waiting one; returns its folder."""
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{next(_sequence):06d}-{batch.job}"
        return batch.save(self.folder / name)

    def drain(self, db: Database) -> DrainResult:
        """Write waiting batches oldest first; stop at the first that meets a locked database."""
        result = DrainResult()
        pending = self.pending()
        for index, folder in enumerate(pending):
            try:
                batch = Batch.load(folder)
            except InputError as exc:
                self._reject(folder, str(exc))
                result.rejected += 1
                continue
            try:
                written = write_batch(db, batch)
            except DatabaseLockedError:
                result.waiting = len(pending) - index
                return result
            # Written and committed: only now is the spooled copy removed. A crash in between
            # writes it again on restart, which changes nothing (every write is idempotent).
            shutil.rmtree(folder, ignore_errors=True)
            result.written += 1
            result.rows += written.rows
            result.lock_ms.append(written.lock_ms)
        return result

    def _reject(self, folder: Path, reason: str) -> None:
        target = self.folder / "rejected" / folder.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(target))
        log.error("spooled batch %s cannot be read (%s); moved to %s", folder.name, reason, target)
