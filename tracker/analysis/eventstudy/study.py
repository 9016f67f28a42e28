"""``EventStudy``: the engine, on plain DataFrames.

    >>> study = EventStudy(returns, market, events, model="market",
    ...                    estimation_window=(-130, -11), event_windows=[(0, 0), (-1, 1), (0, 5)])
    >>> results = study.fit()
    >>> print(results.summary())

``returns`` is wide (index = period timestamps in UTC, one column per security), ``market`` a
Series or a frame (one column, or one column per security), ``events`` a frame of
``event_id``, ``timestamp`` and optionally ``security`` (missing or ``"all"`` = every column).
All security-events are stacked into arrays and fitted at once; see :mod:`.blocks`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ...errors import InputError, first_line
from . import fitting, models
from .assess import assess
from .battery import run_battery
from .blocks import Layout
from .calendar import GAP_POLICIES, RETURN_KINDS, align_benchmark, returns_from_prices
from .evidence import DEFAULT_ALPHA
from .placebo import placebo_range
from .results import EventStudyResults
from .windows import (
    Window,
    as_window,
    check_layout,
    infer_period,
    parse_day_boundary,
    parse_windows,
    utc_naive,
)

DEFAULT_ESTIMATION = (-130, -11)
DEFAULT_WINDOWS = ((0, 0), (-1, 1), (0, 5))
# Hourly studies: three weeks of estimation ending a day before, windows up to a day long.
HOURLY_ESTIMATION = (-504, -25)
HOURLY_WINDOWS = ((0, 0), (-1, 1), (0, 23))
ALL = {"all", "*", ""}
# A security whose estimation returns are mostly exact zeros has stale prices, not a variance.
DEFAULT_MAX_ZERO_SHARE = 0.5
DEFAULT_CLUSTER_THRESHOLD = 0.1


def _prepare_returns(returns: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(returns, pd.DataFrame):
        raise InputError("returns must be a DataFrame: index = period timestamps, one column per security")
    if returns.shape[1] == 0:
        raise InputError("returns has no security columns")
    try:
        index = utc_naive(returns.index)
    except (TypeError, ValueError):
        raise InputError("the returns index must be timestamps (one row per period)") from None
    if index.has_duplicates:
        raise InputError(f"the returns index repeats {index[index.duplicated()][0]}; one row per period")
    try:
        values = returns.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        bad = [c for c in returns.columns if not pd.api.types.is_numeric_dtype(returns[c])]
        raise InputError(f"returns column {bad[0] if bad else '?'!s} is not numeric") from None
    frame = pd.DataFrame(values, index=index, columns=[str(c) for c in returns.columns])
    if frame.columns.has_duplicates:
        raise InputError(f"security {frame.columns[frame.columns.duplicated()][0]!r} appears twice in the returns")
    frame = frame.replace([np.inf, -np.inf], np.nan).sort_index()
    return frame


def _prepare_caps(caps, name: str = "caps") -> pd.DataFrame | None:
    """A wide frame of numbers on UTC periods (market caps, or reference returns)."""
    if caps is None:
        return None
    if not isinstance(caps, pd.DataFrame):
        raise InputError(f"`{name}` must be a DataFrame: index = periods, one column per series", parameters=[name])
    frame = caps.copy()
    frame.index = utc_naive(frame.index)
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype(float)


def _prepare_calendar(calendar) -> pd.DataFrame | None:
    if calendar is None:
        return None
    frame = pd.DataFrame(calendar)
    if not {"event_id", "timestamp"} <= set(frame.columns):
        raise InputError("`calendar` needs columns event_id and timestamp", parameters=["calendar"])
    try:
        stamps = utc_naive(pd.to_datetime(frame["timestamp"], utc=True, format="ISO8601"))
    except (TypeError, ValueError) as exc:
        raise InputError(f"a `calendar` timestamp cannot be read: {first_line(exc)}", parameters=["calendar"]) from None
    return pd.DataFrame({"event_id": frame["event_id"].astype(str).to_numpy(), "timestamp": stamps})


def _prepare_market(market, securities: Sequence[str], index: pd.DatetimeIndex, benchmark: str | None) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """The benchmark as a frame on ``index``, and each security's benchmark column."""
    if isinstance(market, pd.Series):
        frame = market.to_frame(benchmark or (str(market.name) if market.name is not None else "market"))
    elif isinstance(market, pd.DataFrame):
        frame = market.copy()
        frame.columns = [str(c) for c in frame.columns]
    else:
        raise InputError("market must be a Series, or a DataFrame with one column or one column per security")
    try:
        frame.index = utc_naive(frame.index)
    except (TypeError, ValueError):
        raise InputError("the market index must be timestamps") from None
    if frame.index.has_duplicates:
        raise InputError("the market index repeats a period; one row per period")
    try:
        frame = frame.astype(float).replace([np.inf, -np.inf], np.nan)
    except (TypeError, ValueError):
        raise InputError("market returns must be numeric") from None
    if frame.shape[1] == 1:
        names = list(frame.columns)
        column = np.zeros(len(securities), dtype=np.int64)
    else:
        missing = [s for s in securities if s not in frame.columns]
        if missing:
            raise InputError(
                f"market has {frame.shape[1]} columns but none for security {missing[0]!r}; "
                "give one benchmark column, or one per security"
            )
        frame = frame[list(securities)]
        names = list(securities)
        column = np.arange(len(securities), dtype=np.int64)
    frame = frame.reindex(index)
    if frame.notna().sum().sum() == 0:
        raise InputError("the market series has no returns on the periods of the returns panel")
    return frame, column, names


