"""Study inputs from the database: the returns panel, the benchmark and the events frame.

The sample is either an explicit list of coin ids or the members of a category at each
event's instant (point-in-time membership, ``panels.category_members_at``), so a coin that
joined the category later is not in an earlier event's sample. The benchmark is a coin
(bitcoin, ethereum, ...) or an index of every tracked coin outside the sample and the
category, weighted by the previous period's market cap (or equally).

Everything here returns plain DataFrames for :class:`~tracker.analysis.eventstudy.EventStudy`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

import storage
from storage import Database

from ...errors import AnalysisError, InputError
from .. import panels
from ..events import Event, get_event
from ..missing import empty_database, unknown_coins_message
from ..source_choice import SourcePolicy, check_source, settings_entry
from .calendar import returns_from_prices
from .windows import DAY, HOUR, Window, utc_naive

INDEX_BENCHMARK = "index"
INDEX_WEIGHTS = ("cap", "equal")


@dataclass
class StudyData:
    """Inputs for :class:`EventStudy`, with what was decided on the way."""

    returns: pd.DataFrame
    market: pd.Series
    events: pd.DataFrame          # event_id, security, timestamp
    benchmark_name: str
    period: pd.Timedelta
    notes: list[str] = field(default_factory=list)
    # coin_id, source, vs_currency, closes, ...: where each coin's closes came from (source_choice)
    price_sources: pd.DataFrame = field(default_factory=pd.DataFrame)
    quote: str = "usd"
    source_settings: dict | None = None  # for EventStudy(sources=...): the rule and each coin's source
    caps: pd.DataFrame | None = None  # daily market caps of the sample, when asked for


def known_coins(db: Database, coin_ids: Sequence[str]) -> set[str]:
    """The ids among ``coin_ids`` that the database knows (in ``coins`` or with prices)."""
    return storage.known_coin_ids(db, coin_ids)


def _regular(frame: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, period: pd.Timedelta, columns: Sequence[str]) -> pd.DataFrame:
    """Prices on every period from start to end, one column per requested coin (NaN if none)."""
    grid = pd.date_range(start, end, freq=period)
    if frame.empty:
        return pd.DataFrame(np.nan, index=grid, columns=list(columns))
    frame = frame.copy()
    frame.index = pd.DatetimeIndex(frame.index).as_unit("ns")
    return frame.reindex(index=grid, columns=list(columns))


def _closes(db: Database, coins: Sequence[str] | None, start, end, period: pd.Timedelta, value: str = "close",
            policy: SourcePolicy | None = None) -> pd.DataFrame:
    if period == DAY:
        return panels.daily_closes(db, coins, start.date(), end.date(), value=value, policy=policy)
    if value != "close":
        raise AnalysisError("hourly market caps are not stored; use `index_weights` equal for an hourly index",
                            parameters=["index_weights"])
    return panels.hourly_closes(db, coins, start, end, policy=policy)


def _coin_returns(prices: pd.Series, kind: str) -> pd.Series:
    """Returns over the coin's own available prices, so a return after a gap spans the gap."""
    available = prices.dropna()
    return returns_from_prices(available, kind).reindex(prices.index)


def build_index(
    prices: pd.DataFrame, caps: pd.DataFrame | None, kind: str = "simple", weights: str = "cap"
) -> pd.Series:
    """A benchmark index return per period from constituent prices.

    Cap weights are the previous period's market caps (no look-ahead); a constituent without
    a return or a weight in a period is left out of that period and the others renormalised.
    The index return is the weighted mean of simple returns, converted to a log return when
    ``kind="log"``.
    """
    if weights not in INDEX_WEIGHTS:
        raise InputError(f"index weights {weights!r} must be one of {', '.join(INDEX_WEIGHTS)}")
    simple = prices.apply(lambda column: _coin_returns(column, "simple"))
    if weights == "cap":
        w = caps.reindex(index=prices.index, columns=prices.columns).shift(1)
    else:
        w = pd.DataFrame(1.0, index=prices.index, columns=prices.columns)
    usable = simple.notna() & w.notna() & (w > 0)
    wv = w.where(usable, 0.0).to_numpy()
    rv = simple.where(usable, 0.0).to_numpy()
    total = wv.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        index_return = np.where(total > 0, (wv * rv).sum(axis=1) / total, np.nan)
    series = pd.Series(index_return, index=prices.index)
    return np.log1p(series) if kind == "log" else series


