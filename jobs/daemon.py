"""`tracker daemon`: run the ingestion jobs on their schedules until SIGTERM or SIGINT.

One BlockingScheduler in the main thread (free for signal handlers), a pool of two worker
threads (a long backfill never starves the 10-minute snapshot), an in-memory job store
rebuilt from config at every start (nothing pickled), and a heartbeat file for `tracker status`.
"""
from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime, timezone
from typing import Callable, Protocol

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED
from apscheduler.schedulers.blocking import BlockingScheduler

from tracker.config import Config
from tracker.ingest import JOB_ORDER  # --once and the start-up runs go in this order

from .heartbeat import HEARTBEAT_EVERY, heartbeat_path, write_heartbeat
from .quiet_log import RepeatedFailureLog
from .schedule import plans

log = logging.getLogger("tracker.daemon")



class JobExecutor(Protocol):
    stop_event: threading.Event

    def execute(self, job: str) -> dict: ...


def banner(config: Config) -> list[str]:
    """What the daemon says at start: plan, host, key (masked), database and schedules."""
    cg = config.coingecko
    lines = [
        f"plan: {cg.plan} at {cg.base_url} (API key {cg.masked_key}), budget {cg.calls_per_minute:g} calls/min",
        f"database: {config.database.path} (snapshot: {config.database.snapshot_dir}, spool: {config.database.spool_dir})",
        f"tracking: categories {', '.join(config.tracking.categories) or '(none)'}; benchmarks "
        f"{', '.join(config.tracking.benchmarks) or '(none)'}; vs {config.tracking.vs_currency}",
    ]
    for job in JOB_ORDER:
        lines.append(f"job {job}: {config.schedules[job].describe()}")
    return lines


