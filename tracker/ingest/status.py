"""What `tracker status` reports: the database, table freshness, and the ingestion jobs' runs.

Plain rows (:class:`storage.Rows`), not DataFrames: `tracker status` starts without pandas.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import storage
from storage import Database
from storage.rows import from_records


def _naive_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value if isinstance(value, datetime) else None


def _age(newest: Any, now: datetime) -> str:
    newest = _naive_utc(newest)
    if newest is None:
        return ""
    seconds = (now - newest).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def collect_status(db: Database, *, error_limit: int = 5) -> dict[str, Any]:
    """Sections for `tracker status`, each a :class:`storage.Rows` or a plain value."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with db.connect(read_only=True) as con:
        version = storage.current_version(con)
        tables = storage.table_stats_rows(con)
        last_runs = storage.last_run_per_job_rows(con)
        errors = storage.recent_errors_rows(con, error_limit)
    tables = from_records([dict(r, age=_age(r["newest_utc"], now)) for r in tables.records()],
                          [*tables.columns, "age"])
    return {
        "database": from_records(
            [{"path": str(db.path), "schema_version": version, "size_mb": round(db.path.stat().st_size / 2**20, 2)}]
        ),
        "tables": tables,
        "jobs": last_runs,
        "recent_errors": errors,
    }
