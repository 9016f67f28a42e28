"""The daemon's part of `tracker status`: alive or not, next runs, lock-held times, spool."""
from __future__ import annotations

from datetime import timezone
from pathlib import Path
from typing import Any

from storage.rows import Rows, from_records

from .heartbeat import heartbeat_path, read_heartbeat


def daemon_sections(db_path: Path, last_runs: Rows | None) -> dict[str, Any]:
    """Sections to add to `tracker status`: ``daemon`` and ``schedule`` (next run per job)."""
    beat = read_heartbeat(heartbeat_path(db_path))
    if beat is None:
        return {"daemon": from_records([{"alive": False, "note": "no daemon has run against this database"}])}
    daemon = from_records([{
        "alive": bool(beat["alive"]),
        "pid": beat.get("pid"),
        "started_at": beat.get("started_at"),
        "heartbeat_age_s": beat.get("age_seconds"),
        "plan": beat.get("plan"),
        "spool_waiting": beat.get("spool_waiting", 0),
    }])
    # A restarted daemon's heartbeat knows only the runs of its own life; the database knows
    # every job's last run (a spooled run is in the heartbeat before it is in the database).
    stored = {}
    if last_runs is not None and not last_runs.empty:
        for row in last_runs.records():
            finished = row["finished_at"]
            stored[row["job"]] = (row["status"], finished.replace(microsecond=0, tzinfo=timezone.utc).isoformat() if finished else None)
    rows = []
    for job, entry in (beat.get("jobs") or {}).items():
        held = (beat.get("lock_held_ms") or {}).get(job, {})
        status, finished = stored.get(job, (None, None))
        rows.append({
            "job": job,
            "next_run": entry.get("next_run") if beat["alive"] else None,
            "last_status": entry.get("status") or status,
            "last_finished": entry.get("finished_at") or finished,
            "writes": held.get("writes"),
            "lock_ms_median": held.get("median_ms"),
            "lock_ms_p95": held.get("p95_ms"),
            "lock_ms_max": held.get("max_ms"),
        })
    columns = ["job", "next_run", "last_status", "last_finished", "writes", "lock_ms_median", "lock_ms_p95", "lock_ms_max"]
    return {"daemon": daemon, "schedule": from_records(rows, columns)}
