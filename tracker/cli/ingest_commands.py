"""tracker ingest markets | categories | members | history | all.

Exit statuses: 0 every run ok; 1 a run failed (or any other one-line error); 3 a run finished
partial; 4 the database stayed locked, so fetched batches were kept in the spool for the next
`tracker ingest` or daemon run to write (nothing fetched is thrown away).
"""
from __future__ import annotations

import dataclasses
import re
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

import click

import storage
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


def _progress_bar(label: str = "history") -> tuple[Callable[[int, int, str], None], Callable[[], None]]:
    """A click progress bar on stderr, made on the first coin (when the total is known)."""
    state: dict = {}

    def update(done: int, total: int, coin: str) -> None:
        if "bar" in state and (total != state["total"] or done <= state["done"]):  # a new phase (candles: mapping, then fetching)
            close()
            state.clear()
        if "bar" not in state:
            state["total"] = total
            state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr,
                                             show_pos=True, show_eta=True, item_show_func=lambda c: c)
            state["bar"].__enter__()
        state["bar"].update(done - state.get("done", 0), coin)
        state["done"] = done

    def close() -> None:
        if "bar" in state:
            state["bar"].__exit__(None, None, None)
            del state["bar"]

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


# -- candles ---------------------------------------------------------------------------------
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: str | None, option: str) -> datetime | None:
    """An ISO 8601 date (YYYY-MM-DD) as naive UTC midnight; anything else is a one-line error."""
    if value is None:
        return None
    try:
        if not _ISO_DAY.match(value):
            raise ValueError
        return datetime.combine(date.fromisoformat(value), datetime.min.time())
    except ValueError:
        raise TrackerError(f"{option} {value!r} is not an ISO 8601 date such as 2024-02-15") from None


def _candles_steps(app: AppContext, exchange, request, coins: list[str] | None, markets: list[str], progress) -> JobSteps:
    from ..ingest.candles import fetch_candles, read_candles_state

    def steps(db: Database, gecko, _cache: MarketsCache) -> Iterator[Batch]:
        # A short read of the mapping and watermarks; CoinGecko is asked only for tickers.
        state = read_candles_state(db, app.config.tracking, exchange=exchange.exchange_id, coins=coins, markets=markets)
        return fetch_candles(exchange, gecko, state, request, progress=progress)

    return steps


def _candles_request(app: AppContext, interval: str | None, since: str | None, until: str | None, around: float | None):
    from ..analysis.events import seed_events
    from ..ingest.candles import CandlesRequest, through_day

    events = None
    if around is not None:
        if interval not in (None, "1m"):
            raise TrackerError("--around-events fetches 1m candles; leave out --interval or give --interval 1m")
        if since is not None or until is not None:
            raise TrackerError("--around-events fetches the days around each event; leave out --since and --until")
        db = app.writable_database()
        seed_events(db)
        events = storage.all_events(db)
    return CandlesRequest(interval=interval or "1d", since=_iso_day(since, "--since"),
                          until=through_day(_iso_day(until, "--until")), around_events=around, events=events)


@ingest_group.command("candles", short_help="Exchange candles (daily, hourly, minute) into price history.",
                      epilog=EXIT_STATUSES)
@click.option("--exchange", default="binance", show_default=True, metavar="ID",
              help="A ccxt exchange id with public candles (binance and okx are tested; see docs/exchanges.md).")
@click.option("--coin", "coins", multiple=True, metavar="ID",
              help="Only this coin id (repeatable); default: members and benchmarks, or only the --market coins when given.")
@click.option("--market", "markets", multiple=True, metavar="SYMBOL=COIN_ID",
              help="Map a market to a coin, e.g. FETUSDT=fetch-ai or FET/USDT=fetch-ai (repeatable; always wins).")
@click.option("--interval", type=click.Choice(["1d", "1h", "1m"]), default=None, help="Candle length (default 1d).")
@click.option("--since", metavar="DATE", help="First day (ISO date, e.g. 2023-06-01); default: each market's first candle.")
@click.option("--until", metavar="DATE", help="Last day, included (ISO date); default: the last closed candle.")
@click.option("--around-events", "around", type=click.FloatRange(0, 30, min_open=True), is_flag=False, flag_value=2.0,
              default=None, metavar="[DAYS]", help="Instead: 1m candles within ±DAYS (default 2) of each calendar event.")
@format_option
@pass_app
def candles_command(app: AppContext, exchange: str, coins: tuple[str, ...], markets: tuple[str, ...], interval: str | None,
                    since: str | None, until: str | None, around: float | None, fmt: str) -> None:
    """Fetch exchange candles into price history, beside CoinGecko's (source = the exchange id).

    Exchanges publish every market's candles from its listing day without a key. Each market
    is found by --market, else CoinGecko's tickers, else the exchange's list; a rerun fetches
    only candles newer than the last stored (one call per market when nothing is new), each
    call brings up to 1,000 candles. Closes are stored at the candle's close instant. Shows a
    progress bar on stderr. TRACKER_EXCHANGE_BASE_URL points the client at another server.

    \b
    Example:
      tracker ingest candles --market FETUSDT=fetch-ai --since 2024-01-01 --until 2024-03-31
    """
    from ..sources.exchange import ExchangeClient

    request = _candles_request(app, interval, since, until, around)
    update, close = _progress_bar("candles")
    with ExchangeClient.from_config(exchange, app.config) as client:
        _run(app, [_candles_steps(app, client, request, list(coins) or None, list(markets), update)], fmt, progress_close=close)
