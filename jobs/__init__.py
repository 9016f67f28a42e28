"""Scheduled ingestion jobs and the daemon that runs them (APScheduler 3.11).

``run_daemon(config)`` is what `tracker daemon` calls: the jobs from ``config.schedules`` on a
BlockingScheduler, each fetching without the database lock and writing short transactions,
spooling batches when a reader holds the file, and publishing a read-only snapshot.
"""
from .daemon import Daemon, banner, check_startable, run_daemon, run_jobs_once
from .executor import IngestExecutor
from .heartbeat import heartbeat_path, read_heartbeat
from .instance import DaemonAlreadyRunning, InstanceLock
from .schedule import JobPlan, plan_for, plans
from .snapshot import publish_snapshot, snapshot_path
from .spool import Spool

__all__ = [
    "Daemon",
    "DaemonAlreadyRunning",
    "IngestExecutor",
    "InstanceLock",
    "JobPlan",
    "Spool",
    "banner",
    "check_startable",
    "heartbeat_path",
    "plan_for",
    "plans",
    "publish_snapshot",
    "read_heartbeat",
    "run_daemon",
    "run_jobs_once",
    "snapshot_path",
]
