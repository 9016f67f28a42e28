"""The candles job: exchange candles (through ccxt) into ``price_history``, market by market.

Which coins: the coins asked for and those ``markets`` names; by default the open members of
the tracked categories plus the benchmarks, minus coins marked inactive. Which markets: see
:mod:`tracker.ingest.market_map`. What to fetch: see :mod:`tracker.ingest.candles_plan`; each
page of up to 1,000 candles is one call.

Stored rows (the conventions every reader relies on): coin_id = the mapped coin; vs_currency
= the quote, lower-cased ('usdt'); granularity daily / hourly / minute; ts = the candle's close
instant (open + interval, the period's end, as the CSV importer stores a dated close); price =
close; no market cap; total_volume = the quote volume; never partial (an unclosed candle is
never stored); source = the ccxt exchange id ('binance', 'okx').

The batches go through the one writer (spool, kill -9 safety and the run record come with
it): one batch per market every :data:`PAGES_PER_BATCH` pages and at its end, then a final one.
A geo-block, a ban or a rate limit that outlasts the retries stops the run: it is recorded as
failed, then the error is raised (one line naming the exchange).
"""
from __future__ import annotations

import contextlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Sequence

import pandas as pd

import storage
from storage import Database

from ..config import TrackingConfig
from ..errors import InputError
from .batch import Batch
from .candles_plan import INTERVALS, JOB, Coverage, Window, closed_candles, event_windows, plan_windows, price_rows, scope
from .market_map import QUOTE_PREFERENCE, MappedMarket, parse_market_flags, resolve
from .run import JobRun, guarded
from .runs import utcnow

PAGES_PER_BATCH = 50  # at most 50,000 candles wait in memory (or in one spooled batch)
MAX_CONSECUTIVE_FAILURES = 3
# ccxt exchange id -> CoinGecko's exchange id in /coins/{id}/tickers, where they differ.
GECKO_EXCHANGE_IDS = {"okx": "okex", "bybit": "bybit_spot", "coinbase": "gdax", "gateio": "gate", "huobi": "huobi"}
Progress = Callable[[int, int, str], None]


@dataclass
class CandlesState:
    """What the database says before a candles run."""

    exchange: str
    coins: list[str]
    flags: dict[str, str]
    stored: pd.DataFrame                       # coin_markets rows of this exchange
    marks: dict[str, tuple[datetime | None, dict]] = field(default_factory=dict)  # scope -> (watermark, detail)
    symbols: dict[str, str] = field(default_factory=dict)
    owners: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def read_candles_state(db: Database, tracking: TrackingConfig, *, exchange: str, coins: Sequence[str] | None = None,
                       markets: Sequence[str] | None = None) -> CandlesState:
    """Read coins, stored markets and watermarks on one short read-only connection.

    Parameters
    ----------
    coins:
        Only these coin ids; with ``markets`` and no ``coins``, only the coins ``markets`` names.
    markets:
        ``SYMBOL=COIN_ID`` strings (the exchange's id or the unified symbol); they always win.
    """
    flags = parse_market_flags(markets or ())
    with db.connect(read_only=True) as con:
        notes = []
        if coins or flags:
            wanted = list(dict.fromkeys([*(coins or ()), *flags.values()]))
        else:
            inactive = storage.inactive_coins(con)
            members = storage.open_members(con, tracking.categories)
            if tracking.categories and not members:
                notes.append("no category members stored yet (run `tracker ingest members` first); fetching the benchmarks only")
            wanted = [c for c in dict.fromkeys([*tracking.benchmarks, *members]) if c not in inactive]
        stored = storage.stored_coin_markets(con, exchange)
        marks = {}
        for key, watermark, detail in storage.coin_watermarks(con, JOB):
            try:
                parsed = json.loads(detail) if detail else {}
            except ValueError:
                parsed = {}
            marks[key] = (watermark, parsed if isinstance(parsed, dict) else {})
        symbols = storage.coin_symbols(con, wanted)
        owners_frame = storage.coins_by_symbol(con, sorted(set(symbols.values())))
    owners: dict[str, list[str]] = {}
    for row in owners_frame.itertuples():
        owners.setdefault(row.symbol, []).append(row.coin_id)
    return CandlesState(exchange, wanted, flags, stored, marks, symbols, owners, notes)


