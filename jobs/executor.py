"""How the daemon runs one job: fetch without the lock, then write each batch or spool it.

HTTP happens first, with no database lock held. Each fetched batch is written in one short
transaction (the time the file is held is measured and reported). When another process holds
the file past the lock timeout, the batch goes to the spool and is written on a later run, in
order. After such a failure, batches go straight to the spool for a while (six lock timeouts:
one minute with the default 10 s) rather than each waiting out the timeout again, so a
long-held reader costs the daemon at most a seventh of its time.

The executor logs only what changes (spooling starts, the spool drains, a snapshot fails);
the daemon logs one line per run from the outcome :meth:`IngestExecutor.execute` returns.
"""
from __future__ import annotations

import copy
import logging
import statistics
import threading
import time
from datetime import datetime
from typing import Any, Callable, Iterator

import storage
from storage import DatabaseLockedError, StorageError
from tracker.analysis.events import seed_events
from tracker.config import Config
from tracker.errors import TrackerError, describe
from tracker.ingest import (
    CANDLE_JOBS,
    Batch,
    fetch_categories,
    fetch_history,
    fetch_markets,
    fetch_members,
    read_history_state,
    write_batch,
)
from tracker.ingest.runs import RunRecord, mark_abandoned, utcnow
from tracker.sources.coingecko import client_from_config

from .reports import PRICE_TABLES
from .snapshot import discard_unfinished_snapshots, publish_snapshot, snapshot_path
from .spool import Spool

log = logging.getLogger("tracker.daemon")

