"""DuckDB storage for ai-token-tracker: schema migrations, short-lived connections, set-based writes.

This package knows nothing of HTTP or CoinGecko: it stores DataFrames and answers queries.
"""
from .connection import STORAGE_COMPATIBILITY, Database, check_database_path
from .errors import (
    DatabaseLockedError,
    DatabaseNotFoundError,
    DatabasePathError,
    MigrationError,
    ReadOnlyQueryError,
    StorageError,
    WriteError,
)
from .migrations import available_migrations, current_version, latest_version, migrate
from .reads import check_read_only_sql, last_run_per_job, query, recent_runs, run_user_sql, table_stats
from .schema import TABLES, TableSpec, quote_identifier, table_spec
from .writes import UpsertResult, table_columns, upsert


def open_database(path, *, create: bool = False, lock_timeout: float = 10.0) -> Database:
    """Return a :class:`Database` whose schema is up to date, upgrading an older file in place.

    An up-to-date file is only checked read-only, so readers never need the write lock.
    """
    db = Database(path, lock_timeout=lock_timeout)
    if not db.exists():
        if not create:
            check_database_path(db.path, create=False)  # raises the one-line "run tracker init" hint
        with db.connect(create=True) as con:
            migrate(con)
        return db
    with db.connect(read_only=True) as con:
        outdated = current_version(con) != latest_version()
    if outdated:
        with db.connect() as con:
            migrate(con)
    return db


__all__ = [
    "STORAGE_COMPATIBILITY",
    "TABLES",
    "Database",
    "DatabaseLockedError",
    "DatabaseNotFoundError",
    "DatabasePathError",
    "MigrationError",
    "ReadOnlyQueryError",
    "StorageError",
    "TableSpec",
    "UpsertResult",
    "WriteError",
    "available_migrations",
    "check_database_path",
    "check_read_only_sql",
    "current_version",
    "last_run_per_job",
    "latest_version",
    "migrate",
    "open_database",
    "query",
    "quote_identifier",
    "recent_runs",
    "run_user_sql",
    "table_columns",
    "table_spec",
    "table_stats",
    "upsert",
]
