"""The analyses run on data from the database and outside series: what the CLI calls.

A :class:`Selection` says which series (tokens, a category, an AI index), which benchmarks
(BTC and ETH by default, and outside series stored or in CSV files), which range and grid.
:func:`load_panel` fetches the prices once; a :class:`Panel` then hands each analysis the
returns it needs, on the right calendar:

* crypto against crypto: every period of the grid (a missing close is a missing return);
* anything against an outside series: that series' own calendar (an equity's trading days),
  returns running between consecutive days where both have a close, none longer than
  ``max_span`` periods. Nothing is forward-filled.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from storage import Database

from ...errors import AnalysisError, InputError
from .. import panels
from ..missing import empty_database
from ..source_choice import SourcePolicy, check_source, provenance_rows
from . import sources
from .event_change import FISHER_TEST, all_pairs, bh_adjust, correlation_change, event_windows, pairs_against
from .granger import granger_causality
from .index import index_returns
from .leadlag import cross_correlation, lead_lag_summary, move_timing, rank_timing
from .matrix import MatrixResult, matrix_from
from .pairwise import pairwise_correlation
from .results import CorrelationResults
from .returns import to_returns
from .rolling import default_min_periods, rolling_beta, rolling_correlation

__all__ = [
    "DEFAULT_BENCHMARKS",
    "INDEX_NAME",
    "PAIRINGS",
    "Selection",
    "Panel",
    "load_panel",
    "rolling_table",
    "matrix_result",
    "change_table",
    "leadlag_tables",
    "timing_table",
    "change_range",
    "granger_table",
]

DEFAULT_BENCHMARKS = ("bitcoin", "ethereum")
INDEX_NAME = "ai-index"
PAIRINGS = ("benchmarks", "tokens", "all")


@dataclass
class Selection:
    """What to analyse.

    Attributes
    ----------
    tokens : list of str
        CoinGecko ids of the series studied.
    category : str, optional
        A category whose point-in-time members are added to ``tokens``.
    benchmarks : list of str
        Coin ids compared against (default BTC and ETH).
    series : list of str
        Ids of outside series stored with ``tracker correlate series import``.
    series_csv : list of str
        Outside-series CSV files read directly (named after the file stem).
    start, end : timestamp, optional
        Range of return labels analysed (UTC, inclusive).
    hourly : bool
        Hourly grid instead of daily.
    kind : {"log", "simple"}
    index : {"cap", "equal"}, optional
        Add an AI index of the tokens (category members when a category is given).
    max_span : int
        Longest return allowed on an outside series' calendar, in periods.
    sources : SourcePolicy, optional
        Which stored source gives each coin's closes (default: one per coin, by coverage).
    """

    tokens: list[str] = field(default_factory=list)
    category: str | None = None
    benchmarks: list[str] = field(default_factory=lambda: list(DEFAULT_BENCHMARKS))
    series: list[str] = field(default_factory=list)
    series_csv: list[str] = field(default_factory=list)
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    hourly: bool = False
    kind: str = "log"
    index: str | None = None
    max_span: int = 4
    sources: SourcePolicy | None = None

    @property
    def step(self) -> pd.Timedelta:
        return pd.Timedelta(hours=1) if self.hourly else pd.Timedelta(days=1)


@dataclass
class Panel:
    """Prices of everything selected, and returns on demand."""

    prices: pd.DataFrame
    external: pd.DataFrame
    series: list[str]
    benchmarks: list[str]
    step: pd.Timedelta
    kind: str
    max_span: int
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    members: pd.DataFrame | None = None
    caps: pd.DataFrame | None = None
    index_weighting: str | None = None
    index_tokens: list[str] = field(default_factory=list)
    notes: dict = field(default_factory=dict)

    def settings(self) -> dict:
        settings = {
            "grid": "hourly" if self.step == pd.Timedelta(hours=1) else "daily",
            "kind": self.kind,
            "start": self.start,
            "end": self.end,
            "series": list(self.series),
            "benchmarks": list(self.benchmarks),
            "index": self.index_weighting,
        }
        if len(self.external.columns):
            settings["max_span"] = self.max_span  # only returns on an outside series' calendar span >1 period
        return settings | self.notes

    def is_external(self, name: str) -> bool:
        return name in self.external.columns

    def returns(self, columns: Sequence[str]) -> pd.DataFrame:
        """Returns of ``columns`` on one calendar: the grid, or the outside series' shared days."""
        columns = list(dict.fromkeys(columns))
        external = [c for c in columns if self.is_external(c)]
        crypto = [c for c in columns if c in self.prices.columns]
        unknown = [c for c in columns if c not in crypto and c not in external and c != INDEX_NAME]
        if unknown:
            raise AnalysisError(f"no prices loaded for {', '.join(unknown)}")
        calendar = None
        for name in external:
            days = self.external[name].dropna().index
            calendar = days if calendar is None else calendar.intersection(days)
        frame = self.prices[crypto].join(self.external[external], how="outer") if external else self.prices[crypto]
        if INDEX_NAME in columns and frame.empty:
            frame = pd.DataFrame(index=self.prices.index)
        max_span = self.max_span if calendar is not None else 1
        returns = to_returns(frame, self.kind, freq=self.step, calendar=calendar, max_span=max_span)
        if INDEX_NAME in columns:
            index, _ = index_returns(
                self.prices[self.index_tokens], weighting=self.index_weighting, caps=self.caps, members=self.members,
                kind=self.kind, freq=self.step, calendar=calendar, max_span=max_span, name=INDEX_NAME,
            )
            returns[INDEX_NAME] = index[INDEX_NAME].reindex(returns.index)
        returns = returns[columns]
        if self.start is not None:
            returns = returns.loc[returns.index >= self.start]
        if self.end is not None:
            returns = returns.loc[returns.index <= self.end]
        return returns

    def pairs(self, pairing: str) -> list[tuple]:
        """The pairs a pairing names: series x benchmarks, pairs among series, or all pairs."""
        if pairing not in PAIRINGS:
            raise InputError(f"pairs must be one of {', '.join(PAIRINGS)}")
        if pairing == "benchmarks":
            found = pairs_against(self.series, self.benchmarks)
        elif pairing == "tokens":
            found = all_pairs(self.series)
        else:
            found = all_pairs(self.series + self.benchmarks)
        if not found:
            raise InputError(f"no pairs to study with `pairing` {pairing}: name more tokens or benchmarks", parameters=["pairing"])
        return found

    def grouped(self, pairs: Sequence[tuple]) -> list[tuple[pd.DataFrame, list[tuple]]]:
        """Pairs grouped by calendar, each group with its returns."""
        groups: dict[tuple, list[tuple]] = {}
        for pair in pairs:
            key = tuple(sorted(s for s in pair if self.is_external(s)))
            groups.setdefault(key, []).append(pair)
        out = []
        for members in groups.values():
            columns = list(dict.fromkeys(s for pair in members for s in pair))
            out.append((self.returns(columns), members))
        return out


