"""How fast a token moved after an announcement: minute-by-minute cumulative abnormal returns.

Conventions (docs/eventstudy.md, "Minute-resolution reaction"):

* Prices are minute closes indexed by the instant the minute closes (a 1m candle opened at
  18:00 closes at 18:01). Minute ``m`` is the close at ``t0 + m`` minutes, where ``t0`` is the
  announcement floored to the minute; minute 0 (the close at or just before the announcement)
  is the base, so every curve is 0 there. A minute without a candle carries the last close
  (nothing traded); a series without a close within ``base_tolerance`` minutes before ``t0``,
  or with fewer than ``min_coverage`` of the window's minutes, is left out with the reason.
* Abnormal = market-adjusted: token log return minus benchmark log return, minute by minute,
  cumulated from minute 0 (CAR(m) = ln(P(m)/P(0)) - ln(B(m)/B(0))). A market model is not
  estimated at this frequency: minute betas are biased toward zero by non-synchronous trading
  (the Epps effect), minute returns are dominated by bid-ask bounce and intraday seasonality,
  and over a day the event move dwarfs any alpha, so alpha = 0 and beta = 1 are the honest
  choice.
* The day's move is CAR(+1440), the cumulative abnormal return 24 hours after the
  announcement (``post`` minutes in general). The half-life is the first minute m >= 1 at
  which CAR(m) has reached half of the day's move in the same direction
  (sign(D) * CAR(m) >= |D| / 2); none when the day's move is 0 or missing.
* The AI index is the equal-weighted index of the tokens (the study's ``index`` benchmark rule
  with equal weights: each minute, the mean simple return of the tokens that have one).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from .eventstudy.data import build_index
from .output import to_table
from .results import AnalysisResults, Settings

MINUTE = pd.Timedelta(minutes=1)
INDEX_NAME = "AI index (equal-weighted)"
SPEED_COLUMNS = ["series", "day_move", "half_move_minutes", "half_move_at", "peak_car", "peak_minute",
                 "minutes_with_candles", "note"]


@dataclass(frozen=True)
class ReactionSettings(Settings):
    """What a reaction was measured with."""

    event_id: str
    announcement: Any
    time_known: bool
    time_note: str
    benchmark: str
    model: str
    returns: str
    pre_minutes: int
    post_minutes: int
    min_coverage: float
    tokens: list


@dataclass
class ReactionResults(AnalysisResults):
    """``curves``: CAR per series (columns) and minute (index, -pre..post); ``speed``: per series
    the day's move, the half-life in minutes and the instant it was reached, the peak, and notes."""

    settings: ReactionSettings
    curves: pd.DataFrame
    speed: pd.DataFrame

    def to_frames(self) -> dict[str, pd.DataFrame]:
        long = self.curves.rename_axis("minute").reset_index().melt(id_vars="minute", var_name="series", value_name="car")
        return {"speed": self.speed, "curves": long}

    def summary(self) -> str:
        s = self.settings
        head = (f"Minute reaction to {s.event_id} at {pd.Timestamp(s.announcement):%Y-%m-%d %H:%M} UTC ({s.time_note}); "
                f"{s.model} against {s.benchmark}, log returns, minutes -{s.pre_minutes}..+{s.post_minutes}")
        return head + "\n" + to_table(self.speed)


def time_note(time_known: bool) -> str:
    """How precise an announcement time is (config/events.toml: a bare date means the day only)."""
    if time_known:
        return "time known to about the minute or hour (config/events.toml)"
    return "approximate: only the day is known, the time is taken as 00:00 UTC, so minutes are measured from midnight"


def _window_prices(prices: pd.DataFrame, t0: pd.Timestamp, pre: int, post: int, tolerance: int) -> tuple[pd.DataFrame, pd.Series]:
    """Closes on every minute of [t0 - pre, t0 + post], the last close carried; and each column's
    count of minutes with a candle of its own."""
    grid = pd.date_range(t0 - pre * MINUTE, t0 + post * MINUTE, freq=MINUTE)
    frame = prices.sort_index()
    frame = frame[~frame.index.duplicated(keep="last")]
    before = frame.loc[(frame.index >= t0 - (pre + tolerance) * MINUTE) & (frame.index <= grid[-1])]
    own = before.reindex(grid).notna().sum()
    # Carry the last close onto the grid from up to `tolerance` minutes before its start.
    filled = before.reindex(before.index.union(grid)).ffill().reindex(grid)
    filled.index = pd.RangeIndex(-pre, post + 1, name="minute")
    return filled, own


def half_life(car: pd.Series) -> tuple[float, float | None]:
    """(the day's move = the last value, the first minute >= 1 at which ``car`` reached half of it
    in the same direction, or None)."""
    car = car.dropna()
    if car.empty:
        return np.nan, None
    move = float(car.iloc[-1])
    if move == 0 or not np.isfinite(move):
        return move, None
    after = car[car.index >= 1]
    reached = after[np.sign(move) * after >= abs(move) / 2]
    return move, (int(reached.index[0]) if len(reached) else None)


