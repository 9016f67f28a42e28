"""Reads of the ingestion bookkeeping for `tracker status` and the demo (``ingest_runs``).

Table freshness and the last run per job are :func:`storage.table_stats` and
:func:`storage.last_run_per_job`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from .connection import Database
from .reads import query
from .rows import Rows, from_cursor

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd


_RECENT_ERRORS = ("SELECT job, started_at, status, error FROM ingest_runs WHERE error IS NOT NULL AND status <> 'stopped' "
                  "ORDER BY started_at DESC LIMIT ?")


def recent_errors(con: duckdb.DuckDBPyConnection, limit: int = 5) -> pd.DataFrame:
    """The ``limit`` newest runs that recorded an error: ``job, started_at, status, error``.

    A run stopped on request (SIGTERM, Ctrl-C) says why it ended, but that is no error.
    """
    return con.execute(_RECENT_ERRORS, [limit]).df()


def recent_errors_rows(con: duckdb.DuckDBPyConnection, limit: int = 5) -> Rows:
    """:func:`recent_errors` as plain rows."""
    return from_cursor(con.execute(_RECENT_ERRORS, [limit]))


def run_durations(db: Database) -> pd.DataFrame:
    """Every run in start order: ``job, status, calls, rows, seconds, error, run_id``."""
    return query(
        db,
        "SELECT job, status, calls, rows, round(epoch(finished_at - started_at), 3) AS seconds, error, run_id "
        "FROM ingest_runs ORDER BY started_at",
    )