class Daemon:
    def __init__(self, config: Config, executor: JobExecutor, *, heartbeat_every: float = HEARTBEAT_EVERY):
        self.config = config
        self.executor = executor
        self.heartbeat_every = heartbeat_every
        self.heartbeat_file = heartbeat_path(config.database.path)
        self.failures = RepeatedFailureLog(log)
        self.last: dict[str, dict] = {}
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.scheduler: BlockingScheduler | None = None
        self._state_lock = threading.Lock()
        self._stopper: threading.Thread | None = None
        self._job_locks: dict[str, threading.Lock] = {}
        self._in_flight = 0  # jobs running now; the main thread waits for them at shutdown
        self._idle = threading.Condition()

    # -- one job ---------------------------------------------------------------------------
    def _run_job(self, job: str) -> dict:
        with self._idle:
            if self.executor.stop_event.is_set():
                return {"status": "skipped", "reason": "stopping"}
            self._in_flight += 1
        try:
            return self._run_guarded(job)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _run_guarded(self, job: str) -> dict:
        guard = self._job_locks.setdefault(job, threading.Lock())
        if not guard.acquire(blocking=False):  # the start-up run of this job is still going
            log.info("%s: still running; this run is skipped", job)
            return {"status": "skipped", "reason": "already running"}
        try:
            outcome = self.executor.execute(job)
        finally:
            guard.release()
        with self._state_lock:
            self.last[job] = dict(outcome, finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        status = outcome.get("status")
        if status in ("failed", "partial") and outcome.get("error"):
            self.failures.failure(job, outcome["error"], self._next_run(job))
        else:
            self.failures.success(job)
        self._beat()
        return outcome

    def _next_run_time(self, job: str) -> datetime | None:
        """When the scheduler will run ``job`` next; None before it starts and once stopping."""
        if self.scheduler is None or self.executor.stop_event.is_set() or not self.scheduler.running:
            return None
        try:
            scheduled = self.scheduler.get_job(job)
        except Exception:  # the scheduler is shutting down under us: there is no next run
            return None
        return getattr(scheduled, "next_run_time", None) if scheduled else None  # absent until it starts

    def _next_run(self, job: str) -> str:
        if self.scheduler is None or self.executor.stop_event.is_set():
            return "the next start"
        when = self._next_run_time(job)
        return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC") if when else "the next scheduled time"

    # -- heartbeat -------------------------------------------------------------------------
    def _beat(self, *, stopped: bool = False) -> None:
        with self._state_lock:
            jobs = {}
            for job in JOB_ORDER:
                entry = dict(self.last.get(job, {}))
                when = None if stopped else self._next_run_time(job)
                if when is not None:
                    entry["next_run"] = when.astimezone(timezone.utc).isoformat(timespec="seconds")
                jobs[job] = entry
            locks = getattr(self.executor, "lock_summary", dict)()
            spool = getattr(self.executor, "spool", None)
            state = {
                "started_at": self.started_at,
                "lock_held_ms": locks,
                "spool_waiting": len(spool.pending()) if spool is not None else 0,
                "plan": self.config.coingecko.plan,
                "database": str(self.config.database.path),
                "jobs": jobs,
                "stopped": stopped,
            }
        try:
            write_heartbeat(self.heartbeat_file, state)
        except OSError as exc:  # a full disk must not stop ingestion
            log.warning("could not write heartbeat %s: %s", self.heartbeat_file, exc)

    # -- modes -----------------------------------------------------------------------------
    def run_once(self) -> dict[str, dict]:
        """Run every enabled job once, in dependency order, then return their outcomes."""
        outcomes = {}
        for job in JOB_ORDER:
            if not self.config.schedules[job].enabled:
                continue
            if self.executor.stop_event.is_set():
                break
            outcomes[job] = self._run_job(job)
        self._beat(stopped=True)
        return outcomes

    def startup_jobs(self) -> list[str]:
        """Jobs to run at start, in order: those asking for it, and those never done yet."""
        never = getattr(self.executor, "jobs_never_done", set)()
        return [
            job for job in JOB_ORDER
            if self.config.schedules[job].enabled and (self.config.schedules[job].run_at_start or job in never)
        ]

    def _startup(self, jobs: list[str]) -> None:
        for job in jobs:
            if self.executor.stop_event.is_set():
                return
            self._run_job(job)

    def run_forever(self, install_signals: bool = True) -> int:
        scheduler = BlockingScheduler(
            timezone="UTC",
            executors={"default": {"type": "threadpool", "max_workers": 2}},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler = scheduler
        for plan in plans(self.config.schedules):
            scheduler.add_job(self._run_job, args=[plan.job], **plan.options())
        first = self.startup_jobs()
        if first:
            log.info("at start: %s", ", ".join(first))
            scheduler.add_job(self._startup, args=[first], id="startup", name="startup",
                              next_run_time=datetime.now(timezone.utc), misfire_grace_time=None)
        scheduler.add_job(self._beat, "interval", seconds=self.heartbeat_every, id="heartbeat", name="heartbeat",
                          max_instances=1, coalesce=True, misfire_grace_time=int(self.heartbeat_every))
        scheduler.add_listener(self._on_event, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_EXECUTED)
        if install_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, self._on_signal)
        self._beat()
        log.info("daemon started (pid heartbeat %s); Ctrl-C or SIGTERM stops it", self.heartbeat_file)
        scheduler.start()  # blocks until shutdown
        if self._stopper is not None:
            self._stopper.join()
        self.wait_idle()  # the jobs in flight have finished or abandoned their calls
        self._beat(stopped=True)
        log.info("daemon stopped")
        return 0

    def wait_idle(self) -> None:
        """Block until no job is running (after :meth:`stop`, each ends within its HTTP timeout)."""
        with self._idle:
            self._idle.wait_for(lambda: self._in_flight == 0)

    def stop(self) -> None:
        """Ask running jobs to abandon further calls and stop the scheduler; returns at once.

        ``shutdown(wait=True)`` would hold APScheduler's job-store lock while waiting for the
        jobs, and a job asking the scheduler for its next run time needs that same lock: a
        deadlock. So the scheduler stops without waiting, and :meth:`run_forever` waits for the
        jobs itself (:meth:`wait_idle`).
        """
        with self._idle:
            self.executor.stop_event.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def _on_signal(self, signum, _frame) -> None:
        log.info("received %s: finishing the call in flight, writing nothing partial, then exiting",
                 signal.Signals(signum).name)
        # shutdown() takes the scheduler's locks, which the interrupted main loop may hold: a
        # thread does it once the handler has returned.
        if self._stopper is None:
            self._stopper = threading.Thread(target=self.stop, name="daemon-stop", daemon=True)
            self._stopper.start()

    def _on_event(self, event) -> None:
        if event.job_id == "heartbeat":
            return
        if event.code == EVENT_JOB_MISSED:
            log.warning("%s: a run was missed (machine busy or asleep); the next one catches up from the watermarks", event.job_id)
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning("%s: still running from the last time; this run is skipped", event.job_id)
        elif event.code == EVENT_JOB_ERROR:
            # The executor records its own failures; this is a bug in the job itself.
            first = str(event.exception).strip().splitlines()[0] if str(event.exception).strip() else ""
            self.failures.failure(event.job_id, f"{type(event.exception).__name__}: {first}", self._next_run(event.job_id))


def run_daemon(config: Config, *, once: bool = False,
               executor_factory: Callable[[Config], JobExecutor] | None = None) -> int:
    """Run the daemon in the foreground; returns the exit code."""
    if executor_factory is None:
        from .executor import IngestExecutor as executor_factory
    executor = executor_factory(config)
    daemon = Daemon(config, executor)
    for line in banner(config):
        log.info(line)
    if once:
        try:
            outcomes = daemon.run_once()
        finally:
            close = getattr(executor, "close", None)
            if close is not None:
                close()
        failed = [job for job, outcome in outcomes.items() if outcome.get("status") == "failed"]
        return 1 if failed else 0
    return daemon.run_forever()


def run_jobs_once(config: Config, *, clock: Callable[[], datetime] | None = None) -> dict[str, dict]:
    """Every enabled job once, exactly as the daemon runs them (`tracker daemon --once`, the demo)."""
    from .executor import IngestExecutor

    executor = IngestExecutor(config, clock=clock)
    try:
        return Daemon(config, executor).run_once()
    finally:
        executor.close()