def _check_coverage(prices: pd.DataFrame, wanted: Sequence[str], what: str, db: Database | None = None) -> None:
    missing = [c for c in wanted if c not in prices.columns or prices[c].notna().sum() == 0]
    if missing:
        # An empty database is the gap to name, not the coin ids.
        empty = empty_database(db) if db is not None else None
        raise InputError(empty or f"no prices in the database for {what} {', '.join(missing)} in this range (check the coin ids)")


def load_panel(db: Database, selection: Selection, *, progress: Callable[[int], None] | None = None) -> Panel:
    """Fetch prices (and caps, membership, outside series) for a selection.

    Prices are loaded from a little before ``start`` so that the first return in range has
    the close it starts from (``max_span`` periods before, for outside series' calendars).
    """
    _check_selection(selection)
    step = selection.step
    load_from = None if selection.start is None else selection.start - step * (selection.max_span + 1)
    crypto = _load_crypto(db, selection, load_from, progress)
    external, ext_names = _load_external(db, selection, load_from, crypto.prices)
    tokens = crypto.tokens
    series = tokens + ([INDEX_NAME] if selection.index else [])
    caps = None
    if selection.index == "cap":
        caps = sources.load_caps(db, tokens, load_from, selection.end, hourly=selection.hourly, labels=crypto.prices.index)
        caps = caps.reindex(columns=tokens)
        if caps.notna().sum().sum() == 0:
            raise InputError("no market caps stored for these tokens; use `index` equal", parameters=["index"])
    return Panel(
        prices=crypto.prices,
        external=external,
        series=series,
        benchmarks=[b for b in crypto.benchmarks if b not in series] + ext_names,
        step=step,
        kind=selection.kind,
        max_span=selection.max_span,
        start=selection.start,
        end=selection.end,
        members=crypto.members,
        caps=caps,
        index_weighting=selection.index,
        index_tokens=tokens,
        notes=crypto.notes,
    )


