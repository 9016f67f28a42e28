"""How the daemon runs one job: fetch without the lock, then write each batch or spool it.

HTTP happens first, with no database lock held. Each fetched batch is written in one short
transaction (the time the file is held is measured and reported). When another process holds
the file past the lock timeout, the batch goes to the spool and is written on a later run, in
order; for a minute after such a failure, batches go straight to the spool rather than each
waiting out the timeout again.
"""
from __future__ import annotations

import logging
import statistics
import threading
import time
from datetime import datetime
from typing import Any, Callable, Iterator

import storage
from storage import DatabaseLockedError, StorageError
from tracker.coingecko import client_from_config
from tracker.config import Config
from tracker.errors import TrackerError
from tracker.events import seed_events
from tracker.ingest import Batch, fetch_categories, fetch_history, fetch_markets, fetch_members, read_history_state, write_batch
from tracker.runs import RunRecord, mark_abandoned

from .snapshot import publish_snapshot
from .spool import Spool

log = logging.getLogger("tracker.daemon")

LOCKED_BACKOFF_SECONDS = 60.0
_HELD_KEPT = 200  # lock-held samples kept per job for the percentiles in the heartbeat


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


class IngestExecutor:
    """Runs the ingestion jobs for the daemon against one database and one shared client.

    The client (and its rate limiter) is shared by every job, so the plan's budget holds for
    the process as a whole. ``stop_event`` makes the client abandon further calls.
    """

    def __init__(self, config: Config, *, client_factory: Callable[..., Any] = client_from_config,
                 publish_snapshots: bool = True, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.clock = clock  # None: real time; the demo freezes it to match its fake server
        self.stop_event = threading.Event()
        self.client = client_factory(config, stop_event=self.stop_event)
        self.db = storage.open_database(config.database.path, create=True, lock_timeout=config.database.lock_timeout_seconds)
        self.spool = Spool(config.database.spool_dir)
        self.publish_snapshots = publish_snapshots
        self.held_ms: dict[str, list[float]] = {}
        self._write_lock = threading.Lock()  # batches are written (or spooled) one at a time, in order
        self._locked_until = 0.0
        self._prepare()

    def _prepare(self) -> None:
        try:
            seed_events(self.db)
            with self.db.transaction() as con:
                abandoned = mark_abandoned(con)
            if abandoned:
                log.warning("%d run(s) left 'running' by an earlier process marked abandoned", abandoned)
        except DatabaseLockedError as exc:
            log.warning("database busy at start (%s); carrying on, batches will spool until it is free", exc)

    def close(self) -> None:
        self.client.close()

    def jobs_never_done(self) -> set[str]:
        """Jobs with no successful run stored yet: the daemon runs them at start, so a fresh
        database fills at once instead of waiting for a daily cron time."""
        try:
            done = storage.query(self.db, "SELECT DISTINCT job FROM ingest_runs WHERE status IN ('ok', 'partial')")
        except StorageError:
            return set()
        return {"markets", "categories", "members", "history"} - set(done["job"])

    # -- the job ---------------------------------------------------------------------------
    def _batches(self, job: str) -> Iterator[Batch]:
        tracking = self.config.tracking
        now = self.clock() if self.clock is not None else None
        if job == "markets":
            return fetch_markets(self.client, tracking, now=now)
        if job == "categories":
            return fetch_categories(self.client, tracking, now=now)
        if job == "members":
            return fetch_members(self.client, tracking, now=now)
        if job == "history":
            state = read_history_state(self.db, tracking)  # one short read-only look at the watermarks
            return fetch_history(self.client, tracking, state, now=now)
        raise ValueError(f"unknown job {job!r}")

    def execute(self, job: str) -> dict[str, Any]:
        outcome: dict[str, Any] = {"job": job, "status": "ok", "calls": 0, "rows": 0, "batches": 0, "spooled": 0,
                                   "error": None, "lock_ms_max": None}
        started = time.monotonic()
        calls_before = self.client.calls
        final_run: RunRecord | None = None
        try:
            with self._write_lock:
                self._drain(outcome)
            for batch in self._batches(job):
                self._deliver(batch, outcome)
                if batch.final:
                    final_run = batch.run
        except DatabaseLockedError as exc:
            # Only reading the watermarks can get here: nothing was fetched, nothing is lost.
            self._locked_until = time.monotonic() + LOCKED_BACKOFF_SECONDS
            self._failed(job, outcome, final_run, f"database busy, nothing fetched: {exc}")
        except (TrackerError, StorageError) as exc:
            self._failed(job, outcome, final_run, _one_line(exc))
        except Exception as exc:  # a bug: keep the daemon alive, record it, log it once in full
            log.exception("%s: unexpected failure", job)
            self._failed(job, outcome, final_run, f"unexpected {_one_line(exc)}")
        if final_run is not None:
            outcome["status"] = final_run.status
            outcome["error"] = final_run.error
        outcome["calls"] = self.client.calls - calls_before
        outcome["seconds"] = round(time.monotonic() - started, 3)
        samples = self.held_ms.get(job, [])
        if samples:
            outcome["lock_ms_max"] = round(max(samples), 1)
            outcome["lock_ms_median"] = round(statistics.median(samples), 1)
        outcome["spool_waiting"] = len(self.spool.pending())
        self._after_job(job, outcome)
        return outcome

    # -- writing ---------------------------------------------------------------------------
    def _deliver(self, batch: Batch, outcome: dict[str, Any]) -> None:
        with self._write_lock:
            outcome["batches"] += 1
            if self.spool.pending():
                self._drain(outcome)
            if self.spool.pending() or time.monotonic() < self._locked_until:
                self._spool(batch, outcome, "earlier batches are still waiting" if self.spool.pending() else "database busy")
                return
            try:
                result = write_batch(self.db, batch)
            except DatabaseLockedError as exc:
                self._locked_until = time.monotonic() + LOCKED_BACKOFF_SECONDS
                self._spool(batch, outcome, str(exc))
                return
            outcome["rows"] += result.rows
            self._held(batch.job, result.lock_ms)

    def _drain(self, outcome: dict[str, Any]) -> None:
        if not self.spool.pending() or time.monotonic() < self._locked_until:
            return
        drained = self.spool.drain(self.db)
        if drained.written:
            log.info("wrote %d spooled batch(es), %d rows", drained.written, drained.rows)
            outcome["rows"] += drained.rows
            outcome["spool_written"] = outcome.get("spool_written", 0) + drained.written
            for ms in drained.lock_ms:
                self._held("spool", ms)
        if drained.waiting:
            self._locked_until = time.monotonic() + LOCKED_BACKOFF_SECONDS

    def _spool(self, batch: Batch, outcome: dict[str, Any], why: str) -> None:
        path = self.spool.put(batch)
        outcome["spooled"] += 1
        if outcome["spooled"] == 1:
            log.warning("%s: database not writable now (%s); batches spooled to %s and written on a later run",
                        batch.job, why, path.parent)

    def _failed(self, job: str, outcome: dict[str, Any], final_run: RunRecord | None, error: str) -> None:
        """Mark the outcome failed; a run whose failure the job did not record itself gets its row
        now (or a spooled one), so every run is recorded exactly once."""
        outcome.update(status="failed", error=error)
        if final_run is None:
            run = RunRecord(job=job).finish("failed", error=error)
            self._deliver(Batch(job=job, run=run, final=True), outcome)

    def _held(self, job: str, ms: float) -> None:
        samples = self.held_ms.setdefault(job, [])
        samples.append(ms)
        del samples[:-_HELD_KEPT]

    def _after_job(self, job: str, outcome: dict[str, Any]) -> None:
        log.info(
            "%s: %s, %d calls, %d rows in %.1fs; lock held max %s ms%s",
            job, outcome["status"], outcome["calls"], outcome["rows"], outcome["seconds"],
            outcome.get("lock_ms_max"), f", {outcome['spooled']} batch(es) spooled" if outcome["spooled"] else "",
        )
        if self.publish_snapshots and (outcome["rows"] or not self.config.database.snapshot_dir.joinpath("tracker.duckdb").exists()):
            try:
                _, ms = publish_snapshot(self.db, self.config.database.snapshot_dir)
                outcome["snapshot_ms"] = round(ms, 1)
            except (StorageError, OSError) as exc:
                log.warning("snapshot not published this time: %s", _one_line(exc))

    def lock_summary(self) -> dict[str, dict[str, float]]:
        """Per job: how long the database file was held per write (ms)."""
        out = {}
        for job, samples in self.held_ms.items():
            ordered = sorted(samples)
            out[job] = {
                "writes": len(ordered),
                "median_ms": round(statistics.median(ordered), 1),
                "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
                "max_ms": round(ordered[-1], 1),
            }
        return out