class _Calls:
    """Counts a run's calls to the exchange (and to CoinGecko for tickers) the way JobRun expects."""

    def __init__(self, exchange: Any, gecko: Any | None):
        self.exchange, self.gecko = exchange, gecko

    @contextlib.contextmanager
    def track_calls(self):
        start = self.exchange.calls
        with (self.gecko.track_calls() if self.gecko is not None else contextlib.nullcontext()) as gecko_tally:
            yield _Tally(self.exchange, start, gecko_tally)


class _Tally:
    def __init__(self, exchange: Any, start: int, gecko_tally: Any | None):
        self.exchange, self.start, self.gecko_tally = exchange, start, gecko_tally

    @property
    def count(self) -> int:
        return self.exchange.calls - self.start + (self.gecko_tally.count if self.gecko_tally is not None else 0)

    @property
    def by_endpoint(self) -> Counter:
        out = Counter({self.exchange.exchange_id: self.exchange.calls - self.start})
        if self.gecko_tally is not None:
            out.update(self.gecko_tally.by_endpoint)
        return out


@dataclass(frozen=True)
class CandlesRequest:
    """What to fetch: ``interval`` candles opening in [``since``, ``until``], or minute candles
    within ±``around_events`` days of each of ``events`` (event_id, ts)."""

    interval: str = "1d"
    since: datetime | None = None
    until: datetime | None = None
    around_events: float | None = None
    events: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise InputError(f"`interval` {self.interval!r} is not one of {', '.join(INTERVALS)}", parameters=("interval",))
        if self.since is not None and self.until is not None and self.until < self.since:
            raise InputError("`until` is before `since`", parameters=("until", "since"))
        if self.around_events is not None and not 0 < self.around_events <= 30:
            raise InputError(f"`around_events` must be 0 to 30 days, got {self.around_events:g}", parameters=("around_events",))


def fetch_candles(exchange: Any, gecko: Any | None, state: CandlesState, request: CandlesRequest, *,
                  now: datetime | None = None, progress: Progress | None = None) -> Iterator[Batch]:
    """Fetch step of the candles job: batches per market, then a final one.

    Parameters
    ----------
    exchange:
        A :class:`tracker.sources.exchange.ExchangeClient`.
    gecko:
        A CoinGecko client for ``/coins/{id}/tickers`` (None: map by flags, stored rows and the
        exchange's list only).
    state:
        From :func:`read_candles_state` for the same exchange.
    progress:
        Called as ``progress(done, total, label)``: first per coin while mapping (``mapping
        fetch-ai``), then per market fetched (``FET/USDT``), each phase with its own total.
    """
    run = JobRun(JOB, _Calls(exchange, gecko))
    yield from guarded(run, _candles(run, exchange, gecko, state, request, now or utcnow(), progress))


def _fatal(exc: Exception) -> bool:
    from ..sources.exchange import ExchangeBanned, ExchangeRateLimited, GeoBlocked

    return isinstance(exc, (GeoBlocked, ExchangeBanned, ExchangeRateLimited))


def _tickers(run: JobRun, gecko: Any | None, exchange_id: str) -> Callable[[str], pd.DataFrame | None] | None:
    if gecko is None:
        return None
    from ..sources.coingecko.errors import CoinGeckoError

    gecko_id = GECKO_EXCHANGE_IDS.get(exchange_id, exchange_id)

    def ask(coin: str) -> pd.DataFrame | None:
        try:
            found = gecko.coin_tickers(coin, exchange=gecko_id)
            # Named as ccxt names the exchange from here on.
            return found.assign(exchange=found["exchange"].replace({gecko_id: exchange_id}))
        except CoinGeckoError as exc:
            run.note(f"CoinGecko tickers unavailable ({exc}); mapping by the exchange's market list")
            return None

    return ask


