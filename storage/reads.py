"""Reads: row counts and freshness, recent runs, and user SQL on a read-only connection."""
from __future__ import annotations

from typing import Any, Sequence

import duckdb
import pandas as pd

from .connection import Database
from .errors import ReadOnlyQueryError, StorageError
from .schema import TABLES, quote_identifier

# Statement types a read-only query may contain. COPY, ATTACH, SET, INSTALL, LOAD and EXPORT are
# refused too: they write files, change the session or reach the network.
_READ_STATEMENTS = {"SELECT", "EXPLAIN", "PRAGMA"}


def check_read_only_sql(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    """Parse ``sql`` and refuse anything but queries, naming the first offending statement."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise ReadOnlyQueryError(f"SQL error: {_first_line(exc)}") from None
    if not statements:
        raise ReadOnlyQueryError("no SQL statement given")
    for statement in statements:
        kind = statement.type.name
        if kind not in _READ_STATEMENTS:
            raise ReadOnlyQueryError(
                f"{kind} statements are refused: `tracker sql` only reads (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN)"
            )
    return statements


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]


def query(db: Database, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run one read query on a short read-only connection and return a DataFrame."""
    with db.connect(read_only=True) as con:
        try:
            return con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise StorageError(f"query failed: {_first_line(exc)}") from None


def run_user_sql(db: Database, sql: str) -> pd.DataFrame:
    """Run a user's SQL read-only; several statements give the last one's result."""
    with db.connect(read_only=True) as con:
        statements = check_read_only_sql(con, sql)
        result = None
        try:
            for statement in statements:
                result = con.execute(statement)
            return result.df() if result is not None and result.description else pd.DataFrame()
        except duckdb.Error as exc:
            raise ReadOnlyQueryError(f"SQL error: {_first_line(exc)}") from None


def table_stats(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Row count and the newest timestamp per known table."""
    rows = []
    for spec in TABLES.values():
        table = quote_identifier(spec.name)
        if spec.time_column:
            column = quote_identifier(spec.time_column)
            count, newest = con.execute(f"SELECT count(*), max({column}) FROM {table}").fetchone()
        else:
            count, newest = con.execute(f"SELECT count(*), NULL FROM {table}").fetchone()
        rows.append({"table": spec.name, "rows": int(count), "newest_utc": newest})
    return pd.DataFrame(rows, columns=["table", "rows", "newest_utc"])


def recent_runs(con: duckdb.DuckDBPyConnection, limit: int = 10) -> pd.DataFrame:
    return con.execute(
        "SELECT job, started_at, finished_at, status, calls, rows, error FROM ingest_runs "
        "ORDER BY started_at DESC LIMIT ?",
        [limit],
    ).df()


def last_run_per_job(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute(
        "SELECT job, started_at, finished_at, status, calls, rows, error FROM ingest_runs "
        "QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1 ORDER BY job"
    ).df()