def _prepare_events(events, securities: Sequence[str]) -> "ExpandedEvents":
    """Expand events to one entry per (event_id, security, timestamp)."""
    if isinstance(events, Mapping):
        events = pd.DataFrame({"event_id": list(events), "timestamp": list(events.values())})
    if not isinstance(events, pd.DataFrame):
        raise InputError("events must be a DataFrame with event_id, timestamp and optionally security")
    frame = events.copy()
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if "timestamp" not in frame.columns:
        for alias in ("date", "ts", "time", "datetime"):
            if alias in frame.columns:
                frame = frame.rename(columns={alias: "timestamp"})
                break
    if "event_id" not in frame.columns and "id" in frame.columns:
        frame = frame.rename(columns={"id": "event_id"})
    if "security" not in frame.columns:
        for alias in ("token", "coin_id", "ticker"):
            if alias in frame.columns:
                frame = frame.rename(columns={alias: "security"})
                break
    missing = [c for c in ("event_id", "timestamp") if c not in frame.columns]
    if missing:
        raise InputError(f"events need columns event_id and timestamp; missing {', '.join(missing)}")
    if frame.empty:
        raise InputError("no events given")
    try:
        frame["timestamp"] = utc_naive(frame["timestamp"])
    except (TypeError, ValueError) as exc:
        raise InputError(f"an event timestamp cannot be read as a date or time: {first_line(exc)}") from None
    if frame["timestamp"].isna().any():
        bad = frame.loc[frame["timestamp"].isna(), "event_id"].iloc[0]
        raise InputError(f"event {bad!s} has no timestamp")
    frame["event_id"] = frame["event_id"].astype(str).str.strip()
    times = frame.groupby("event_id")["timestamp"].nunique()
    if (times > 1).any():
        raise InputError(f"event {times[times > 1].index[0]!r} has more than one timestamp")
    if "security" not in frame.columns:
        frame["security"] = "all"
    security = frame["security"].astype(object).where(frame["security"].notna(), "all").astype(str).str.strip().to_numpy()
    wildcard = pd.Series(security).str.lower().isin(ALL).to_numpy()
    lookup = {name: i for i, name in enumerate(securities)}
    unknown = [i for i in np.flatnonzero(~wildcard) if security[i] not in lookup]
    if unknown:
        row = frame.iloc[unknown[0]]
        raise InputError(f"event {row['event_id']!r} names security {security[unknown[0]]!r}, which is not a column of the returns")
    # Wildcard rows expand to every security; built with repeat/tile, no per-row Python.
    n_securities = len(securities)
    per_row = np.where(wildcard, n_securities, 1)
    source_row = np.repeat(np.arange(len(frame)), per_row)
    column = np.empty(len(source_row), dtype=np.int64)
    is_wild = wildcard[source_row]
    column[is_wild] = np.tile(np.arange(n_securities), int(wildcard.sum()))
    column[~is_wild] = [lookup[security[i]] for i in np.flatnonzero(~wildcard)]
    event_code, event_names = pd.factorize(frame["event_id"])
    codes = event_code[source_row]
    keys = codes.astype(np.int64) * n_securities + column
    unique_keys, counts = np.unique(keys, return_counts=True)
    if (counts > 1).any():
        twice = unique_keys[counts > 1][0]
        raise InputError(f"event {event_names[twice // n_securities]!r} lists security {securities[twice % n_securities]!r} twice")
    stamps = frame["timestamp"].to_numpy()[source_row]
    order = np.lexsort((column, codes, stamps))
    return ExpandedEvents(
        event_id=np.asarray(event_names, dtype=object)[codes[order]].astype(str),
        column=column[order],
        timestamp=pd.DatetimeIndex(stamps[order]),
        security=np.asarray(securities, dtype=object)[column[order]].astype(str),
    )