def _candles(run: JobRun, exchange: Any, gecko: Any | None, state: CandlesState, request: CandlesRequest, now: datetime,
             progress: Progress | None) -> Iterator[Batch]:
    from ..sources.exchange import ExchangeError

    for note in state.notes:
        run.note(note)
    try:
        listed = exchange.markets()
        mapping = resolve(state.coins, exchange=state.exchange, markets=listed, flags=state.flags, stored=state.stored,
                          symbols=state.symbols, owners=state.owners, tickers=_tickers(run, gecko, state.exchange),
                          progress=(lambda done, total, coin: progress(done, total, f"mapping {coin}")) if progress else None)
    except ExchangeError as exc:
        run.error(str(exc))
        yield run.finish("failed")
        raise
    if mapping.unmapped:
        # One note for all (a category has hundreds of coins no exchange lists); each reason in the details.
        names = list(mapping.unmapped)
        more = f" (+{len(names) - 5} more)" if len(names) > 5 else ""
        run.note(f"{len(names)} coin(s) have no {'/'.join(QUOTE_PREFERENCE)} market on {state.exchange}: "
                 f"{', '.join(names[:5])}{more}; name one with --market SYMBOL=COIN_ID")
        run.details["unmapped"] = dict(list(mapping.unmapped.items())[:200])
    counts = {"markets": len(mapping.markets), "fetched": 0, "up_to_date": 0, "failed": 0, "unmapped": len(mapping.unmapped),
              "candles": 0, "pages": 0}
    failures = 0
    for done, market in enumerate(mapping.markets, 1):
        try:
            yield from _market(run, exchange, market, state, request, now, counts)
            failures = 0
        except ExchangeError as exc:
            counts["failed"] += 1
            run.error(f"{market.symbol} ({market.coin_id}): {exc}")
            failures += 1
            if _fatal(exc) or failures >= MAX_CONSECUTIVE_FAILURES:
                run.details.update(counts)
                yield run.finish("failed" if counts["fetched"] + counts["up_to_date"] == 0 else "partial")
                raise
        if progress:
            progress(done, len(mapping.markets), market.symbol)
    run.details.update(counts)
    run.details.update({"exchange": state.exchange, "interval": "1m" if request.around_events else request.interval,
                        "now": now.isoformat()})
    ok = counts["fetched"] + counts["up_to_date"]
    yield run.finish("failed" if counts["failed"] and ok == 0 else ("partial" if run.errors else "ok"))


def _market(run: JobRun, exchange: Any, market: MappedMarket, state: CandlesState, request: CandlesRequest, now: datetime,
            counts: dict[str, int]) -> Iterator[Batch]:
    """One market's batches: each window of each scope, flushed every PAGES_PER_BATCH pages."""
    if request.around_events is not None:
        plans = []
        for event_id, since, until in event_windows(request.events if request.events is not None else pd.DataFrame(columns=["event_id", "ts"]),
                                                    request.around_events, now):
            key = scope(state.exchange, market.symbol, "1m", event_id)
            mark = state.marks.get(key, (None, {}))[0]
            start = max(since, mark) if mark is not None else since
            plans.append((key, "1m", [Window(start, until, False)] if start < until else [], Coverage(), True))
    else:
        key = scope(state.exchange, market.symbol, request.interval)
        cover = Coverage.from_state(*state.marks.get(key, (None, {})))
        until = now if request.until is None else min(request.until, now)
        plans = [(key, request.interval, plan_windows(cover, request.since, until), cover, False)]
    fetched = written = False
    seen: list[datetime] = []
    for key, interval, windows, cover, per_event in plans:
        for window in windows:
            for frame, last_page in _pages(exchange, market, interval, window, now, counts):
                rows = price_rows(frame, market.coin_id, market.quote, interval, state.exchange, now)
                if len(rows):
                    seen += [rows["ts"].min(), rows["ts"].max()]
                    fetched = True
                marks = _advance(cover, window, rows, interval, last_page, per_event)
                if len(rows) or marks is not None or not written:
                    written = True
                    yield run.batch(**_parts(market, rows, key, marks, cover, seen, now))
    counts["fetched" if fetched else "up_to_date"] += 1
    if not written:  # nothing to ask for: the mapping is still recorded
        yield run.batch(**_parts(market, None, None, None, None, seen, now))


