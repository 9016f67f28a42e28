"""tracker ingest markets | categories | members | history | all."""
from __future__ import annotations

import sys
from typing import Callable

import click

from ..coingecko import client_from_config
from ..errors import TrackerError
from ..ingest import (
    RunSummary,
    ingest_all,
    ingest_categories,
    ingest_history,
    ingest_markets,
    ingest_members,
    summaries_frame,
)
from ..output import render
from ._context import AppContext, format_option, pass_app


class IngestFailed(TrackerError):
    pass


def _report(summaries: list[RunSummary], fmt: str) -> None:
    """Print the runs; warn on stderr for partial ones; fail (exit 1) if any failed."""
    click.echo(render(summaries_frame(summaries), fmt))
    for run in summaries:
        if run.status == "partial":
            click.echo(f"warning: {run.job} finished partial: {run.error}", err=True)
    failed = [r for r in summaries if r.status == "failed"]
    if failed:
        first = failed[0]
        raise IngestFailed(f"ingest {first.job} failed: {first.error or 'no detail'} (run {first.run_id})")


def _progress_bar() -> tuple[Callable[[int, int, str], None], Callable[[], None]]:
    """A click progress bar on stderr, made on the first coin (when the total is known)."""
    state: dict = {}

    def update(done: int, total: int, coin: str) -> None:
        if "bar" not in state:
            state["bar"] = click.progressbar(length=total, label="history", file=sys.stderr,
                                             show_pos=True, show_eta=True, item_show_func=lambda c: c)
            state["bar"].__enter__()
        state["bar"].update(done - state.get("done", 0), coin)
        state["done"] = done

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)

    return update, close


def _run(app: AppContext, job: Callable) -> list[RunSummary]:
    db = app.writable_database()
    client = client_from_config(app.config)
    try:
        result = job(db, client, app.config.tracking)
    finally:
        client.close()
    return result if isinstance(result, list) else [result]


@click.group("ingest")
def ingest_group() -> None:
    """Fetch from CoinGecko into the database, once, now.

    Each job is recorded in ingest_runs (calls, rows, duration, status, error). The client
    keeps to coingecko.calls_per_minute and retries 429, 5xx and network errors. Point it at
    another server (e.g. the fake one) with COINGECKO_BASE_URL.
    """


@ingest_group.command("markets", short_help="Snapshot prices and market caps of the tracked coins.")
@format_option
@pass_app
def markets_command(app: AppContext, fmt: str) -> None:
    """Snapshot price, market cap and volume of the tracked categories' coins and the benchmarks.

    Costs one /coins/markets call per 250 coins of each category, plus one per 250 benchmarks
    not already seen.
    """
    _report(_run(app, lambda db, client, tracking: ingest_markets(db, client, tracking)), fmt)


@ingest_group.command("categories", short_help="Snapshot every category's market data (one call).")
@format_option
@pass_app
def categories_command(app: AppContext, fmt: str) -> None:
    """Snapshot every category's market cap, volume and top coins (one /coins/categories call)."""
    _report(_run(app, lambda db, client, tracking: ingest_categories(db, client, tracking)), fmt)


@ingest_group.command("members", short_help="Sync category membership (dated joins and leaves).")
@format_option
@pass_app
def members_command(app: AppContext, fmt: str) -> None:
    """Sync which coins belong to each tracked category (point in time: joins and leaves are dated)."""
    _report(_run(app, lambda db, client, tracking: ingest_members(db, client, tracking)), fmt)


_days_option = click.option("--days", type=click.IntRange(min=1), default=None, metavar="N",
                            help="Reach N days back (default: tracking.history_days; keyless/demo see at most 364).")


@ingest_group.command("history", short_help="Backfill and top up price history, coin by coin.")
@click.option("--coin", "coins", multiple=True, metavar="ID", help="Only this coin id (repeatable); default: members and benchmarks.")
@_days_option
@format_option
@pass_app
def history_command(app: AppContext, coins: tuple[str, ...], days: int | None, fmt: str) -> None:
    """Backfill and top up price history per coin, from where each coin's last run stopped.

    Old history arrives daily, the last 89 days hourly; a coin CoinGecko no longer knows (404)
    is marked inactive and skipped. Shows a progress bar on stderr.

    \b
    Example:
      tracker ingest history --coin bitcoin --days 30
    """
    update, close = _progress_bar()
    try:
        summaries = _run(app, lambda db, client, tracking: ingest_history(
            db, client, tracking, coins=list(coins) or None, history_days=days, progress=update))
    finally:
        close()
    _report(summaries, fmt)


@ingest_group.command("all", short_help="Run every job once: categories, markets, members, history.")
@_days_option
@format_option
@pass_app
def all_command(app: AppContext, days: int | None, fmt: str) -> None:
    """Run categories, markets, members and history once, in that order, each recorded as its own run.

    Members reuse the pages markets fetched, so nothing is fetched twice.
    """
    update, close = _progress_bar()
    try:
        summaries = _run(app, lambda db, client, tracking: ingest_all(db, client, tracking, history_days=days, progress=update))
    finally:
        close()
    _report(summaries, fmt)


__all__ = ["ingest_group"]
