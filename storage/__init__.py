"""DuckDB storage for ai-token-tracker: schema migrations, short-lived connections, set-based writes.

This package knows nothing of HTTP or CoinGecko: it stores DataFrames and answers queries.
"""
from .batches import (
    add_new_coins,
    apply_membership,
    deactivate_coins,
    inactive_coins,
    keep_known,
    null_amount_points,
    open_members,
    replace_partial,
    replaced_prices_per_coin,
)

# Named reads of the data-access layer: services call these and hold no SQL.
from .coins import coin_labels, known_coin_ids, priced_coin_ids
from .connection import STORAGE_COMPATIBILITY, Database, check_database_path, wal_path
from .cookbook import DEMO_QUERIES
from .errors import (
    DatabaseDamagedError,
    DatabaseLockedError,
    DatabaseNotFoundError,
    DatabasePathError,
    MigrationError,
    ReadOnlyQueryError,
    SchemaError,
    StorageError,
    WriteError,
)
from .events import EVENT_COLUMNS, all_events, all_events_rows, event_row, stored_event_ids
from .export import base_tables, quiet_progress, row_count, write_parquet_by_month, write_parquet_file
from .integrity import CheckResult, full_check, missing_error, missing_objects, present_objects, verify, verify_on
from .markets import COIN_MARKET_COLUMNS, coin_markets, coin_symbols, coins_by_symbol, stored_coin_markets, upsert_coin_markets
from .membership import first_membership_instant, members_at, membership_changes
from .migrations import available_migrations, current_version, latest_version, migrate
from .prices import (
    close_sources,
    closes_long,
    coverage_by_source,
    minute_prices,
    most_used_currency,
    price_sources,
    source_closes_all,
    source_coverage,
)
from .reads import (
    check_read_only_sql,
    last_run_per_job,
    last_run_per_job_rows,
    query,
    query_rows,
    recent_runs,
    run_user_sql,
    run_user_sql_rows,
    table_stats,
    table_stats_rows,
)
from .rows import Rows
from .runs import (
    coin_watermarks,
    jobs_done,
    mark_runs_abandoned,
    run_summary_row,
    running_runs,
    stored_run,
    write_run,
    write_watermarks,
)
from .schema import TABLES, TableSpec, quote_identifier, table_spec
from .series import series_summary, series_values
from .status import recent_errors, recent_errors_rows, run_durations
from .writes import UpsertResult, table_columns, upsert


def open_database(path, *, create: bool = False, lock_timeout: float = 10.0) -> Database:
    """Open the database for writing: the path is checked, the file verified, the schema upgraded.

    Call it once before a command's first write (or at daemon start). ``create``: a missing
    file is created and an empty regular file initialised in place (`tracker init`, the
    daemon, the demo); without it both are refused with the hint to run `tracker init`.

    Raises
    ------
    DatabasePathError
        The path is a folder, device, FIFO, socket, foreign file, or cannot be written.
    DatabaseNotFoundError
        No file (or an empty one) and ``create`` is false.
    DatabaseDamagedError
        The file fails the quick verify (:func:`storage.integrity.verify_on`).
    SchemaError, MigrationError
        A DuckDB file that is not the tracker's, one missing a table, or one from a newer tracker.
    """
    db = Database(path, lock_timeout=lock_timeout)
    check_database_path(db.path, create=create, write=True)
    if not db.path.exists():
        with db.connect(create=True) as con:
            migrate(con)
        return db
    if db.is_empty_file():
        if not create:
            raise DatabaseNotFoundError(f"database file {db.path} is empty; run `tracker init` to initialise it")
        db.initialise_empty_file(migrate)
        return db
    with db.connect(read_only=True) as con:
        version = verify_on(con, db.path)
        _check_schema(con, db.path, version, upgrading=True)
    if version != latest_version():
        with db.connect() as con:
            migrate(con)
            missing = missing_objects(con, latest_version())
        if missing:
            raise missing_error(db.path, latest_version(), missing)
    return db


def open_for_reading(path, *, lock_timeout: float = 10.0) -> Database:
    """Open the database for a read command: never creates, migrates or writes anything.

    A missing, empty or older file is refused with the hint to run `tracker init`.
    """
    db = Database(path, lock_timeout=lock_timeout)
    check_database_path(db.path, create=False)
    with db.connect(read_only=True) as con:
        _check_schema(con, db.path, current_version(con), upgrading=False)
    return db


def _check_schema(con, path, version: int, *, upgrading: bool) -> None:
    newest = latest_version()
    if version > newest:
        raise MigrationError(
            f"database schema version {version} is newer than this tracker supports ({newest}); upgrade ai-token-tracker"
        )
    if version == 0:
        foreign = sorted(name for name in present_objects(con))
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise SchemaError(f"{path} is a DuckDB file but not a tracker database (it holds {shown}); choose another path")
    if version < newest and not upgrading:
        raise SchemaError(
            f"database {path} has schema version {version}, older than this tracker's {newest}; "
            f"run `tracker init` to upgrade it (read commands never change the file)"
        )
    missing = missing_objects(con, version)
    if missing:
        raise missing_error(path, version, missing)


__all__ = [
    "STORAGE_COMPATIBILITY",
    "TABLES",
    "CheckResult",
    "Database",
    "DatabaseDamagedError",
    "DatabaseLockedError",
    "DatabaseNotFoundError",
    "DatabasePathError",
    "MigrationError",
    "ReadOnlyQueryError",
    "SchemaError",
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
    "full_check",
    "open_database",
    "open_for_reading",
    "query",
    "quote_identifier",
    "recent_runs",
    "run_user_sql",
    "table_columns",
    "table_spec",
    "table_stats",
    "upsert",
    "verify",
    "verify_on",
    "wal_path",
    # data-access reads
    "DEMO_QUERIES",
    "EVENT_COLUMNS",
    "all_events",
    "base_tables",
    "close_sources",
    "closes_long",
    "coin_labels",
    "event_row",
    "first_membership_instant",
    "known_coin_ids",
    "priced_coin_ids",
    "members_at",
    "membership_changes",
    "most_used_currency",
    "coverage_by_source",
    "price_sources",
    "source_coverage",
    "source_closes_all",
    "minute_prices",
    "quiet_progress",
    "recent_errors",
    "row_count",
    "run_durations",
    "series_summary",
    "series_values",
    "stored_event_ids",
    "write_parquet_by_month",
    "write_parquet_file",
    "add_new_coins",
    "apply_membership",
    "deactivate_coins",
    "inactive_coins",
    "keep_known",
    "null_amount_points",
    "open_members",
    "replace_partial",
    "replaced_prices_per_coin",
    "coin_watermarks",
    "jobs_done",
    "mark_runs_abandoned",
    "run_summary_row",
    "running_runs",
    "stored_run",
    "write_run",
    "write_watermarks",
    "COIN_MARKET_COLUMNS",
    "coin_markets",
    "coin_symbols",
    "coins_by_symbol",
    "stored_coin_markets",
    "upsert_coin_markets",
    # plain rows for the commands that start without pandas
    "Rows",
    "all_events_rows",
    "last_run_per_job_rows",
    "query_rows",
    "recent_errors_rows",
    "run_user_sql_rows",
    "table_stats_rows",
]
