"""Recording ingestion runs in ``ingest_runs`` and watermarks in ``ingest_state``.

A run's final row is written in the same transaction as the data it reports, so the record
and the rows agree even after a crash. Each run records the process that owns it (pid, host
and the process's start time, in ``details.owner``), so ``mark_abandoned`` can tidy runs left
'running' by a process that was killed while leaving alone those of a process still at work
(the daemon's while a CLI ingest writes, and the other way round).
"""
from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

import duckdb
import pandas as pd

import storage

from ..errors import first_line
from ..utc import now as utcnow  # ingest, jobs and the tests import it from here

STATUSES = ("running", "ok", "partial", "failed", "stopped", "abandoned", "spooled")


def _process_start(pid: int) -> str | None:
    """The kernel's start time of process ``pid`` (tells a reused pid apart), where /proc has it."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None


def current_owner() -> dict[str, Any]:
    """This process, as recorded in the runs it starts."""
    owner: dict[str, Any] = {"pid": os.getpid(), "host": socket.gethostname()}
    since = _process_start(os.getpid())
    if since is not None:
        owner["since"] = since
    return owner


def owner_alive(owner: Mapping[str, Any] | None) -> bool | None:
    """Whether the process that owns a run still runs: True, False, or None when it cannot be
    told (a process on another host). A run without an owner predates owners: it is gone."""
    if not owner or "pid" not in owner:
        return False
    if owner.get("host") != socket.gethostname():
        return None
    try:
        pid = int(owner["pid"])
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    except (TypeError, ValueError, OverflowError):
        return False
    since = owner.get("since")
    if since is not None:
        now = _process_start(pid)
        if now is not None and now != since:
            return False  # the pid now belongs to another process
    return True


@dataclass
class RunRecord:
    job: str
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=utcnow)
    finished_at: datetime | None = None
    status: str = "running"
    calls: int = 0
    rows: int = 0
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    owner: dict[str, Any] = field(default_factory=current_owner)  # stored as details["owner"]

    def finish(self, status: str, *, error: str | None = None) -> "RunRecord":
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        self.status, self.finished_at = status, utcnow()
        if error is not None:
            self.error = first_line(error) or error
        return self

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                {
                    "run_id": self.run_id,
                    "job": self.job,
                    "started_at": self.started_at,
                    "finished_at": self.finished_at,
                    "status": self.status,
                    "calls": int(self.calls),
                    "rows": int(self.rows),
                    "error": self.error,
                    "details": json.dumps({**self.details, "owner": self.owner} if self.owner else self.details,
                                          default=str, sort_keys=True) if self.details or self.owner else None,
                }
            ]
        )


def record_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> None:
    """Insert or update the run's row (call inside the transaction that writes its data)."""
    storage.write_run(con, run.to_frame())


def mark_abandoned(con: duckdb.DuckDBPyConnection, job: str | None = None, *, started_before: datetime | None = None,
                   keep: Iterable[str] = ()) -> int:
    """Runs still 'running' whose owning process is gone: mark them 'abandoned'. Returns how many.

    A run whose process still runs on this host is left alone, and so is one from another
    host (it cannot be told). ``started_before`` limits it to runs started before that instant;
    a run that this very process owns but started before then came from an earlier process
    (a spooled batch written before owners were recorded) and counts as gone. ``keep``: run
    ids to leave alone (their batches wait in the spool).
    """
    gone = gone_runs(con, job, started_before=started_before, keep=keep)
    if not gone:
        return 0
    storage.mark_runs_abandoned(con, gone, utcnow())
    return len(gone)


def gone_runs(con: duckdb.DuckDBPyConnection, job: str | None = None, *, started_before: datetime | None = None,
              keep: Iterable[str] = ()) -> list[str]:
    """The ids of the runs :func:`mark_abandoned` would mark (it only reads)."""
    me = current_owner()
    kept = set(keep)
    gone = []
    for run_id, details in storage.running_runs(con, job, started_before=started_before):
        if run_id in kept:
            continue
        try:
            owner = (json.loads(details) or {}).get("owner") if details else None
        except (ValueError, AttributeError):
            owner = None
        alive = owner_alive(owner)
        if alive is None:
            continue
        if alive and not (started_before is not None and owner.get("pid") == me["pid"] and owner.get("host") == me["host"]):
            continue
        gone.append(run_id)
    return gone


def tidy_abandoned(db: "storage.Database", *, keep: Iterable[str] = ()) -> int:
    """Before a command's writes: mark runs left 'running' by a killed process abandoned.

    Looks read-only first, so the write lock is taken only when there is something to mark;
    when the file is busy it gives up quietly (the next writer tidies).
    """
    try:
        with db.connect(read_only=True) as con:
            if not gone_runs(con, keep=keep):
                return 0
        with db.transaction() as con:
            return mark_abandoned(con, keep=keep)
    except storage.DatabaseLockedError:
        return 0


def set_watermarks(con: duckdb.DuckDBPyConnection, job: str, marks: Mapping[str, datetime | None], *, detail: Mapping[str, Any] | None = None) -> None:
    """Upsert watermarks for ``job``: scope '*' for the job, or a coin/category id."""
    if not marks:
        return
    now = utcnow()
    frame = pd.DataFrame(
        {
            "job": job,
            "scope": list(marks),
            "watermark": pd.to_datetime(list(marks.values())),
            "detail": [json.dumps(detail[s], default=str) if detail and s in detail else None for s in marks],
            "updated_at": now,
        }
    )
    storage.write_watermarks(con, frame)