def _check_selection(selection: Selection) -> None:
    if selection.kind not in ("log", "simple"):
        raise InputError(f"return kind {selection.kind!r} is not log or simple")
    if selection.max_span < 1:
        raise InputError("`max_span` must be at least 1", parameters=["max_span"])
    if selection.index not in (None, "cap", "equal"):
        raise InputError(f"index weighting {selection.index!r} is not cap or equal")
    if not selection.tokens and not selection.category:
        raise InputError("name the tokens with `tokens` a,b,c or `category` CATEGORY_ID", parameters=["tokens", "category"])
    if selection.start is not None and selection.end is not None and selection.start > selection.end:
        raise InputError(f"start {selection.start} is after end {selection.end}")


@dataclass
class _Crypto:
    """The coins' side of a panel: prices of tokens (and category members) and benchmarks."""

    prices: pd.DataFrame
    tokens: list[str]
    benchmarks: list[str]
    members: pd.DataFrame | None
    notes: dict


def _load_crypto(db: Database, selection: Selection, load_from, progress: Callable[[int], None] | None) -> _Crypto:
    hourly = selection.hourly
    benchmarks = [b for b in dict.fromkeys(selection.benchmarks)]
    policy = selection.sources or SourcePolicy()
    check_source(db, policy)
    bench_prices = (sources.load_closes(db, benchmarks, load_from, selection.end, hourly=hourly, policy=policy)
                    if benchmarks else pd.DataFrame())
    _check_coverage(bench_prices, benchmarks, "benchmark", db)

    tokens = list(dict.fromkeys(selection.tokens))
    members = None
    notes: dict = {}
    if selection.category:
        members = _category_members(db, selection, bench_prices, progress)
        tokens += [c for c in members.columns if c not in tokens]
    token_prices = sources.load_closes(db, tokens, load_from, selection.end, hourly=hourly, policy=policy)
    if selection.tokens:
        _check_coverage(token_prices, selection.tokens, "token", db)
    if selection.category:
        without = [c for c in tokens if c not in token_prices.columns or token_prices[c].notna().sum() == 0]
        tokens = [c for c in tokens if c not in without]
        if without:
            notes["members_without_prices"] = without
        if not tokens:
            raise InputError(f"no member of {selection.category!r} has prices in this range")
    prices = token_prices.join(bench_prices[[b for b in benchmarks if b not in token_prices.columns]], how="outer")
    notes.update(_source_notes(db, selection, policy, tokens + benchmarks, load_from))
    return _Crypto(prices.sort_index(), tokens, benchmarks, members, notes)


def _source_notes(db: Database, selection: Selection, policy: SourcePolicy, coins: Sequence[str], load_from) -> dict:
    """The settings that say where each coin's closes came from (docs/correlation.md, "Sources")."""
    quote = panels.quote_currency(db, None, policy)
    chosen = panels.chosen_sources(db, list(dict.fromkeys(coins)), load_from, selection.end, hourly=selection.hourly,
                                   policy=policy)
    return {"sources": policy.describe(quote),
            "price_from": {row["coin_id"]: f"{row['source']} ({row['quote']})" for row in provenance_rows(chosen, quote)}}


def _category_members(db: Database, selection: Selection, bench_prices: pd.DataFrame,
                      progress: Callable[[int], None] | None) -> pd.DataFrame:
    """The category's membership on the grid from start to end (the benchmarks' range if open)."""
    if bench_prices.empty and (selection.start is None or selection.end is None):
        raise InputError("with `category` and no benchmark, give `start` and `end`", parameters=["category", "start", "end"])
    lo = selection.start if selection.start is not None else bench_prices.index.min()
    hi = selection.end if selection.end is not None else bench_prices.index.max()
    labels = pd.date_range(lo, hi, freq=selection.step)
    members = sources.category_membership(db, selection.category, labels, progress=progress)
    if members.shape[1] == 0:
        raise InputError(f"category {selection.category!r} has no members between {lo} and {hi}")
    return members


