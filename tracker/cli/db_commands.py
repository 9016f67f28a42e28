"""tracker init | status | sql."""
from __future__ import annotations

import click

import storage

from ..events import seed_events
from ..output import render, render_sections
from ..status import collect_status
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
@format_option
@pass_app
def sql_command(app: AppContext, query: str, fmt: str) -> None:
    """Run a read-only SQL QUERY against the database (SELECT, WITH, DESCRIBE, SHOW, EXPLAIN).

    Statements that change anything (INSERT, CREATE, COPY, ATTACH, SET, ...) are refused.

    \b
    Example:
      tracker sql "select event_id, ts from events order by ts"
    """
    click.echo(render(storage.run_user_sql(app.database(), query), fmt))