LOCKED_BACKOFF_TIMEOUTS = 6  # after a lock timeout, spool without waiting for this many timeouts
_HELD_KEPT = 1000  # lock-held samples kept per job for the percentiles in the heartbeat


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
        self.locked_backoff = LOCKED_BACKOFF_TIMEOUTS * max(1.0, config.database.lock_timeout_seconds)
        self._write_lock = threading.Lock()  # batches are written (or spooled) one at a time, in order
        self._locked_until = 0.0
        self._spooling = False  # batches are waiting in the spool (logged once when it starts)
        self._started = utcnow()  # runs started before this are an earlier process's
        self._tidied = False  # runs an earlier process left 'running' are marked abandoned
        self._prepare()

    def _prepare(self) -> None:
        self.spool.discard_unfinished()
        if self.publish_snapshots:
            discard_unfinished_snapshots(self.config.database.snapshot_dir)
        try:
            seed_events(self.db)
        except DatabaseLockedError as exc:
            log.warning("database busy at start (%s); carrying on, batches will spool until it is free", exc)
            self._locked_until = time.monotonic() + self.locked_backoff
            return
        with self._write_lock:
            # Batches an earlier process spooled go in first (a killed run's batches among
            # them), and only then are its unfinished runs marked abandoned.
            self._drain({"rows": 0})

    def close(self) -> None:
        """Close the client's HTTP session (the database is never held between writes)."""
        self.client.close()

    def jobs_never_done(self) -> set[str]:
        """Jobs with no successful run stored yet: the daemon runs them at start, so a fresh
        database fills at once instead of waiting for a daily cron time."""
        try:
            done = storage.jobs_done(self.db)
        except StorageError:
            return set()
        return {"markets", "categories", "members", "history"} - done

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
        if job in CANDLE_JOBS:
            return self._candles(job, now)
        raise ValueError(f"unknown job {job!r}")

    def _candles(self, job: str, now: datetime | None) -> Iterator[Batch]:
        """The tracked coins' candles of the job's interval, topped up from their watermarks; a
        fresh exchange client per run (it caches the market list; its limits are the exchange's)."""
        from tracker.ingest.candles import CandlesRequest, fetch_candles, read_candles_state
        from tracker.sources.exchange import DEFAULT_EXCHANGE, ExchangeClient

        with ExchangeClient.from_config(DEFAULT_EXCHANGE, self.config) as exchange:
            state = read_candles_state(self.db, self.config.tracking, exchange=exchange.exchange_id)
            yield from fetch_candles(exchange, self.client, state, CandlesRequest(interval=CANDLE_JOBS[job]), now=now)

    def execute(self, job: str) -> dict[str, Any]:
        """Run ``job`` once: fetch, write or spool each batch, record the run. Never raises.

        Returns
        -------
        dict
            ``status`` (the run's: ok, partial or failed), ``error``, ``calls`` (this run's HTTP
            attempts), ``rows`` written, ``batches``, ``spooled`` (batches left in the spool),
            ``lock_ms`` (this run's lock-held time per write), ``seconds``, ``spool_waiting``,
            ``stopping`` (the daemon was asked to stop during the run), ``unreachable`` (the
            one line saying the host cannot be reached, or None).
        """
        outcome: dict[str, Any] = {"job": job, "status": "ok", "calls": 0, "rows": 0, "batches": 0, "spooled": 0,
                                   "error": None, "lock_ms": []}
        started = time.monotonic()
        calls_before = self.client.calls
        final_run: RunRecord | None = None
        last_run: RunRecord | None = None
        try:
            with self._write_lock:
                self._drain(outcome)
            for batch in self._batches(job):
                last_run = batch.run
                self._deliver(batch, outcome)
                if batch.final:
                    final_run = batch.run
        except DatabaseLockedError as exc:
            # Only reading the watermarks can get here: nothing was fetched, nothing is lost.
            self._locked_until = time.monotonic() + self.locked_backoff
            self._failed(job, outcome, final_run, last_run, f"database busy, nothing fetched: {exc}")
        except (TrackerError, StorageError) as exc:
            self._failed(job, outcome, final_run, last_run, describe(exc))
        except Exception as exc:  # a bug: keep the daemon alive, record it, log it once in full
            log.exception("%s: unexpected failure", job)
            self._failed(job, outcome, final_run, last_run, f"unexpected {describe(exc)}")
        if final_run is not None:
            outcome["status"] = final_run.status
            outcome["error"] = final_run.error
            outcome["calls"] = int(final_run.calls)  # this run's own calls, not the other worker's
            outcome["unreachable"] = final_run.details.get("unreachable")
        else:
            outcome["calls"] = self.client.calls - calls_before
        outcome["seconds"] = round(time.monotonic() - started, 3)
        outcome["stopping"] = self.stop_event.is_set()
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
                self._locked_until = time.monotonic() + self.locked_backoff
                self._spool(batch, outcome, str(exc))
                return
            outcome["rows"] += result.rows
            if result.rows and any(len(frame) for table, frame in batch.frames.items() if table in PRICE_TABLES):
                outcome["stored_prices"] = True  # the daemon runs the `reports` job after this one
            outcome["lock_ms"].append(result.lock_ms)
            self._held(batch.job, result.lock_ms)
            if not self._tidied:
                self._tidy()

    def _drain(self, outcome: dict[str, Any]) -> None:
        """Write what waits in the spool, oldest first (the caller holds the write lock)."""
        if time.monotonic() < self._locked_until:
            return
        if self.spool.pending():
            drained = self.spool.drain(self.db)
            for ms in drained.lock_ms:
                self._held("spool", ms)
            outcome["rows"] += drained.rows
            if drained.written:
                outcome["spool_written"] = outcome.get("spool_written", 0) + drained.written
            if drained.waiting:
                self._locked_until = time.monotonic() + self.locked_backoff
                return
            if self._spooling or drained.written:
                log.info("spool drained: %d batch(es), %d rows written", drained.written, drained.rows)
            self._spooling = False
        if not self._tidied:
            self._tidy()

    def _tidy(self) -> None:
        """Mark runs an earlier process left 'running' as abandoned, once the spool holds
        none of their batches (a spooled batch written after would revive the run)."""
        if self.spool.pending():
            return
        try:
            with self.db.transaction() as con:
                abandoned = mark_abandoned(con, started_before=self._started)
        except DatabaseLockedError:
            return  # the next write tries again
        self._tidied = True
        if abandoned:
            log.warning("%d run(s) left 'running' by an earlier process marked abandoned", abandoned)

    def _spool(self, batch: Batch, outcome: dict[str, Any], why: str) -> None:
        path = self.spool.put(batch)
        outcome["spooled"] += 1
        if not self._spooling:
            self._spooling = True
            log.warning("database not writable (%s); fetched batches wait in %s and are written, in order, "
                        "once it is free", why, path.parent)

    def _failed(self, job: str, outcome: dict[str, Any], final_run: RunRecord | None, last_run: RunRecord | None,
                error: str) -> None:
        """Mark the outcome failed; a run whose failure the job did not record itself gets its
        final row now (or a spooled one), so every run is recorded exactly once and none is
        left 'running'."""
        outcome.update(status="failed", error=error)
        if final_run is None:
            # The run that already wrote batches is closed; a run that wrote none gets a row.
            run = copy.deepcopy(last_run) if last_run is not None else RunRecord(job=job)
            run.finish("failed", error=error)
            self._deliver(Batch(job=job, run=run, final=True), outcome)

    def _held(self, job: str, ms: float) -> None:
        samples = self.held_ms.setdefault(job, [])
        samples.append(ms)
        del samples[:-_HELD_KEPT]

    def _after_job(self, job: str, outcome: dict[str, Any]) -> None:
        samples = outcome["lock_ms"]
        outcome["lock_ms_max"] = round(max(samples), 1) if samples else None
        outcome["lock_ms_median"] = round(statistics.median(samples), 1) if samples else None
        outcome["lock_ms"] = [round(ms, 1) for ms in samples[-_HELD_KEPT:]]
        if outcome["stopping"] or not self.publish_snapshots:
            return  # the next start publishes; stopping promptly matters more
        if outcome["rows"] or not snapshot_path(self.config.database.snapshot_dir).exists():
            try:
                _, ms = publish_snapshot(self.db, self.config.database.snapshot_dir)
                outcome["snapshot_ms"] = round(ms, 1)
            except (StorageError, OSError) as exc:
                log.warning("snapshot not published this time: %s", describe(exc))

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