@dataclass(frozen=True)
class ExpandedEvents:
    """One entry per security-event, ordered by event time, event id and returns column."""

    event_id: np.ndarray
    column: np.ndarray
    timestamp: pd.DatetimeIndex
    security: np.ndarray

    def __len__(self) -> int:
        return len(self.column)


class EventStudy:
    """A short-horizon event study, vectorised across securities and events.

    Parameters
    ----------
    returns : DataFrame
        Period returns: index = period timestamps (UTC; daily or hourly), one column per
        security. A row labelled ``t`` is the return of the period ending at ``t``'s close
        (see :mod:`.windows`).
    market : Series or DataFrame, optional
        Benchmark returns: one series, or a frame with one column, or one column per security.
        Not needed for ``model="mean"``.
    events : DataFrame or mapping
        ``event_id``, ``timestamp`` (announcement instant, UTC; a bare date is midnight) and
        optionally ``security`` (missing or ``"all"`` = every column). A mapping
        ``{event_id: timestamp}`` applies each event to every security.
    model : {"market", "mean", "market-adjusted"}
        Normal-return model; see :mod:`.models`.
    estimation_window, event_windows
        Inclusive windows of relative periods, as ``(start, end)`` pairs or ``"start:end"``.
    return_kind : {"simple", "log"}
        What the returns are. CARs are arithmetic sums of ARs either way.
    day_boundary : str
        UTC time at which daily periods end (``"00:00"`` = midnight ending the labelled day).
    benchmark_gaps : {"drop", "ffill", "none"}
        How periods without a benchmark return are aligned; see :mod:`.calendar`.
    min_estimation_obs : int, optional
        Fewer usable estimation periods leave the security-event out. Default: two thirds of
        the estimation window, and never below the model's parameters + 3.
    max_zero_share : float
        Security-events whose estimation returns are zero at least this often are left out as
        stale prices.
    exclude_other_events : bool
        Drop estimation periods that fall inside another event's event span for the same
        security (default False).
    cluster_threshold : float
        The share of security-events sharing day 0 with another security above which the
        study counts as clustered and leads with the dependence-robust tests.
    benchmark_name : str, optional
        Label for the benchmark in reports.
    sources : dict, optional
        Where the prices came from, carried into the settings: ``{"rule": str, "coins":
        {coin_id: "source (quote)"}}`` (``source_choice.settings_entry``).
    alpha : float
        Significance level of the verdicts and diagnostics (default 0.05).
    primary_window : window, optional
        The window the findings lead with; listed first (added when not among
        ``event_windows``). Default: the first of ``event_windows``.
    placebo : bool or window, optional
        Placebo inference over pseudo-event days: True for the default range -250:-20, or a
        range ``"start:end"``; see :mod:`.placebo`.
    calendar_time : bool
        Run the calendar-time portfolio regression (:mod:`.calendar_time`).
    portfolio_weights : {"equal", "cap"}
        Weights of the calendar-time portfolio; ``cap`` needs ``caps``.
    caps : DataFrame, optional
        Market caps on the returns' index, one column per security.
    calendar : DataFrame, optional
        Other calendar events (``event_id``, ``timestamp``) for the overlap diagnostic.
    references : DataFrame, optional
        Returns of other markets (columns named, e.g. ``ethereum``) on the returns' periods,
        whose day-0 moves the diagnostics check beside the benchmark's.
    diagnostics : bool
        Compute the full diagnostics table (a second fit for the pre-event drift); the
        event-induced variance rows are always there.
    """

    def __init__(
        self,
        returns: pd.DataFrame,
        market: pd.Series | pd.DataFrame | None = None,
        events: pd.DataFrame | Mapping | None = None,
        *,
        model: str = "market",
        estimation_window: object = DEFAULT_ESTIMATION,
        event_windows: Iterable[object] | str = DEFAULT_WINDOWS,
        return_kind: str = "simple",
        day_boundary: str = "00:00",
        benchmark_gaps: str = "drop",
        min_estimation_obs: int | None = None,
        max_zero_share: float = DEFAULT_MAX_ZERO_SHARE,
        exclude_other_events: bool = False,
        cluster_threshold: float = DEFAULT_CLUSTER_THRESHOLD,
        benchmark_name: str | None = None,
        sources: dict | None = None,
        alpha: float = DEFAULT_ALPHA,
        primary_window: object | None = None,
        placebo: bool | object | None = None,
        calendar_time: bool = False,
        portfolio_weights: str = "equal",
        caps: pd.DataFrame | None = None,
        calendar: pd.DataFrame | None = None,
        diagnostics: bool = True,
        references: pd.DataFrame | None = None,
    ):
        self.model = models.canonical_model(model)
        self.estimation_window = as_window(estimation_window, "estimation window")
        self.event_windows = parse_windows(event_windows)
        if primary_window is not None:
            primary = as_window(primary_window, "`primary_window`", ["primary_window"])
            self.event_windows = [primary] + [w for w in self.event_windows if w != primary]
        if not 0 < float(alpha) < 1:
            raise InputError(f"`alpha` {alpha} must be between 0 and 1", parameters=["alpha"])
        self.alpha = float(alpha)
        self.placebo = None if placebo is None or placebo is False else placebo_range(placebo, self.event_windows)
        self.calendar_time = bool(calendar_time)
        if portfolio_weights not in ("equal", "cap"):
            raise InputError(f"`portfolio_weights` {portfolio_weights!r} must be equal or cap", parameters=["portfolio_weights"])
        if portfolio_weights == "cap" and caps is None:
            raise InputError("`portfolio_weights` cap needs market caps (`caps`)", parameters=["portfolio_weights"])
        self.portfolio_weights = portfolio_weights
        self.caps = _prepare_caps(caps)
        self.calendar = _prepare_calendar(calendar)
        self.diagnostics = bool(diagnostics)
        self.references = _prepare_caps(references, "references")
        check_layout(self.estimation_window, self.event_windows)
        if return_kind not in RETURN_KINDS:
            raise InputError(f"return kind {return_kind!r} must be one of {', '.join(RETURN_KINDS)}")
        if benchmark_gaps not in GAP_POLICIES:
            raise InputError(f"benchmark gap policy {benchmark_gaps!r} must be one of {', '.join(GAP_POLICIES)}")
        self.return_kind = return_kind
        self.day_boundary = parse_day_boundary(day_boundary)
        self.benchmark_gaps = benchmark_gaps
        floor = models.PARAMETERS[self.model] + 3
        if min_estimation_obs is None:
            min_estimation_obs = max(floor, math.ceil(2 * self.estimation_window.length / 3))
        if min_estimation_obs < floor:
            raise InputError(f"min_estimation_obs must be at least {floor} for the {self.model} model")
        if min_estimation_obs > self.estimation_window.length:
            raise InputError(
                f"min_estimation_obs {min_estimation_obs} exceeds the estimation window's {self.estimation_window.length} periods"
            )
        self.min_estimation_obs = int(min_estimation_obs)
        if not 0 < max_zero_share <= 1:
            raise InputError("max_zero_share must be in (0, 1]")
        self.max_zero_share = float(max_zero_share)
        self.exclude_other_events = bool(exclude_other_events)
        self.cluster_threshold = float(cluster_threshold)
        if self.model != "mean" and market is None:
            raise InputError(f"the {self.model} model needs market (benchmark) returns")
        if events is None:
            raise InputError("no events given")
        self.returns = _prepare_returns(returns)
        self.market_input = market if self.model != "mean" else None
        self.events_input = events
        self.benchmark_name = benchmark_name
        self.sources = sources

    @property
    def layout_span(self) -> Window:
        """From the first event-window start to the last end."""
        return Layout(self.estimation_window, tuple(self.event_windows)).event_span

    @classmethod
    def from_prices(
        cls,
        prices: pd.DataFrame,
        market_prices: pd.Series | pd.DataFrame | None = None,
        events: pd.DataFrame | Mapping | None = None,
        *,
        return_kind: str = "simple",
        **options,
    ) -> "EventStudy":
        """Build the study from price levels; returns are computed per column without filling gaps.

        Benchmark returns are computed over the benchmark's own available prices (so Monday's
        equity return spans the weekend), then aligned as ``benchmark_gaps`` says.
        """
        returns = returns_from_prices(prices, return_kind)
        market = None
        if market_prices is not None:
            market = market_prices.dropna(how="all") if isinstance(market_prices, pd.DataFrame) else market_prices.dropna()
            market = returns_from_prices(market, return_kind)
        return cls(returns, market, events, return_kind=return_kind, **options)

    # ------------------------------------------------------------------------------------
    def fit(self) -> EventStudyResults:
        """Fit the model for every security-event and run the full test battery."""
        stacked = self._stack()
        fit, mask = fitting.estimate(self, stacked)
        excluded, keep = fitting.exclusions(self, stacked, fit, mask)
        span = fitting.event_span(self, stacked, fit, keep)
        tests, diagnostics = run_battery(span.battery_input)
        clustering = fitting.clustering(self, stacked, keep, diagnostics)
        found = assess(self, stacked, span, keep, tests, clustering["clustered"], diagnostics["mean_residual_correlation"])
        return EventStudyResults(
            fitting.arrays(self, stacked, span, keep), found.tests, excluded, clustering,
            fitting.settings(self, stacked), diagnostics, verdicts=found.verdicts, evidence=found.evidence,
            placebo=found.placebo, calendar_time=found.calendar_time, diagnostics_table=found.diagnostics_table,
        )

    def _stack(self) -> fitting.Stacked:
        returns = self.returns
        securities = list(returns.columns)
        market = None
        bench_column = np.zeros(len(securities), dtype=np.int64)
        bench_names = ["none"]
        if self.market_input is not None:
            market, bench_column, bench_names = _prepare_market(self.market_input, securities, returns.index, self.benchmark_name)
            returns, market = align_benchmark(returns, market, self.benchmark_gaps, self.return_kind)
        period = infer_period(returns.index)
        events = _prepare_events(self.events_input, securities)
        return fitting.stack(self, returns, market, bench_column, bench_names, events, period)


