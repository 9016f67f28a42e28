"""tracker ingest markets | categories | members | history | all.

Exit statuses: 0 every run ok; 1 a run failed (or any other one-line error); 3 a run finished
partial; 4 the database stayed locked, so fetched batches were kept in the spool for the next
`tracker ingest` or daemon run to write (nothing fetched is thrown away).
"""
from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Callable, Iterable, Iterator

import click

from jobs.instance import DaemonAlreadyRunning, InstanceLock
from jobs.spool import Spool
from storage import Database, DatabaseLockedError

from ..analysis.output import render
from ..config import MAX_HISTORY_DAYS
from ..errors import TrackerError
from ..ingest import (
    Batch,
    MarketsCache,
    RunSummary,
    WriteResult,
    fetch_categories,
    fetch_history,
    fetch_markets,
    fetch_members,
    read_history_state,
    summaries_frame,
    write_batch,
)
from ..sources.coingecko import client_from_config
from ._context import AppContext, format_option, pass_app

EXIT_PARTIAL = 3
EXIT_SPOOLED = 4


class IngestFailed(TrackerError):
    pass


class Delivery:
    """Writes each batch (fetched, or an import's), or keeps it in the spool when the database stays locked.

    Like the daemon (jobs/executor.py): batches are written strictly in the order fetched, so
    once one waits in the spool every later one queues behind it, and after one lock timeout
    the rest go straight to the spool instead of each waiting out the timeout again. Batches
    an earlier run left in the spool are written first, unless a daemon runs (it owns them).
    """

    def __init__(self, db: Database, spool: Spool):
        self.db, self.spool = db, spool
        self.spooled = 0
        self.locked: str | None = None  # why the database could not be written, once it could not

    def drain(self) -> None:
        if not self.spool.pending():
            return
        try:
            with InstanceLock(self.db.path):  # no daemon, and no other `tracker ingest`, drains meanwhile
                result = self.spool.drain(self.db)
        except DaemonAlreadyRunning:
            return  # the daemon writes them
        if result.written:
            click.echo(f"note: wrote {result.written} batch(es) an earlier run left in the spool {self.spool.folder}", err=True)
        if result.waiting:
            self.locked = self.locked or "still locked: the batches already in the spool could not be written"

    def write(self, batch: Batch) -> WriteResult | None:
        """Write ``batch`` now, or put it in the spool (then None)."""
        if self.locked is None and self.spool.pending():
            self.drain()
        if self.locked is None and not self.spool.pending():
            try:
                return write_batch(self.db, batch)
            except DatabaseLockedError as exc:
                self.locked = str(exc)
        # Queued behind batches already waiting (a running daemon writes those first), or locked.
        self.locked = self.locked or "batches already in the spool are written first, by the running daemon"
        self.spool.put(batch)
        self.spooled += 1
        return None

    def deliver(self, batch: Batch) -> RunSummary:
        written = self.write(batch)
        if written is not None:
            return RunSummary.from_record(written.run)
        return dataclasses.replace(RunSummary.from_record(batch.run), status="spooled")

    def run(self, batches: Iterable[Batch]) -> RunSummary:
        last = None
        for batch in batches:
            last = self.deliver(batch)
        if last is None:
            raise TrackerError("the job produced no batch")
        return last


def _report(summaries: list[RunSummary], fmt: str, delivery: Delivery) -> None:
    """Print the runs; warn on stderr for partial ones; exit 1 if any failed, 4 if batches were
    spooled, 3 if any run finished partial."""
    click.echo(render(summaries_frame(summaries), fmt))
    for run in summaries:
        if run.status == "partial":
            click.echo(f"warning: {run.job} finished partial: {run.error}", err=True)
    failed = [r for r in summaries if r.status == "failed"]
    if failed:
        first = failed[0]
        raise IngestFailed(f"ingest {first.job} failed: {first.error or 'no detail'} (run {first.run_id})")
    if delivery.spooled:
        raise click.exceptions.Exit(EXIT_SPOOLED)
    if any(r.status == "partial" for r in summaries):
        raise click.exceptions.Exit(EXIT_PARTIAL)


def _spool_notice(delivery: Delivery, folder: Path) -> None:
    if delivery.spooled:
        click.echo(f"warning: database not writable ({delivery.locked}); {delivery.spooled} fetched batch(es) kept in "
                   f"the spool {folder}; the next `tracker ingest` or daemon run writes them, in order", err=True)


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


JobSteps = Callable[[Database, object, MarketsCache], Iterator[Batch]]


