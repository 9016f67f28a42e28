"""Export the database as Hive-partitioned Parquet, for engines bigger than one DuckDB file.

Layout written under the target folder::

    price_history/month=2024-02/data_0.parquet     time series: one folder per UTC month
    market_snapshots/month=.../data_0.parquet
    category_snapshots/month=.../data_0.parquet
    coins/data_0.parquet                            small tables: one file, no partitions
    ...
    _manifest.json                                  what was written: rows and files per table

DuckDB, Polars, Spark, Trino and pyarrow read each table folder as is (``month`` comes back as
a string column from the folder names). Everything is read on ONE read-only connection, so the
tables agree with each other; the files are written to a staging folder beside the target
and renamed into place at the end, so a failed export leaves the target as it was.
"""
from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import storage
from storage import Database

from ..errors import InputError
from ..paths import check_output_dir

if TYPE_CHECKING:  # loaded when used: `tracker export --help` starts without pandas
    import pandas as pd

__all__ = ["PARTITIONED", "VIEWS", "ExportResult", "TableExport", "check_export_target", "export_parquet"]

# Time-series tables, partitioned by the UTC month of this column. Every other table in the
# storage registry is small and written as one file.
PARTITIONED: dict[str, str] = {
    "price_history": "ts",
    "market_snapshots": "observed_at",
    "category_snapshots": "observed_at",
    "external_series": "ts",
}
# Views written on request (``include_views``): the derived closes, for readers without DuckDB.
VIEWS: dict[str, str] = {
    "daily_prices": "day",
    "hourly_prices": "hour",
}
MANIFEST = "_manifest.json"
PARTITION_COLUMN = "month"


@dataclass(frozen=True)
class TableExport:
    table: str
    rows: int
    files: int
    partitioned_by: str | None  # the source column whose UTC month names the folders
    path: str


@dataclass(frozen=True)
class ExportResult:
    target: Path
    tables: tuple[TableExport, ...]
    schema_version: int
    exported_at: datetime

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([asdict(t) for t in self.tables], columns=["table", "rows", "files", "partitioned_by", "path"])


def check_export_target(target: Path, *, overwrite: bool) -> None:
    """Refuse a target that is a file, or a non-empty folder unless ``overwrite``; nothing is written."""
    check_output_dir(target, what="Parquet export", empty_unless_overwrite=True, overwrite=overwrite)


def _sources(con, tables: Sequence[str] | None, include_views: bool) -> list[tuple[str, str | None]]:
    present = storage.base_tables(con)
    known = [name for name in storage.TABLES if name in present]
    if tables:
        unknown = sorted(set(tables) - set(known) - set(VIEWS))
        if unknown:
            raise InputError(
                f"no table {unknown[0]!r} to export; known: {', '.join(known + list(VIEWS))}"
            )
        chosen = [name for name in known + list(VIEWS) if name in tables]
    else:
        chosen = known + (list(VIEWS) if include_views else [])
    return [(name, PARTITIONED.get(name) or VIEWS.get(name)) for name in chosen]


def _write_one(con, name: str, time_column: str | None, folder: Path) -> int:
    rows = storage.row_count(con, name)
    folder.mkdir(parents=True)
    if time_column is None:
        storage.write_parquet_file(con, name, folder / "data_0.parquet")
        return rows
    if rows == 0:
        return 0  # no partitions to write; the empty folder says the table was exported
    storage.write_parquet_by_month(con, name, time_column, folder, PARTITION_COLUMN)
    return rows


def _publish(stage: Path, target: Path) -> None:
    """Move the staged export into ``target``, replacing only the entries the export wrote."""
    if not target.exists():
        os.rename(stage, target)
        return
    backups = stage / ".replaced"
    backups.mkdir()
    for entry in sorted(p for p in stage.iterdir() if p != backups):
        destination = target / entry.name
        if destination.exists() or destination.is_symlink():
            os.rename(destination, backups / entry.name)
        os.rename(entry, destination)


def export_parquet(
    db: Database,
    target: str | Path,
    *,
    overwrite: bool = False,
    tables: Iterable[str] | None = None,
    include_views: bool = False,
    on_table: Callable[[str], None] | None = None,
) -> ExportResult:
    """Write the database's tables to ``target`` as Hive-partitioned Parquet.

    Parameters
    ----------
    db:
        The database; it is opened once, read-only, for the whole export.
    target:
        A folder that does not exist yet or is empty. With ``overwrite``, a non-empty folder is
        accepted and only the table folders (and the manifest) this export writes are replaced.
    tables:
        Export only these tables (or views named in :data:`VIEWS`); default every table.
    include_views:
        Also write the views in :data:`VIEWS` (materialised), partitioned by month.
    on_table:
        Called with each table's name before it is written (for progress display).

    Returns
    -------
    ExportResult
        Rows and files per table, the schema version and the export time (UTC).
    """
    target = Path(target).expanduser()
    tables = list(tables) if tables is not None else None
    if tables:
        unknown = sorted(set(tables) - set(storage.TABLES) - set(VIEWS))
        if unknown:
            raise InputError(f"no table {unknown[0]!r} to export; known: {', '.join(list(storage.TABLES) + list(VIEWS))}")
    check_export_target(target, overwrite=overwrite)
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:12]}"
    stage.mkdir()
    exported: list[TableExport] = []
    try:
        with db.connect(read_only=True) as con:
            storage.quiet_progress(con)
            version = storage.current_version(con)
            for name, time_column in _sources(con, tables, include_views):
                if on_table is not None:
                    on_table(name)
                rows = _write_one(con, name, time_column, stage / name)
                files = sum(1 for _ in (stage / name).rglob("*.parquet"))
                exported.append(TableExport(name, rows, files, time_column, str(target / name)))
        from .. import utc

        exported_at = utc.now().replace(microsecond=0)
        manifest = {
            "exported_at_utc": exported_at.isoformat(),
            "schema_version": version,
            "partition_column": PARTITION_COLUMN,
            "tables": {t.table: {"rows": t.rows, "files": t.files, "partitioned_by": t.partitioned_by} for t in exported},
        }
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        _publish(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage)  # our own staging folder (and any replaced table folders in it)
    return ExportResult(target, tuple(exported), version, exported_at)