def load_study_data(
    db: Database,
    event_ids: Sequence[str],
    *,
    tokens: Sequence[str] | None = None,
    category: str | None = None,
    benchmark: str | pd.Series = "bitcoin",
    index_weights: str = "cap",
    hourly: bool = False,
    estimation_window: Window,
    event_windows: Sequence[Window],
    return_kind: str = "simple",
    membership: str = "event",
    progress: Callable[[Iterable], Iterable] | None = None,
    sources: SourcePolicy | None = None,
    caps: bool = False,
) -> StudyData:
    """Load everything a study of ``event_ids`` needs from the database.

    Parameters
    ----------
    tokens, category
        The sample: an explicit list of coin ids, or the members of ``category`` at each
        event's instant. Exactly one must be given.
    benchmark
        A coin id, or ``"index"`` for every coin with prices that is outside the sample and
        outside ``category`` at the event dates, weighted by ``index_weights``, or any price
        series (a pandas Series of levels indexed by UTC date or hour, e.g. an equity index
        on trading days): its returns are taken over its own observations, so a Monday
        return spans the weekend, and left missing where it has none (``EventStudy``'s
        ``benchmark_gaps`` then aligns the calendars).
    hourly
        Hourly closes instead of daily ones; windows are then in hours.
    membership
        ``"event"`` (default): a category's members at each event's instant, and an error when
        none are on record then. ``"first-known"``: for an event before the first membership
        sync, the earliest recorded membership instead, with a survivorship-bias note.
    progress, sources
        Wraps the per-event loop (e.g. a click progress bar); picks each coin's source (``source_choice``).
    caps
        Also load the sample's daily market caps (for cap-weighted calendar-time portfolios).

    Raises
    ------
    InputError
        Unknown events, tokens or benchmark; a category with no members at an event.
    """
    if (tokens is None) == (category is None):
        raise InputError("choose the sample with either tokens or a category")
    if membership not in ("event", "first-known"):
        raise InputError(f"membership {membership!r} must be 'event' or 'first-known'")
    if not event_ids:
        raise InputError("no event given; name one with `event_ids` (see 'tracker events list')", parameters=["event_ids"])
    events: list[Event] = [get_event(db, event_id) for event_id in dict.fromkeys(event_ids)]
    sources = _checked_policy(db, sources)
    period = HOUR if hourly else DAY
    notes: list[str] = []
    if tokens is not None:
        tokens = _checked_tokens(db, tokens)
    samples = _samples(db, events, tokens, category, benchmark, membership, notes, progress)

    grid = _load_range(events, estimation_window, event_windows, period, trading_calendar=isinstance(benchmark, pd.Series), policy=sources)
    sample_coins = sorted({c for members in samples.values() for c in members})
    coin_prices, market, benchmark_name = _prices_and_benchmark(
        db, benchmark, events, category, sample_coins, grid, return_kind, index_weights, notes)
    returns = returns_from_prices(coin_prices, return_kind)
    no_prices = [c for c in sample_coins if coin_prices[c].notna().sum() == 0]
    if no_prices:
        notes.append(f"no prices in the study period for: {', '.join(no_prices)}")
    rows = [{"event_id": e.event_id, "security": coin, "timestamp": pd.Timestamp(e.ts)} for e in events for coin in samples[e.event_id]]
    market.name = benchmark_name
    used = sample_coins + ([benchmark] if isinstance(benchmark, str) and benchmark != INDEX_BENCHMARK else [])
    cap_frame = _sample_caps(db, grid, sample_coins) if caps else None
    return StudyData(returns, market, pd.DataFrame(rows), benchmark_name, period, notes, *_sources_used(db, used, grid, sources),
                     caps=cap_frame)


def _prices_and_benchmark(db: Database, benchmark: str | pd.Series, events: Sequence[Event], category: str | None,
                          sample_coins: list[str], grid: "_Grid", return_kind: str, index_weights: str,
                          notes: list[str]) -> tuple[pd.DataFrame, pd.Series, str]:
    """The sample's closes, the benchmark's returns and its name, for a series, the index or a coin."""
    if isinstance(benchmark, pd.Series):
        return _series_benchmark(db, benchmark, sample_coins, grid, return_kind)
    if benchmark == INDEX_BENCHMARK:
        return _index_benchmark(db, events, category, sample_coins, grid, return_kind, index_weights, notes)
    return _coin_benchmark(db, benchmark, sample_coins, grid, return_kind)


def _checked_policy(db: Database, sources: SourcePolicy | None) -> SourcePolicy:
    sources = sources or SourcePolicy()
    check_source(db, sources)
    return sources


