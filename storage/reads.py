"""Reads: row counts and freshness, recent runs, and user SQL on a locked-down read-only connection."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import duckdb

from .connection import Database
from .errors import ReadOnlyQueryError, StorageError
from .rows import Rows, from_cursor, from_records
from .sandbox import check_statements, describe_sql_error, first_line, resolve_allowed_paths, sandboxed_connection
from .schema import TABLES, quote_identifier

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd


def check_read_only_sql(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    """Parse ``sql`` and refuse anything but reads, naming the first offending statement.

    A friendly first refusal; the boundary itself is the locked-down connection of
    :func:`run_user_sql` (see storage/sandbox.py).
    """
    return check_statements(con, sql)


def query(db: Database, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run one read query on a short read-only connection and return a DataFrame."""
    with db.connect(read_only=True) as con:
        try:
            return con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise StorageError(f"query failed: {first_line(exc)}") from None


def query_rows(db: Database, sql: str, params: Sequence[Any] | None = None) -> Rows:
    """:func:`query`, returning plain :class:`~storage.rows.Rows` (no pandas)."""
    with db.connect(read_only=True) as con:
        try:
            return from_cursor(con.execute(sql, params or []))
        except duckdb.Error as exc:
            raise StorageError(f"query failed: {first_line(exc)}") from None


def period_bounds(column: str, start: Any | None, end: Any | None) -> tuple[str, list]:
    """`` AND column >= ? AND column <= ?`` for the bounds given (None leaves a side open), and
    their parameters. ``column`` is one of the caller's own column names, never user input."""
    sql, params = "", []
    if start is not None:
        sql += f" AND {column} >= ?"
        params.append(start)
    if end is not None:
        sql += f" AND {column} <= ?"
        params.append(end)
    return sql, params


def run_user_sql(db: Database, sql: str, *, allow_paths: Iterable[str | os.PathLike] = ()) -> pd.DataFrame:
    """Run a user's SQL on a locked-down read-only connection; several statements give the last
    one's result.

    The query reads the database and nothing else: no other file, no network, no extension,
    no setting it could undo. ``allow_paths`` (existing files or folders) may also be read.
    Raises :class:`ReadOnlyQueryError` (one line) for a refused statement or a failed query, and
    :class:`storage.sandbox.AllowPathError` for an allowed path that does not exist.
    """
    return _user_sql(db, sql, allow_paths, lambda result: result.df() if result is not None and result.description
                     else from_cursor(result).to_frame())


def run_user_sql_rows(db: Database, sql: str, *, allow_paths: Iterable[str | os.PathLike] = ()) -> Rows:
    """:func:`run_user_sql`, returning plain :class:`~storage.rows.Rows`: `tracker sql` needs no pandas."""
    return _user_sql(db, sql, allow_paths, from_cursor)


def _user_sql(db: Database, sql: str, allow_paths: Iterable[str | os.PathLike], fetch):
    allowed = resolve_allowed_paths(allow_paths)
    with sandboxed_connection(db, allowed) as con:
        statements = check_read_only_sql(con, sql)
        result = None
        try:
            for statement in statements:
                result = con.execute(statement)
            return fetch(result)
        except duckdb.Error as exc:
            raise ReadOnlyQueryError(describe_sql_error(exc)) from None


def table_stats(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Row count and the newest timestamp per known table."""
    return table_stats_rows(con).to_frame()


def table_stats_rows(con: duckdb.DuckDBPyConnection) -> Rows:
    """:func:`table_stats` as plain rows."""
    rows = []
    for spec in TABLES.values():
        table = quote_identifier(spec.name)
        if spec.time_column:
            column = quote_identifier(spec.time_column)
            count, newest = con.execute(f"SELECT count(*), max({column}) FROM {table}").fetchone()
        else:
            count, newest = con.execute(f"SELECT count(*), NULL FROM {table}").fetchone()
        rows.append({"table": spec.name, "rows": int(count), "newest_utc": newest})
    return from_records(rows, ["table", "rows", "newest_utc"])


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> pd.DataFrame:
    return con.execute(
        "SELECT job, started_at, finished_at, status, calls, rows, error FROM ingest_runs "
        "ORDER BY started_at DESC LIMIT ?",
        [limit],
    ).df()


_LAST_RUN_PER_JOB = (
    "SELECT job, started_at, finished_at, status, calls, rows, error FROM ingest_runs "
    "QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1 ORDER BY job"
)


def last_run_per_job(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(_LAST_RUN_PER_JOB).df()


def last_run_per_job_rows(con: duckdb.DuckDBPyConnection) -> Rows:
    return from_cursor(con.execute(_LAST_RUN_PER_JOB))