def minute_reaction(
    prices: pd.DataFrame,
    benchmark: pd.Series,
    announcement,
    tokens: Sequence[str] | None = None,
    *,
    event_id: str = "event",
    time_known: bool = True,
    benchmark_name: str | None = None,
    pre: int = 60,
    post: int = 1440,
    base_tolerance: int = 15,
    min_coverage: float = 0.5,
    index: bool = True,
) -> ReactionResults:
    """Cumulative abnormal return by minute around ``announcement`` and how fast it came.

    Parameters
    ----------
    prices
        Minute closes, one column per token, indexed by the naive-UTC instant each minute closes.
    benchmark
        The benchmark's minute closes on the same convention (e.g. bitcoin's).
    tokens
        The columns to measure (default: all); with ``index``, also their equal-weighted index.
    pre, post
        Minutes shown before and after the announcement; the day's move is CAR at ``post``.
    """
    if pre < 0 or post < 1:
        raise InputError("`pre` must be >= 0 and `post` >= 1 minutes", parameters=["pre", "post"])
    if not 0 < min_coverage <= 1:
        raise InputError("`min_coverage` must be in (0, 1]", parameters=["min_coverage"])
    tokens = list(prices.columns if tokens is None else tokens)
    stamp = pd.Timestamp(announcement)
    t0 = (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).floor(MINUTE)
    columns = prices.reindex(columns=tokens).astype(float)
    table, own = _window_prices(columns.assign(__benchmark__=benchmark.astype(float)), t0, pre, post, base_tolerance)
    minutes = pre + post + 1
    bench = table.pop("__benchmark__")
    bench_ok = bool(np.isfinite(bench.loc[0])) and own["__benchmark__"] >= min_coverage * minutes
    log_bench = np.log(bench / bench.loc[0])
    curves, rows, usable = {}, [], []
    for token in tokens:
        note = _unusable(table[token], own[token], minutes, min_coverage, base_tolerance) if bench_ok else "benchmark has no usable minute closes"
        if note:
            rows.append(_speed_row(token, None, own[token], note, t0))
            continue
        usable.append(token)
        curves[token] = np.log(table[token] / table[token].loc[0]) - log_bench
        rows.append(_speed_row(token, curves[token], own[token], "", t0))
    if index and len(usable) > 1:
        index_prices = table[usable].copy()
        index_prices.index = t0 + index_prices.index * MINUTE
        log_index = build_index(index_prices, None, "log", "equal").fillna(0.0).to_numpy()
        level = pd.Series(np.cumsum(log_index), index=table.index)
        curves[INDEX_NAME] = (level - level.loc[0]) - log_bench
        rows.append(_speed_row(INDEX_NAME, curves[INDEX_NAME], int(own[usable].min()), f"{len(usable)} tokens", t0))
    settings = ReactionSettings(
        event_id=event_id, announcement=t0, time_known=bool(time_known), time_note=time_note(time_known),
        benchmark=benchmark_name or str(benchmark.name or "benchmark"), model="market-adjusted",
        returns="log", pre_minutes=int(pre), post_minutes=int(post), min_coverage=float(min_coverage), tokens=tokens,
    )
    frame = pd.DataFrame(curves, index=table.index)
    return ReactionResults(settings, frame, pd.DataFrame(rows, columns=SPEED_COLUMNS))


def _unusable(series: pd.Series, own: int, minutes: int, min_coverage: float, tolerance: int) -> str:
    if not np.isfinite(series.loc[0]):
        return f"no minute close within {tolerance} minutes before the announcement"
    if own < min_coverage * minutes:
        return f"minute candles on {own} of {minutes} minutes (fewer than {min_coverage:.0%})"
    return ""


def _speed_row(name: str, car: pd.Series | None, own: int, note: str, t0: pd.Timestamp) -> dict:
    if car is None:
        return {"series": name, "day_move": np.nan, "half_move_minutes": None, "half_move_at": None, "peak_car": np.nan,
                "peak_minute": None, "minutes_with_candles": int(own), "note": note}
    move, half = half_life(car)
    after = car[car.index >= 0]
    peak = int(after.abs().idxmax()) if after.notna().any() else None
    return {"series": name, "day_move": move, "half_move_minutes": half,
            "half_move_at": None if half is None else t0 + half * MINUTE,
            "peak_car": float(after.loc[peak]) if peak is not None else np.nan, "peak_minute": peak,
            "minutes_with_candles": int(own), "note": note}


def reaction_chart(results: ReactionResults, title: str | None = None):
    """CAR by minute over [-pre, +post] for each token (thin) and the AI index (thick), with a
    dot where each series reached half of its day's move."""
    from .plotting import new_figure

    fig, ax = new_figure()
    curves, speed = results.curves, results.speed.set_index("series")
    hours = curves.index.to_numpy() / 60
    for name in curves.columns:
        index = name == INDEX_NAME
        ax.plot(hours, curves[name].to_numpy() * 100, linewidth=2.2 if index else 0.9, alpha=1 if index else 0.75,
                color="black" if index else None, label=name, zorder=3 if index else 2)
        half = speed.loc[name, "half_move_minutes"] if name in speed.index else None
        if half is not None and pd.notna(half):
            ax.plot([half / 60], [curves[name].loc[int(half)] * 100], "o", markersize=4 if not index else 6,
                    color="black" if index else ax.lines[-1].get_color(), zorder=4)
    ax.axvline(0, color="#d62728", linewidth=0.9, linestyle="--")
    ax.axhline(0, color="black", linewidth=0.6)
    s = results.settings
    ax.set_xlabel("hours from the announcement" + ("" if s.time_known else " (time approximate: day only)"))
    ax.set_ylabel(f"cumulative abnormal return vs {s.benchmark} (%)")
    ax.set_xlim(-s.pre_minutes / 60, s.post_minutes / 60)
    ax.set_title(title or f"Minute reaction to {s.event_id}")
    if len(curves.columns) <= 12:
        ax.legend(fontsize=8, loc="best")
    return fig
