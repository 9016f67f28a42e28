"""Scheduled ingestion jobs and the daemon that runs them (APScheduler 3.11).

``run_daemon(config)`` is what `tracker daemon` calls: the jobs from ``config.schedules`` on a
BlockingScheduler, each fetching without the database lock and writing short transactions,
spooling batches when a reader holds the file, and publishing a read-only snapshot.
"""
from __future__ import annotations

from tracker import lazy_exports

# name -> submodule. Loaded on first use, so importing one light submodule (for `tracker status`)
# does not load them all (pandas among them). Add new exports here.
_EXPORTS = {
    "Daemon": "daemon",
    "banner": "daemon",
    "check_startable": "daemon",
    "run_daemon": "daemon",
    "run_jobs_once": "daemon",
    "IngestExecutor": "executor",
    "heartbeat_path": "heartbeat",
    "read_heartbeat": "heartbeat",
    "DaemonAlreadyRunning": "instance",
    "InstanceLock": "instance",
    "JobPlan": "schedule",
    "plan_for": "schedule",
    "plans": "schedule",
    "publish_snapshot": "snapshot",
    "snapshot_path": "snapshot",
    "Spool": "spool",
    "LiveReportsJob": "reports",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
