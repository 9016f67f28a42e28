"""Run records (``ingest_runs``) and watermarks (``ingest_state``): the bookkeeping SQL.

The rules (who owns a run, when it counts as abandoned, how batches merge into one run) live in
``tracker.ingest.runs`` and ``tracker.ingest.write``; this module only reads and writes the rows.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Sequence

import duckdb

from .connection import Database
from .reads import query
from .writes import upsert

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd


def write_run(con: duckdb.DuckDBPyConnection, row: pd.DataFrame) -> None:
    """Insert or replace run rows (``ingest_runs`` columns) by ``run_id``."""
    upsert(con, "ingest_runs", row)


def stored_run(con: duckdb.DuckDBPyConnection, run_id: str) -> tuple | None:
    """``(started_at, finished_at, status, calls, rows, error, details)`` of a run, or None."""
    return con.execute(
        "SELECT started_at, finished_at, status, calls, rows, error, details FROM ingest_runs WHERE run_id = ?", [run_id]
    ).fetchone()


def run_summary_row(db: Database, run_id: str) -> pd.DataFrame:
    """One run's job, id, status, calls, rows, start, finish and error (an empty frame if unknown)."""
    return query(
        db, "SELECT job, run_id, status, calls, rows, started_at, finished_at, error FROM ingest_runs WHERE run_id = ?", [run_id]
    )


def running_runs(con: duckdb.DuckDBPyConnection, job: str | None = None, *,
                 started_before: datetime | None = None) -> list[tuple[str, str | None]]:
    """``(run_id, details)`` of the runs still 'running', optionally of one job or started before an instant."""
    sql = "SELECT run_id, details FROM ingest_runs WHERE status = 'running'"
    params: list[Any] = []
    if job is not None:
        sql += " AND job = ?"
        params.append(job)
    if started_before is not None:
        sql += " AND started_at < ?"
        params.append(started_before)
    return con.execute(sql, params).fetchall()


def mark_runs_abandoned(con: duckdb.DuckDBPyConnection, run_ids: Sequence[str], at: datetime) -> None:
    """Mark these runs, if still 'running', abandoned at ``at`` (keeping any error they recorded)."""
    con.execute(
        "UPDATE ingest_runs SET status = 'abandoned', finished_at = ?, "
        "error = coalesce(error, 'process ended before the run finished') "
        "WHERE status = 'running' AND list_contains(?, run_id)",
        [at, list(run_ids)],
    )


def jobs_done(db: Database) -> set[str]:
    """Jobs with at least one run that finished ok or partial."""
    done = query(db, "SELECT DISTINCT job FROM ingest_runs WHERE status IN ('ok', 'partial')")
    return set(done["job"])


def write_watermarks(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> None:
    """Insert or replace ``ingest_state`` rows (job, scope, watermark, detail, updated_at)."""
    upsert(con, "ingest_state", rows)


def coin_watermarks(con: duckdb.DuckDBPyConnection, job: str) -> list[tuple[str, datetime | None, str | None]]:
    """``(scope, watermark, detail)`` of a job's per-coin (or per-category) watermarks, without its '*' scope."""
    return con.execute("SELECT scope, watermark, detail FROM ingest_state WHERE job = ? AND scope <> '*'", [job]).fetchall()


__all__ = [
    "coin_watermarks",
    "jobs_done",
    "mark_runs_abandoned",
    "run_summary_row",
    "running_runs",
    "stored_run",
    "write_run",
    "write_watermarks",
]