def _pages(exchange: Any, market: MappedMarket, interval: str, window: Window, now: datetime,
           counts: dict[str, int]) -> Iterator[tuple[pd.DataFrame, bool]]:
    """The window's closed candles, PAGES_PER_BATCH pages at a time; the flag marks the last group."""
    held: list[pd.DataFrame] = []
    # The client's `until` is inclusive (the last candle opens at or before it); the window's is not.
    until = window.until - timedelta(milliseconds=1) if window.until is not None else None
    pages = exchange.fetch_candles(market.symbol, interval, since=window.since, until=until)
    for page in pages:
        counts["pages"] += 1
        held.append(closed_candles(page, interval, window, now))
        if len(held) >= PAGES_PER_BATCH:
            frame = pd.concat(held, ignore_index=True)
            counts["candles"] += len(frame)
            yield frame, False
            held = []
    frame = pd.concat(held, ignore_index=True) if held else pd.DataFrame(columns=["open_time", "close", "quote_volume"])
    counts["candles"] += len(frame)
    yield frame, True


def _advance(cover: Coverage, window: Window, rows: pd.DataFrame, interval: str, last_page: bool,
             per_event: bool) -> datetime | None:
    """Move ``cover`` past the rows just fetched; returns the new watermark (None: unchanged)."""
    if per_event:
        if last_page and window.until is not None:
            return window.until
        return pd.Timestamp(rows["ts"].max()).to_pydatetime() if len(rows) else None
    if window.backfill:
        if not last_page:
            return None  # the stretch grows only once the backfill meets it
        first = pd.Timestamp(rows["ts"].min()).to_pydatetime() - INTERVALS[interval][0] if len(rows) else None
        cover.start = window.since if window.since is not None else (first or cover.start)
        cover.from_listing = cover.from_listing or window.since is None
        return cover.last
    if not len(rows):
        return None
    if cover.last is None:
        first = pd.Timestamp(rows["ts"].min()).to_pydatetime() - INTERVALS[interval][0]
        cover.start = window.since if window.since is not None and window.since <= first else first
        cover.from_listing = window.since is None
    cover.last = pd.Timestamp(rows["ts"].max()).to_pydatetime()
    return cover.last


def _parts(market: MappedMarket, rows: pd.DataFrame | None, key: str | None, mark: datetime | None, cover: Coverage | None,
           seen: list[datetime], now: datetime) -> dict[str, Any]:
    parts: dict[str, Any] = {"operations": {
        "coin_markets": pd.DataFrame([{
            "coin_id": market.coin_id, "exchange": market.exchange, "symbol": market.symbol,
            "exchange_symbol": market.exchange_symbol, "base": market.base, "quote": market.quote,
            "mapped_by": market.mapped_by, "active": market.active,
            "first_seen": min(seen) if seen else pd.NaT, "last_seen": max(seen) if seen else pd.NaT, "updated_at": now,
        }]).astype({"first_seen": "datetime64[us]", "last_seen": "datetime64[us]"}),
        "new_coins": pd.DataFrame({"coin_id": [market.coin_id], "symbol": [market.base.lower()], "at": [now]}),
    }}
    if rows is not None and len(rows):
        parts["frames"] = {"price_history": rows}
    if key is not None and mark is not None:
        parts["watermarks"] = {key: mark}
        parts["watermark_details"] = {key: cover.detail() if cover is not None else {}}
    return parts


def through_day(until: datetime | None) -> datetime | None:
    """An ISO date given as ``until`` includes that day: candles opening before the next midnight."""
    return None if until is None else until + timedelta(days=1)


__all__ = ["CandlesRequest", "CandlesState", "GECKO_EXCHANGE_IDS", "PAGES_PER_BATCH", "through_day", "fetch_candles",
           "read_candles_state"]
