"""tracker init | status | sql."""
from __future__ import annotations

import click

import storage

from ..analysis.events import seed_events
from ..analysis.output import render, render_sections
from ..ingest.status import collect_status
from ._context import AppContext, format_option, pass_app


@click.command("init")
@format_option
@pass_app
def init_command(app: AppContext, fmt: str) -> None:
    """Create the database (or upgrade an older one in place) and seed the events calendar."""
    import pandas as pd

    db = app.writable_database(create=True)
    added = seed_events(db)
    with db.connect(read_only=True) as con:
        version = storage.current_version(con)
    summary = pd.DataFrame([{"database": str(db.path), "schema_version": version, "events_added": added}])
    click.echo(render(summary, fmt))


@click.command("status")
@format_option
@pass_app
def status_command(app: AppContext, fmt: str) -> None:
    """Row counts and freshness per table, each job's last and next run, the daemon's heartbeat,
    lock-held times, spooled batches, and recent errors."""
    from jobs.status import daemon_sections

    db = app.database()
    sections = collect_status(db)
    sections.update(daemon_sections(db.path, sections["jobs"]))
    click.echo(render_sections(sections, fmt))


@click.command("sql")
@click.argument("query")
@click.option("--allow-path", "allow_paths", multiple=True, metavar="PATH",
              help="Let the query read this existing file, or folder and everything below it (repeatable).")
@format_option
@pass_app
def sql_command(app: AppContext, query: str, allow_paths: tuple[str, ...], fmt: str) -> None:
    """Run a read-only SQL QUERY against the database (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN).

    The query runs on a locked-down DuckDB connection: the file is opened read-only, no other
    file and no network address can be reached, no extension is installed or loaded, and the
    query cannot change these settings. Statements that change anything (INSERT, CREATE, COPY,
    ATTACH, SET, INSTALL, IMPORT DATABASE, EXPLAIN ANALYZE of those, ...) are refused.
    --allow-path lets the query read your own files, such as a Parquet export; writing there
    is still refused. See docs/sql.md, "Security model".

    \b
    Examples:
      tracker sql "select event_id, ts from events order by ts"
      tracker sql --allow-path export/ "select count(*) from read_parquet('export/coins/*.parquet')"
    """
    from storage.sandbox import AllowPathError, resolve_allowed_paths

    try:  # checked before the database is opened
        allowed = resolve_allowed_paths(allow_paths)
    except AllowPathError as exc:
        raise click.BadParameter(str(exc), param_hint="'--allow-path'") from None
    click.echo(render(storage.run_user_sql(app.database(), query, allow_paths=allowed), fmt, formatted=False))
