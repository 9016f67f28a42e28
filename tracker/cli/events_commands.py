"""tracker events list | add | import."""
from __future__ import annotations

import click

import storage

from ..analysis.light_output import render as render_rows
from ._context import AppContext, format_option, pass_app

# `events list` prints plain rows and starts without pandas; `add` and `import` load the
# calendar module (and pandas) when they run.


@click.group("events")
def events_group() -> None:
    """The calendar of AI announcements studied (times in UTC)."""


@events_group.command("list")
@format_option
@pass_app
def events_list(app: AppContext, fmt: str) -> None:
    """List the stored events, oldest first."""
    click.echo(render_rows(storage.all_events_rows(app.database()), fmt))


@events_group.command("add")
@click.argument("event_id")
@click.option("--name", required=True, help="What happened, e.g. 'OpenAI unveils Sora'.")
@click.option(
    "--timestamp",
    "--date",
    "--at",
    "timestamp",
    required=True,
    help="ISO 8601 UTC date (2024-02-15) or date-time with Z or offset (2024-02-15T18:00Z).",
)
@click.option("--kind", default="announcement", show_default=True, help="e.g. model-release, earnings, keynote.")
@click.option("--source", help="URL of the announcement: http(s), without spaces, quotes or angle brackets.")
@click.option("--notes", help="Free text.")
@pass_app
def events_add(app: AppContext, event_id: str, name: str, timestamp: str, kind: str, source: str | None, notes: str | None) -> None:
    """Add one event with id EVENT_ID (refused if the id exists)."""
    from ..analysis.events import add_events, event_from_mapping

    event = event_from_mapping(
        {"id": event_id, "name": name, "timestamp": timestamp, "kind": kind, "source": source, "notes": notes}
    )
    add_events(app.writable_database(), [event])
    click.echo(f"added {event.event_id} at {event.ts:%Y-%m-%d %H:%M} UTC" + ("" if event.time_known else " (time of day unknown)"))


@events_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--skip-existing", is_flag=True, help="Skip ids already stored instead of refusing the file.")
@format_option
@pass_app
def events_import(app: AppContext, file: str, skip_existing: bool, fmt: str) -> None:
    """Import events from FILE (.toml with [[event]] tables, or .csv with id,name,timestamp,kind,source,notes).

    The whole file is checked first; nothing is imported if any row is bad or an id is taken.
    """
    import pandas as pd

    from ..analysis.events import add_events, read_events_file
    from ..analysis.output import render

    events = read_events_file(file)
    added = add_events(app.writable_database(), events, skip_existing=skip_existing)
    click.echo(render(pd.DataFrame([{"file": file, "read": len(events), "added": added}]), fmt))
