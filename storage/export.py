"""Reads that write Parquet: a table or view copied to files by DuckDB itself.

Relation names come from the storage registry (or the export's fixed list of views) and are
quoted here; the target paths are handed to DuckDB's relation API as plain strings, never
spliced into SQL text, so no path a user names can change a statement.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from .schema import quote_identifier


def quiet_progress(con: duckdb.DuckDBPyConnection) -> None:
    """Turn off DuckDB's own progress bar on ``con`` (it would land in the caller's stdout)."""
    con.execute("SET enable_progress_bar = false")


def base_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Names of the tables (and views) in the database's main schema."""
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()
    return {r[0] for r in rows}


def row_count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    """Rows in the table or view ``relation`` (a registry name, not user input)."""
    return con.execute(f"SELECT count(*) FROM {quote_identifier(relation)}").fetchall()[0][0]


def write_parquet_file(con: duckdb.DuckDBPyConnection, relation: str, path: Path) -> None:
    """Copy ``relation`` whole into one zstd Parquet file at ``path``."""
    con.sql(f"SELECT * FROM {quote_identifier(relation)}").write_parquet(str(path), compression="zstd")


def write_parquet_by_month(con: duckdb.DuckDBPyConnection, relation: str, time_column: str, folder: Path,
                           partition_column: str) -> None:
    """Copy ``relation`` into ``folder`` as Hive partitions ``<partition_column>=YYYY-MM`` of the
    UTC month of ``time_column`` (COPY ... PARTITION_BY underneath), rows in time order."""
    column = quote_identifier(time_column)
    con.sql(
        f"SELECT *, strftime({column}, '%Y-%m') AS {quote_identifier(partition_column)} "
        f"FROM {quote_identifier(relation)} ORDER BY {column}"
    ).write_parquet(str(folder), compression="zstd", partition_by=[partition_column], overwrite=True)