def _sources_used(db: Database, coins: list[str], grid: "_Grid", sources: SourcePolicy) -> tuple[pd.DataFrame, str, dict]:
    """StudyData's price_sources, quote and source_settings: where each coin's closes came from."""
    chosen = panels.chosen_sources(db, coins, grid.start, grid.end, hourly=grid.period == HOUR, policy=sources)
    quote = panels.quote_currency(db, None, sources)
    return chosen, quote, settings_entry(chosen, quote, sources)


def reference_returns(db: Database, coins: Sequence[str], index: pd.DatetimeIndex, period: pd.Timedelta,
                      return_kind: str = "simple") -> pd.DataFrame:
    """Returns of reference coins (bitcoin, ethereum) on ``index``, each over its own prices, for
    the diagnostics' market-move check."""
    if not len(index) or not coins:
        return pd.DataFrame(index=index)
    grid = _Grid(index[0] - period, index[-1], period)
    prices = grid.prices(db, list(coins))
    return pd.DataFrame({c: _coin_returns(prices[c], return_kind) for c in coins}).reindex(index)


def _sample_caps(db: Database, grid: "_Grid", coins: list[str]) -> pd.DataFrame:
    if grid.period != DAY:
        raise InputError("cap weights need daily market caps; an hourly study takes `portfolio_weights` equal",
                         parameters=["portfolio_weights"])
    return grid.prices_of(db, coins, "market_cap")


def _checked_tokens(db: Database, tokens: Sequence[str]) -> list[str]:
    tokens = list(dict.fromkeys(t.strip() for t in tokens if t.strip()))
    if not tokens:
        raise InputError("`tokens` is empty; give coin ids such as fetch-ai,render-token", parameters=["tokens"])
    known = known_coins(db, tokens)  # one query, not one per token
    unknown = [t for t in tokens if t not in known]
    if unknown:
        raise InputError(unknown_coins_message(db, unknown))
    return tokens


def _samples(db: Database, events: Sequence[Event], tokens: list[str] | None, category: str | None,
             benchmark: str | pd.Series, membership: str, notes: list[str],
             progress: Callable[[Iterable], Iterable] | None) -> dict[str, list[str]]:
    """Each event's sample: the tokens, or the category's members then (benchmark taken out)."""
    samples: dict[str, list[str]] = {}
    loop = progress(events) if progress else events
    for event in loop:
        members = list(tokens) if tokens is not None else _members(db, event, category, membership, notes)
        if isinstance(benchmark, str) and benchmark in members:
            members = [m for m in members if m != benchmark]
            notes.append(f"{benchmark} is the benchmark, so it is not in the sample of {event.event_id}")
        samples[event.event_id] = members
    if not any(samples.values()):
        raise InputError("the sample is empty once the benchmark is taken out")
    return samples


def _members(db: Database, event: Event, category: str, membership: str, notes: list[str]) -> list[str]:
    members = panels.category_members_at(db, category, event.ts)
    if not members and membership == "first-known":
        members, first = panels.category_members_first_known(db, category)
        if members:
            notes.append(
                f"{category} membership at {event.event_id} ({event.ts:%Y-%m-%d}) is not on record; used the "
                f"{len(members)} members first recorded on {first:%Y-%m-%d %H:%M} UTC instead (survivorship "
                "bias: coins that left the category or died before then are missing)"
            )
    if not members:
        raise InputError(_no_members(db, event, category, membership), parameters=["tokens", "membership"])
    return members


def _no_members(db: Database, event: Event, category: str, membership: str) -> str:
    """Why a category gives no sample: an empty database, no membership stored at all (so
    first-known has nothing to fall back on), or none on record at the event."""
    empty = empty_database(db)
    if empty is not None:
        return empty
    if membership == "first-known":
        return (f"no membership of category {category!r} is stored at all, so `membership` first-known has none to "
                "fall back on; run `tracker ingest members` to record it, or name the coins with `tokens` "
                "(e.g. coins imported from CSV)")
    return (f"category {category!r} had no members at {event.ts:%Y-%m-%d %H:%M} UTC in the database "
            "(sync category members, pass `tokens`, or `membership` first-known to use the earliest recorded members)")


def _load_range(events: Sequence[Event], estimation_window: Window, event_windows: Sequence[Window],
                period: pd.Timedelta, *, trading_calendar: bool, policy: SourcePolicy | None = None) -> "_Grid":
    """The periods to load so every event's estimation and event windows fit."""
    span = Window(min(estimation_window.start, *(w.start for w in event_windows)), max(estimation_window.end, *(w.end for w in event_windows)))
    day0s = [pd.Timestamp(e.ts).floor(period) for e in events]
    # A benchmark on a trading calendar (a price series) makes relative periods trading days:
    # load half as many calendar periods again, plus a week, so the windows still fit.
    slack = 1.5 if trading_calendar else 1.0
    extra = 7 if trading_calendar else 0
    start = min(day0s) + (int(np.floor(span.start * slack)) - 1 - extra) * period
    end = max(day0s) + (int(np.ceil(span.end * slack)) + extra) * period
    return _Grid(start, end, period, policy)


