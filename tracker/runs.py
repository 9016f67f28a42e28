"""Recording ingestion runs in ``ingest_runs`` and watermarks in ``ingest_state``.

A run's final row is written in the same transaction as the data it reports, so the record
and the rows agree even after a crash. ``mark_abandoned`` tidies runs left 'running' by a
process that was killed.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

import duckdb
import pandas as pd

import storage

STATUSES = ("running", "ok", "partial", "failed", "abandoned", "spooled")


def utcnow() -> datetime:
    """Now, as the naive UTC datetime every table stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


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

    def finish(self, status: str, *, error: str | None = None) -> "RunRecord":
        if status not in STATUSES:
            raise ValueError(f"unknown run status {status!r}")
        self.status, self.finished_at = status, utcnow()
        if error is not None:
            self.error = error.strip().splitlines()[0] if error.strip() else error
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
                    "details": json.dumps(self.details, default=str, sort_keys=True) if self.details else None,
                }
            ]
        )


def record_run(con: duckdb.DuckDBPyConnection, run: RunRecord) -> None:
    """Insert or update the run's row (call inside the transaction that writes its data)."""
    storage.upsert(con, "ingest_runs", run.to_frame())


def mark_abandoned(con: duckdb.DuckDBPyConnection, job: str | None = None, *, started_before: datetime | None = None) -> int:
    """Runs still 'running' belong to a process that died: mark them 'abandoned'.

    ``started_before`` limits it to runs started before that instant, so a process that
    tidies up after it has begun its own runs leaves those alone.
    """
    sql = "UPDATE ingest_runs SET status = 'abandoned', finished_at = ?, error = coalesce(error, 'process ended before the run finished') WHERE status = 'running'"
    params: list[Any] = [utcnow()]
    if job is not None:
        sql += " AND job = ?"
        params.append(job)
    if started_before is not None:
        sql += " AND started_at < ?"
        params.append(started_before)
    return con.execute(sql, params).fetchone()[0]


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
    storage.upsert(con, "ingest_state", frame)


def get_watermarks(con: duckdb.DuckDBPyConnection, job: str) -> dict[str, datetime | None]:
    rows = con.execute("SELECT scope, watermark FROM ingest_state WHERE job = ?", [job]).fetchall()
    return {scope: mark for scope, mark in rows}
