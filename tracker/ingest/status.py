"""What `tracker status` reports: the database, table freshness, and the ingestion jobs' runs."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd

import storage
from storage import Database

from .. import utc


def _age(newest: Any, now: datetime) -> str:
    if newest is None or pd.isna(newest):
        return ""
    seconds = (now - pd.Timestamp(newest).to_pydatetime()).total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def collect_status(db: Database, *, error_limit: int = 5) -> dict[str, Any]:
    """Sections for `tracker status`, each a DataFrame or a plain value."""
    now = utc.now()
    with db.connect(read_only=True) as con:
        version = storage.current_version(con)
        tables = storage.table_stats(con)
        last_runs = storage.last_run_per_job(con)
        errors = storage.recent_errors(con, error_limit)
    tables["age"] = [_age(v, now) for v in tables["newest_utc"]]
    return {
        "database": pd.DataFrame(
            [{"path": str(db.path), "schema_version": version, "size_mb": round(db.path.stat().st_size / 2**20, 2)}]
        ),
        "tables": tables,
        "jobs": last_runs,
        "recent_errors": errors,
    }
