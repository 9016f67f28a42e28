"""Reads of the ingestion bookkeeping for `tracker status` and the demo (``ingest_runs``).

Table freshness and the last run per job are :func:`storage.table_stats` and
:func:`storage.last_run_per_job`.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .connection import Database
from .reads import query


def recent_errors(con: duckdb.DuckDBPyConnection, limit: int = 5) -> pd.DataFrame:
    """The ``limit`` newest runs that recorded an error: ``job, started_at, status, error``.

    A run stopped on request (SIGTERM, Ctrl-C) says why it ended, but that is no error.
    """
    return con.execute(
        "SELECT job, started_at, status, error FROM ingest_runs WHERE error IS NOT NULL AND status <> 'stopped' "
        "ORDER BY started_at DESC LIMIT ?",
        [limit],
    ).df()


def run_durations(db: Database) -> pd.DataFrame:
    """Every run in start order: ``job, status, calls, rows, seconds, error, run_id``."""
    return query(
        db,
        "SELECT job, status, calls, rows, round(epoch(finished_at - started_at), 3) AS seconds, error, run_id "
        "FROM ingest_runs ORDER BY started_at",
    )