def _run(app: AppContext, steps: list[JobSteps], fmt: str, *, progress_close: Callable[[], None] = lambda: None) -> None:
    """Fetch each job's batches and deliver them (written, or spooled while the file is locked).

    When a run finds the host unreachable, the jobs after it are not started and the command
    ends with that one line (no table: nothing was fetched worth showing).
    """
    db = app.writable_database()
    client = client_from_config(app.config)
    folder = app.config.database.spool_dir
    delivery = Delivery(db, Spool(folder))
    cache = MarketsCache()  # members reuse the pages markets fetched in `ingest all`
    summaries: list[RunSummary] = []
    try:
        delivery.drain()
        for step in steps:
            summaries.append(delivery.run(step(db, client, cache)))
            if summaries[-1].unreachable:
                break
    finally:
        client.close()
        progress_close()
        _spool_notice(delivery, folder)
    if summaries and summaries[-1].unreachable:
        _unreachable(summaries[-1], len(steps) - len(summaries))
    _report(summaries, fmt, delivery)


def _unreachable(run: RunSummary, not_run: int) -> None:
    skipped = f"; the {not_run} job(s) after it were not run" if not_run else ""
    click.echo(f"note: ingest {run.job} stopped (run {run.run_id}, recorded as {run.status}){skipped}", err=True)
    raise IngestFailed(run.unreachable)


def _history_steps(app: AppContext, coins: list[str] | None, days: int | None, progress) -> JobSteps:
    tracking = app.config.tracking

    def steps(db: Database, client, cache: MarketsCache) -> Iterator[Batch]:
        # A short read of the watermarks; when it meets the lock nothing has been fetched yet.
        state = read_history_state(db, tracking, coins=coins)
        return fetch_history(client, tracking, state, history_days=days, progress=progress)

    return steps


@click.group("ingest")
def ingest_group() -> None:
    """Fetch from CoinGecko into the database, once, now.

    Each job is recorded in ingest_runs (calls, rows, duration, status, error). The client
    keeps to coingecko.calls_per_minute and retries 429, 5xx and network errors; a host that
    cannot be reached (DNS, connection refused, no route) is tried twice, then the command stops
    with one line. Point it at another server (e.g. the fake one) with COINGECKO_BASE_URL.
    """


EXIT_STATUSES = ("Exit status: 0 when every run is ok; 1 when a run failed; 3 when a run finished partial "
                 "(some coins or categories failed); 4 when the database stayed locked and fetched batches wait "
                 "in the spool for the next ingest or daemon run.")


def _markets(app: AppContext) -> JobSteps:
    return lambda db, client, cache: fetch_markets(client, app.config.tracking, cache=cache)


def _categories(app: AppContext) -> JobSteps:
    return lambda db, client, cache: fetch_categories(client, app.config.tracking)


def _members(app: AppContext) -> JobSteps:
    return lambda db, client, cache: fetch_members(client, app.config.tracking, cache=cache)


@ingest_group.command("markets", short_help="Snapshot prices and market caps of the tracked coins.", epilog=EXIT_STATUSES)
@format_option
@pass_app
def markets_command(app: AppContext, fmt: str) -> None:
    """Snapshot price, market cap and volume of the tracked categories' coins and the benchmarks.

    Costs one /coins/markets call per 250 coins of each category, plus one per 250 benchmarks
    not already seen.
    """
    _run(app, [_markets(app)], fmt)


@ingest_group.command("categories", short_help="Snapshot every category's market data (one call).", epilog=EXIT_STATUSES)
@format_option
@pass_app
def categories_command(app: AppContext, fmt: str) -> None:
    """Snapshot every category's market cap, volume and top coins (one /coins/categories call)."""
    _run(app, [_categories(app)], fmt)


@ingest_group.command("members", short_help="Sync category membership (dated joins and leaves).", epilog=EXIT_STATUSES)
@format_option
@pass_app
def members_command(app: AppContext, fmt: str) -> None:
    """Sync which coins belong to each tracked category (point in time: joins and leaves are dated)."""
    _run(app, [_members(app)], fmt)


_days_option = click.option("--days", type=click.IntRange(1, MAX_HISTORY_DAYS), default=None, metavar="N",
                            help=f"Reach N days back, 1 to {MAX_HISTORY_DAYS} (default: tracking.history_days; "
                                 "keyless/demo see at most 364).")


@ingest_group.command("history", short_help="Backfill and top up price history, coin by coin.", epilog=EXIT_STATUSES)
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
    _run(app, [_history_steps(app, list(coins) or None, days, update)], fmt, progress_close=close)


@ingest_group.command("all", short_help="Run every job once: categories, markets, members, history.", epilog=EXIT_STATUSES)
@_days_option
@format_option
@pass_app
def all_command(app: AppContext, days: int | None, fmt: str) -> None:
    """Run categories, markets, members and history once, in that order, each recorded as its own run.

    Members reuse the pages markets fetched, so nothing is fetched twice.
    """
    update, close = _progress_bar()
    steps = [_categories(app), _markets(app), _members(app), _history_steps(app, None, days, update)]
    _run(app, steps, fmt, progress_close=close)


__all__ = ["EXIT_PARTIAL", "EXIT_SPOOLED", "Delivery", "ingest_group"]