@dataclass(frozen=True)
class _Grid:
    """The study's load range and period."""

    start: pd.Timestamp
    end: pd.Timestamp
    period: pd.Timedelta
    policy: SourcePolicy | None = None

    def prices(self, db: Database, coins: Sequence[str]) -> pd.DataFrame:
        """Closes of ``coins`` on every period of the range (NaN where none)."""
        closes = _closes(db, coins, self.start, self.end, self.period, policy=self.policy)
        return _regular(closes, self.start, self.end, self.period, coins)

    def prices_of(self, db: Database, coins: Sequence[str], value: str) -> pd.DataFrame:
        """Another daily value (``market_cap``) of ``coins`` on every period of the range."""
        return _regular(_closes(db, coins, self.start, self.end, self.period, value=value), self.start, self.end, self.period, coins)


def _series_benchmark(db: Database, benchmark: pd.Series, sample_coins: list[str], grid: _Grid,
                      return_kind: str) -> tuple[pd.DataFrame, pd.Series, str]:
    coin_prices = grid.prices(db, sample_coins)
    levels = benchmark.dropna().astype(float)
    levels.index = utc_naive(levels.index)
    market = returns_from_prices(levels.sort_index(), return_kind).reindex(coin_prices.index)
    if market.notna().sum() == 0:
        raise InputError(f"the benchmark series has no returns between {grid.start:%Y-%m-%d} and {grid.end:%Y-%m-%d}")
    return coin_prices, market, str(benchmark.name) if benchmark.name is not None else "benchmark"


def _index_benchmark(db: Database, events: Sequence[Event], category: str | None, sample_coins: list[str], grid: _Grid,
                     return_kind: str, index_weights: str, notes: list[str]) -> tuple[pd.DataFrame, pd.Series, str]:
    start, end, period = grid.start, grid.end, grid.period
    excluded = set(sample_coins)
    if category is not None:
        for event in events:
            excluded.update(panels.category_members_at(db, category, event.ts))
    all_prices = _closes(db, None, start, end, period, policy=grid.policy)
    outside = [c for c in all_prices.columns if c not in excluded]
    if not outside:
        raise InputError("no tracked coin lies outside the sample and the category to build an index from")
    prices_out = _regular(all_prices[outside], start, end, period, outside)
    caps = None
    if index_weights == "cap":
        # Weights, not the series: caps come from whichever source stores them (CoinGecko), even with --source.
        cap_policy = SourcePolicy(None, grid.policy.usd_equivalents) if grid.policy else None
        caps = _closes(db, outside, start, end, DAY, value="market_cap", policy=cap_policy)
        caps_daily = _regular(caps, start.floor(DAY), end, DAY, outside)
        caps = caps_daily if period == DAY else caps_daily.shift(1).reindex(prices_out.index.floor(DAY)).set_axis(prices_out.index)
    market = build_index(prices_out, caps, return_kind, index_weights)
    weighting = "cap-weighted" if index_weights == "cap" else "equal-weighted"
    benchmark_name = f"{weighting} index of {len(outside)} coins outside the sample" + (f" and {category}" if category else "")
    coin_prices = grid.prices(db, sample_coins)
    if period == HOUR:
        notes.append("hourly index weights are the previous day's market caps" if index_weights == "cap" else "equal-weighted hourly index")
    return coin_prices, market, benchmark_name


def _coin_benchmark(db: Database, benchmark: str, sample_coins: list[str], grid: _Grid,
                    return_kind: str) -> tuple[pd.DataFrame, pd.Series, str]:
    if not known_coins(db, [benchmark]):
        raise InputError(empty_database(db) or
                         f"unknown benchmark {benchmark!r}: no such coin id in the database (e.g. bitcoin, ethereum, or 'index')")
    coin_prices = grid.prices(db, sample_coins + [benchmark])
    market = _coin_returns(coin_prices.pop(benchmark), return_kind)
    if market.notna().sum() == 0:
        chosen = f" from `source` {grid.policy.source!r}" if grid.policy and grid.policy.source else ""
        raise InputError(f"benchmark {benchmark!r} has no prices{chosen} between {grid.start:%Y-%m-%d} and {grid.end:%Y-%m-%d}",
                         parameters=["source"] if chosen else ())
    return coin_prices, market, benchmark
