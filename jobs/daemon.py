"""`tracker daemon`: run the ingestion jobs on their schedules until SIGTERM or SIGINT.

One BlockingScheduler in the main thread (free for signal handlers), a pool of two worker
threads (a long backfill never starves the 10-minute snapshot), an in-memory job store
rebuilt from config at every start (nothing pickled), and a heartbeat file for `tracker status`.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_SCHEDULER_STARTED,
)
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler

from storage import check_database_path
from tracker.config import Config
from tracker.errors import describe
from tracker.ingest import CANDLE_JOBS, JOB_ORDER  # --once and the start-up runs go in this order
from tracker.sources.coingecko.plans import get_plan
from tracker.urls import mask_url

from .backoff import OfflineBackoff
from .heartbeat import HEARTBEAT_EVERY, heartbeat_path, write_heartbeat
from .instance import InstanceLock
from .quiet_log import REMIND_EVERY, RepeatedFailureLog, quiet_library_logs
from .reports import LiveReportsJob, describe_reports
from .schedule import plans

log = logging.getLogger("tracker.daemon")



class JobExecutor(Protocol):
    stop_event: threading.Event

    def execute(self, job: str) -> dict: ...


def daemon_jobs(config: Config) -> tuple[str, ...]:
    """The jobs in run order: CoinGecko's always (a disabled one is shown as such), then the
    exchange-candle jobs when enabled (they are off by default)."""
    return JOB_ORDER + tuple(job for job in CANDLE_JOBS if config.schedules[job].enabled)


def banner(config: Config) -> list[str]:
    """What the daemon says at start: plan, host, key (masked), database and schedules."""
    cg = config.coingecko
    lines = [
        f"plan: {cg.plan} at {mask_url(cg.base_url)} (API key {cg.masked_key}), budget {cg.calls_per_minute:g} calls/min",
        f"database: {config.database.path} (snapshot: {config.database.snapshot_dir}, spool: {config.database.spool_dir})",
        f"tracking: categories {', '.join(config.tracking.categories) or '(none)'}; benchmarks "
        f"{', '.join(config.tracking.benchmarks) or '(none)'}; vs {config.tracking.vs_currency}",
    ]
    for job in daemon_jobs(config):
        lines.append(f"job {job}: {config.schedules[job].describe()}")
    return lines


def describe_outcome(outcome: dict) -> str:
    """``2 calls, 84 rows in 0.1s; lock held max 40.4 ms`` (+ spooled batches)."""
    text = f"{outcome.get('calls', 0)} calls, {outcome.get('rows', 0)} rows in {outcome.get('seconds', 0):.1f}s"
    if outcome.get("lock_ms_max") is not None:
        text += f"; lock held max {outcome['lock_ms_max']:.0f} ms"
    if outcome.get("spooled"):
        text += f"; {outcome['spooled']} batch(es) spooled, {outcome.get('spool_waiting', 0)} waiting"
    if outcome.get("backoff_seconds"):
        text += f"; backing off {outcome['backoff_seconds']:g}s"
    return text


class Daemon:
    """The scheduler around one executor: triggers from config, start-up runs, heartbeat,
    one log line per run, and a clean stop.

    Parameters
    ----------
    config:
        The validated configuration (its ``schedules`` become the jobs).
    executor:
        Runs one job at a time and never raises (:class:`~jobs.executor.IngestExecutor`);
        its ``stop_event`` makes a running job abandon further calls.
    heartbeat_every:
        Seconds between heartbeats when no job finishes (`tracker status` reads them).

    Examples
    --------
    >>> daemon = Daemon(load_config(), IngestExecutor(load_config()))   # doctest: +SKIP
    >>> daemon.run_once()        # every enabled job once, in order     # doctest: +SKIP
    >>> daemon.run_forever()     # until SIGTERM or SIGINT; returns 0    # doctest: +SKIP
    """

    def __init__(self, config: Config, executor: JobExecutor, *, heartbeat_every: float = HEARTBEAT_EVERY):
        self.config = config
        self.executor = executor
        self.heartbeat_every = heartbeat_every
        self.heartbeat_file = heartbeat_path(config.database.path)
        self.failures = RepeatedFailureLog(log)
        self.offline = OfflineBackoff()
        self.last: dict[str, dict] = {}
        self.started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.scheduler: BlockingScheduler | None = None
        self._state_lock = threading.Lock()
        self._stopper: threading.Thread | None = None
        self._job_locks: dict[str, threading.Lock] = {}
        self._in_flight = 0  # jobs running now; the main thread waits for them at shutdown
        self._skip_notes: dict[tuple[str, str], float] = {}
        self._idle = threading.Condition()
        self.reports = LiveReportsJob(config, clock=getattr(executor, "clock", None))
        self._reports_due = False  # run_once: a job stored prices, so the reports run at the end

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
            self._skip_note(job, "overrun", "%s: still running from the last time; this run is skipped")
            return {"status": "skipped", "reason": "already running"}
        try:
            outcome = self.executor.execute(job)
        finally:
            guard.release()
        with self._state_lock:
            kept = {k: v for k, v in outcome.items() if k != "lock_ms"}  # the samples go to lock_held_ms
            self.last[job] = dict(kept, finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self._back_off(job, outcome)
        self._log_outcome(job, outcome)
        self._beat()
        if outcome.get("stored_prices") and self.reports.enabled:
            self._queue_reports()
        return outcome

    # -- the reports job: after any job that stored prices -----------------------------------
    def _queue_reports(self) -> None:
        if self.scheduler is None:
            self._reports_due = True
            return
        try:  # two instances: one more run may wait while one builds (it folds into that one)
            self.scheduler.add_job(self._run_reports, id="reports", name="reports", next_run_time=datetime.now(timezone.utc),
                                   max_instances=2, misfire_grace_time=None, replace_existing=True)
        except Exception:  # the scheduler is shutting down: the next start builds them
            return

    def _run_reports(self) -> dict:
        with self._idle:
            if self.executor.stop_event.is_set():
                return {"status": "skipped", "reason": "stopping"}
            self._in_flight += 1
        try:
            outcome = self.reports.run()
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()
        if outcome["status"] != "skipped":
            if outcome["status"] in ("failed", "partial") and outcome.get("error"):
                self.failures.failure("reports", outcome["error"], "the end of the next job that stores prices",
                                      status=outcome["status"], detail=describe_reports(outcome))
            else:
                log.info("reports: %s, %s%s", outcome["status"], describe_reports(outcome), self.failures.success("reports"))
        return outcome

    def _back_off(self, job: str, outcome: dict) -> None:
        """After a run that found the host unreachable, put the job's next run off (see jobs/backoff.py)."""
        if self.scheduler is None:
            return  # --once: there is no next run to put off
        if not outcome.get("unreachable"):
            if outcome.get("status") in ("ok", "partial"):
                self.offline.reached(job)
            return
        wait = self.offline.failed(job)
        outcome["backoff_seconds"] = wait
        scheduled = self._next_run_time(job)
        earliest = datetime.now(timezone.utc) + timedelta(seconds=wait)
        if scheduled is None or scheduled >= earliest:
            return
        try:
            self.scheduler.modify_job(job, next_run_time=earliest)
        except Exception:  # the scheduler is stopping under us: there is no next run to move
            pass

    def _log_outcome(self, job: str, outcome: dict) -> None:
        """One line per run at most: a summary when it went well, the failure the first time
        (with the next try), nothing while the same failure repeats."""
        status = outcome.get("status")
        summary = describe_outcome(outcome)
        if outcome.get("stopping") and status != "ok":
            log.info("%s: stopped for shutdown (%s); the next start resumes from the watermarks", job, summary)
        elif status in ("failed", "partial") and outcome.get("error"):
            self.failures.failure(job, outcome["error"], self._next_run(job), status=status, detail=summary)
        else:
            log.info("%s: %s, %s%s", job, status, summary, self.failures.success(job))

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
            for job in daemon_jobs(self.config):
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
        """Run every enabled job once, in dependency order, then return their outcomes; after
        a run that found the host unreachable, the rest are not started."""
        outcomes = {}
        for job in daemon_jobs(self.config):
            if not self.config.schedules[job].enabled:
                continue
            if self.executor.stop_event.is_set():
                break
            outcomes[job] = self._run_job(job)
            if outcomes[job].get("unreachable"):
                break
        if self._reports_due and not self.executor.stop_event.is_set():
            self._reports_due = False
            self._run_reports()  # not among the outcomes: --once's exit status is about ingestion
        self._beat(stopped=True)
        return outcomes

    def startup_jobs(self) -> list[str]:
        """Jobs to run at start, in order: those asking for it, and those never done yet."""
        never = getattr(self.executor, "jobs_never_done", set)()
        return [
            job for job in daemon_jobs(self.config)
            if self.config.schedules[job].enabled and (self.config.schedules[job].run_at_start or job in never)
        ]

    def _startup(self, jobs: list[str]) -> None:
        for job in jobs:
            if self.executor.stop_event.is_set():
                return
            self._run_job(job)

    def run_forever(self, install_signals: bool = True) -> int:
        """Run the jobs on their schedules until :meth:`stop` (SIGTERM or SIGINT when
        ``install_signals``); waits for the jobs in flight, then returns 0."""
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
        # A stop asked for before the scheduler ran (a signal during start-up) takes effect as
        # soon as it starts, or start() would block for good.
        scheduler.add_listener(self._stop_if_asked, EVENT_SCHEDULER_STARTED)
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
        self._shutdown_scheduler()

    def _shutdown_scheduler(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            try:
                self.scheduler.shutdown(wait=False)
            except SchedulerNotRunningError:  # stopped meanwhile by the other path
                pass

    def _stop_if_asked(self, _event) -> None:
        if self.executor.stop_event.is_set():
            self._shutdown_scheduler()

    def _on_signal(self, signum, _frame=None) -> None:
        log.info("received %s: finishing the call in flight, writing nothing partial, then exiting",
                 signal.Signals(signum).name)
        # shutdown() takes the scheduler's locks, which the interrupted main loop may hold: a
        # thread does it once the handler has returned.
        if self._stopper is None:
            self._stopper = threading.Thread(target=self.stop, name="daemon-stop", daemon=True)
            self._stopper.start()

    def _skip_note(self, job: str, kind: str, message: str) -> None:
        """A skipped run is worth one line per job and kind every half hour, not one per tick."""
        now = time.monotonic()
        last = self._skip_notes.get((job, kind))
        if last is None or now - last >= REMIND_EVERY:
            self._skip_notes[(job, kind)] = now
            log.warning(message, job)

    def _on_event(self, event) -> None:
        if event.job_id == "heartbeat":
            return
        if event.code == EVENT_JOB_MISSED:
            self._skip_note(event.job_id, "missed", "%s: a run was missed (both workers busy, or the machine asleep); "
                            "the next one catches up from the watermarks")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            self._skip_note(event.job_id, "overrun", "%s: still running from the last time; this run is skipped")
        elif event.code == EVENT_JOB_ERROR:
            # The executor records its own failures; this is a bug in the job itself.
            self.failures.failure(event.job_id, describe(event.exception), self._next_run(event.job_id))


def check_startable(config: Config) -> None:
    """What the config alone can tell is wrong, before anything is made: a plan that needs a
    key without one, a live-reports folder that cannot be written (the schedules were checked
    when the config was read).

    Raises
    ------
    ConfigError
        One line naming the problem.
    """
    get_plan(config.coingecko.plan).headers(config.coingecko.api_key)
    if config.reports.enabled:
        from tracker.paths import check_output_dir

        check_output_dir(config.reports_dir, what="live reports")


class _Signals:
    """SIGTERM and SIGINT handlers for the whole life of `tracker daemon`, start-up included:
    until a daemon is ready to take them, a signal is only noted."""

    def __init__(self) -> None:
        self.received: int | None = None
        self.target: Callable[[int], None] | None = None
        self._previous: dict[int, object] = {}

    def install(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            self._previous[signum] = signal.signal(signum, self._handle)

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum, _frame) -> None:
        self.received = signum
        if self.target is not None:
            self.target(signum)


def run_daemon(config: Config, *, once: bool = False,
               executor_factory: Callable[[Config], JobExecutor] | None = None,
               install_signals: bool = True) -> int:
    """Run the daemon in the foreground (or every job once); returns the exit code.

    One daemon per database (:class:`~jobs.instance.InstanceLock`); SIGTERM or SIGINT, even
    during start-up or ``--once``, lets the call in flight finish or time out, writes what
    was fetched, and exits 0. The libraries' repeated log lines are kept down
    (:func:`~jobs.quiet_log.quiet_library_logs`).
    """
    if executor_factory is None:
        from .executor import IngestExecutor as executor_factory
    check_startable(config)
    check_database_path(config.database.path, create=True, write=True)  # before the lock file lands beside it
    signals = _Signals()
    if install_signals:
        signals.install()
    try:
        with InstanceLock(config.database.path), quiet_library_logs():
            for line in banner(config):
                log.info(line)
            executor = executor_factory(config)
            try:
                daemon = Daemon(config, executor)
                signals.target = lambda signum: daemon._on_signal(signum)
                if signals.received is not None:
                    daemon._on_signal(signals.received)
                    daemon._beat(stopped=True)
                    return 0
                if once:
                    outcomes = daemon.run_once()
                    failed = [job for job, outcome in outcomes.items() if outcome.get("status") == "failed"]
                    return 1 if failed and signals.received is None else 0
                return daemon.run_forever(install_signals=False)
            finally:
                close = getattr(executor, "close", None)
                if close is not None:
                    close()
    finally:
        signals.restore()


def run_jobs_once(config: Config, *, clock: Callable[[], datetime] | None = None) -> dict[str, dict]:
    """Every enabled job once, exactly as the daemon runs them (`tracker daemon --once`, the demo)."""
    from .executor import IngestExecutor

    executor = IngestExecutor(config, clock=clock)
    try:
        return Daemon(config, executor).run_once()
    finally:
        executor.close()
