"""tracker check."""
from __future__ import annotations

import click

import storage
from storage import Database, check_database_path
from storage.rows import NUMBER, OTHER, Rows

from ..analysis.light_output import render
from ._context import AppContext, format_option, pass_app


def restore_advice(db_path, snapshot) -> list[str]:
    """How to get a whole file back, with this configuration's own paths."""
    lines = [
        f"how to restore: keep the damaged file aside (mv {db_path} {db_path}.damaged), then put back a whole copy:",
    ]
    if snapshot.is_file():
        lines.append(f"  - the daemon's read-only snapshot: cp {snapshot} {db_path}  (check it first: tracker --db {snapshot} check)")
    else:
        lines.append(f"  - the daemon's read-only snapshot, when there is one ({snapshot} is missing)")
    lines += [
        f"  - a backup of {db_path}: copy it back and run `tracker check` on it",
        "  - a Parquet export (tracker export parquet DIR): `tracker init` a new file and load each table "
        "from DIR (docs/storage.md, 'Restoring')",
        "then `tracker ingest all` (or the daemon) fetches again what is newer than the copy.",
    ]
    return lines


@click.command("check")
@format_option
@pass_app
def check_command(app: AppContext, fmt: str) -> None:
    """Read every block of every table and report what is damaged or missing; never writes.

    One row per object: the file (is it as long as its blocks need?), each table (rows, or the
    damaged columns), the schema version, and each view of the schema. Exits 1 when anything is
    damaged or missing, and says how to restore from the snapshot, a backup or a Parquet export.
    Commands that write run a quicker check first and refuse a damaged file.

    \b
    Example:
      tracker check
      tracker --db data/snapshot/tracker.duckdb check --format json
    """
    database = app.config.database
    db = Database(database.path, lock_timeout=database.lock_timeout_seconds)
    check_database_path(db.path, create=False)
    result = storage.full_check(db)
    columns = ("object", "kind", "status", "rows", "detail")
    # Plain rows (no pandas); row counts stay whole numbers where a table has none.
    table = Rows(columns, [tuple(row.get(c) for c in columns) for row in result.rows], (OTHER, OTHER, OTHER, NUMBER, OTHER))
    click.echo(render(table, fmt))
    if result.damaged:
        from jobs.snapshot import snapshot_path

        bad = [f"{row['kind']} {row['object']} ({row['status']})" for row in result.rows if row["status"] != "ok"]
        for line in restore_advice(db.path, snapshot_path(database.snapshot_dir)):
            click.echo(line, err=True)
        click.echo(f"error: {db.path} is damaged: {', '.join(bad[:6])}{' ...' if len(bad) > 6 else ''}", err=True)
        raise click.exceptions.Exit(1)