def _load_external(db: Database, selection: Selection, load_from, prices: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Outside series, stored and from CSV files, with a week before ``load_from`` for their calendars."""
    step, hourly = selection.step, selection.hourly
    external = pd.DataFrame(index=pd.DatetimeIndex([]), dtype=float)
    ext_names: list[str] = []
    if selection.series:
        stored = sources.load_external(db, selection.series, load_from - step * 7 if load_from is not None else None,
                                       selection.end, hourly=hourly)
        for name in selection.series:
            if stored[name].notna().sum() == 0:
                raise InputError(f"outside series {name!r} has no values in this range")
        external = external.join(stored, how="outer")
        ext_names += list(selection.series)
    for path in selection.series_csv:
        column = sources.load_external_csv(path, hourly=hourly)
        if column.name in ext_names or column.name in prices.columns:
            raise InputError(f"two series are named {column.name!r}; rename the CSV file")
        if load_from is not None:
            column = column[column.index >= load_from - step * 7]
        if selection.end is not None:
            column = column[column.index <= selection.end]
        if column.empty:
            raise InputError(f"{path} has no values in this range")
        external = external.join(column, how="outer")
        ext_names.append(str(column.name))
    if ext_names:
        _check_grid(external, step)
        _check_spacing(external, step, selection.max_span)
    return external, ext_names


def _check_grid(external: pd.DataFrame, step: pd.Timedelta) -> None:
    off = external.index[external.index != external.index.floor(step)]
    if len(off):
        raise InputError(f"outside series label {off[0]} is not on the {'hourly' if step < pd.Timedelta(days=1) else 'daily'} grid")


def _check_spacing(external: pd.DataFrame, step: pd.Timedelta, max_span: int) -> None:
    """Refuse an outside series too sparse for the grid (daily values on the hourly grid):
    its returns would all span more than ``max_span`` periods and be dropped."""
    for name in external.columns:
        labels = external[name].dropna().index
        if len(labels) < 2:
            continue
        typical = pd.Series(labels).diff().dropna().median() / step
        if typical > max_span:
            raise InputError(
                f"outside series {name!r} has one value every {typical:g} periods, more than `max_span` {max_span}; "
                "use the daily grid (drop `hourly`) or raise `max_span`",
                parameters=["max_span", "hourly"],
            )


# ---------------------------------------------------------------- analyses


def rolling_table(panel: Panel, window: int = 30, methods: Sequence[str] = ("pearson",), min_periods: int | None = None,
                  *, progress: Callable[[int], None] | None = None) -> CorrelationResults:
    """Rolling correlation(s) and beta of every series against every benchmark.

    Returns
    -------
    CorrelationResults
        Frame ``rolling``: ``ts``, ``series``, ``benchmark``, ``window``, ``n``, one column per
        method, ``beta``.
    """
    if not panel.benchmarks:
        raise InputError("rolling needs at least one benchmark (`benchmarks` or `series`)", parameters=["benchmarks", "series"])
    pieces = []
    for benchmark in panel.benchmarks:
        returns = panel.returns(panel.series + [benchmark])
        series = returns[[c for c in panel.series if c != benchmark]]
        merged = rolling_beta(series, returns[benchmark], window, min_periods)
        for method in methods:
            corr = rolling_correlation(series, returns[benchmark], window, method, min_periods, progress=progress)
            merged.insert(merged.columns.get_loc("beta"), method, corr["corr"].to_numpy())
        pieces.append(merged)
    frame = pd.concat(pieces, ignore_index=True)
    frame = frame.dropna(subset=list(methods) + ["beta"], how="all").reset_index(drop=True)
    min_periods = default_min_periods(window) if min_periods is None else int(min_periods)
    settings = panel.settings() | {"window": int(window), "min_periods": min_periods, "methods": list(methods)}
    return CorrelationResults.of("rolling", {"rolling": frame}, settings)


def matrix_result(panel: Panel, method: str = "pearson", min_overlap: int = 20, cluster: bool = True) -> MatrixResult:
    """Correlation matrix of series and benchmarks; pairs with an outside series on its calendar."""
    names = list(dict.fromkeys(panel.series + panel.benchmarks))
    if len(names) < 2:
        raise InputError("a matrix needs at least two series")
    internal = [c for c in names if not panel.is_external(c)]
    corr = pd.DataFrame(np.nan, index=names, columns=names)
    n = pd.DataFrame(0, index=names, columns=names, dtype=np.int64)
    if internal:
        c, k = pairwise_correlation(panel.returns(internal), method, min_overlap)
        corr.loc[internal, internal], n.loc[internal, internal] = c, k
    externals = [c for c in names if panel.is_external(c)]
    for i, name in enumerate(externals):
        for group in ([*internal, name], *[[name, other] for other in externals[i + 1:]]):
            c, k = pairwise_correlation(panel.returns(group), method, min_overlap)
            corr.loc[group, name], corr.loc[name, group] = c[name], c.loc[name]
            n.loc[group, name], n.loc[name, group] = k[name], k.loc[name]
    settings = panel.settings() | ({"calendar": "pairs with an outside series use its trading days"} if externals else {})
    return matrix_from(corr, n, settings | {"method": method, "min_overlap": int(min_overlap)}, cluster=cluster)


def change_table(panel: Panel, event_ts, pre=30, post=30, *, gap=0, pairing: str = "benchmarks",
                 method: str = "pearson", min_overlap: int = 10) -> CorrelationResults:
    """Pre- against post-event correlation of each pair, Fisher z test of the change."""
    groups = panel.grouped(panel.pairs(pairing))
    pieces = [
        correlation_change(returns, event_ts, pre, post, pairs=pairs, method=method, gap=gap, min_overlap=min_overlap,
                           freq=panel.step)
        for returns, pairs in groups
    ]
    frame = pd.concat(pieces, ignore_index=True)
    frame["p_adj"] = bh_adjust(frame["p_value"].to_numpy())
    windows = event_windows(groups[0][0].index, event_ts, panel.step, pre, post, gap)
    settings = panel.settings() | windows | {"event_ts": pd.Timestamp(event_ts), "method": method,
                                             "min_overlap": int(min_overlap), "test": FISHER_TEST}
    return CorrelationResults.of("change", {"change": frame}, settings)


def change_range(event_ts, pre, post, gap, step: pd.Timedelta) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The label range a pre/post comparison needs (to load just that)."""
    event = pd.Timestamp(event_ts)
    origin = event.floor("D")
    windows = event_windows(pd.DatetimeIndex([origin]), event, step, pre, post, gap)
    return windows["pre_start"], windows["post_end"] - step


def leadlag_tables(panel: Panel, max_lag: int = 24, *, pairing: str = "all", method: str = "pearson",
                   min_overlap: int = 20) -> CorrelationResults:
    """Cross-correlations at lags ``-max_lag..max_lag`` per pair (frame ``cross_correlation``), and
    the peak per pair (``summary``)."""
    pieces = [
        cross_correlation(returns, pairs, max_lag, method=method, min_overlap=min_overlap)
        for returns, pairs in panel.grouped(panel.pairs(pairing))
    ]
    ccf = pd.concat(pieces, ignore_index=True)
    settings = panel.settings() | {"max_lag": int(max_lag), "method": method, "min_overlap": int(min_overlap)}
    return CorrelationResults.of("leadlag", {"cross_correlation": ccf, "summary": lead_lag_summary(ccf)}, settings)


def timing_table(panel: Panel, pairing: str = "all", fraction: float = 0.5) -> CorrelationResults:
    """When each series of the pairs made ``fraction`` of its move over the range (who moved first).

    Crypto series share the grid; an outside series is timed on its own calendar.
    """
    names = list(dict.fromkeys(s for pair in panel.pairs(pairing) for s in pair))
    internal = [c for c in names if not panel.is_external(c)]
    calendars = ([panel.returns(internal)] if internal else []) + [panel.returns([c]) for c in names if panel.is_external(c)]
    pieces = [move_timing(returns, fraction=fraction, kind=panel.kind) for returns in calendars]
    frame = rank_timing(pd.concat(pieces, ignore_index=True))  # one order across calendars
    first = calendars[0].index
    settings = panel.settings() | {"fraction": fraction, "window_start": first.min() if len(first) else None,
                                   "window_end": first.max() if len(first) else None}
    return CorrelationResults.of("timing", {"timing": frame}, settings)


def granger_table(panel: Panel, max_lag: int = 10, *, pairing: str = "all", criterion: str = "bic",
                  lag: int | None = None, progress: Callable | None = None) -> CorrelationResults:
    """Granger tests both ways for each pair, lag order by AIC/BIC unless ``lag`` is given."""
    pieces = []
    for returns, pairs in panel.grouped(panel.pairs(pairing)):
        pieces.append(granger_causality(returns, pairs, max_lag, criterion=criterion, lag=lag))
        if progress:
            progress(len(pairs))
    frame = pd.concat(pieces, ignore_index=True)
    frame["p_adj"] = bh_adjust(frame["p_value"].to_numpy())
    settings = panel.settings() | {"max_lag": int(max_lag), "criterion": criterion if lag is None else "fixed"}
    return CorrelationResults.of("granger", {"granger": frame}, settings)
