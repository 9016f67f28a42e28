"""Returns from wide price frames, on a regular grid or on a market's own calendar.

Every analysis in this package works on returns, and every return is computed here, so the
one rule that matters is kept in one place: **a return is the change between two
consecutive points of the calendar, and only when both points have a price.** A missing
price makes the return ending there and the one starting there missing; nothing is carried
forward, so a two-day move is never passed off as a one-day return.

Conventions
-----------
* Index = the UTC period a close belongs to (``daily_closes``: the day; ``hourly_closes``: the
  hour's start, the close being observed at its end). The return labelled ``t`` is the move
  from the close of the previous calendar point to the close of ``t``: for a daily frame,
  from the end of day ``t - 1`` to the end of day ``t``.
* ``kind="log"`` (default): ``log(p_t / p_prev)``; ``kind="simple"``: ``p_t / p_prev - 1``.
  Log returns add up over time and are the default for correlations and regressions; simple
  returns add up across assets and are what an index is built from.
* Calendar: by default every period of the grid (crypto trades around the clock). An equity
  has no weekend closes, so pass its trading days as ``calendar``: the returns then run between
  consecutive trading days for every column (Friday to Monday spans 3 days for the token too),
  and ``max_span`` caps how many grid periods one return may span.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd

from ... import utc
from ...errors import AnalysisError

__all__ = ["KINDS", "FREQUENCIES", "infer_frequency", "calendar_points", "to_returns", "step_label"]

KINDS = ("log", "simple")
# The two grids the tracker keeps; other spacings are accepted when inferred from data.
FREQUENCIES = {"daily": pd.Timedelta(days=1), "hourly": pd.Timedelta(hours=1)}


def infer_frequency(index: pd.Index) -> pd.Timedelta:
    """The grid step of a time index: the most common gap between consecutive labels.

    Raises
    ------
    AnalysisError
        When the index has fewer than two labels or is not a time index.
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise AnalysisError("prices need a time index (one row per UTC period)")
    if len(index) < 2:
        raise AnalysisError("at least two periods of prices are needed to compute a return")
    gaps = pd.Series(index.sort_values()).diff().dropna()
    gaps = gaps[gaps > pd.Timedelta(0)]
    if gaps.empty:
        raise AnalysisError("the time index has no two distinct periods")
    return pd.Timedelta(gaps.mode().iloc[0])


def step_label(step: pd.Timedelta) -> str:
    """A short name for a grid step: '1D', '1h', '15min' (``pd.Timedelta`` reads it back)."""
    step = pd.Timedelta(step)
    for unit, size in (("D", pd.Timedelta(days=1)), ("h", pd.Timedelta(hours=1)), ("min", pd.Timedelta(minutes=1))):
        if step % size == pd.Timedelta(0):
            return f"{step // size}{unit}"
    return str(step)


def _check_prices(prices: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(prices, pd.DataFrame):
        raise AnalysisError("prices must be a DataFrame with one column per series")
    if not isinstance(prices.index, pd.DatetimeIndex):
        raise AnalysisError("prices need a time index (one row per UTC period)")
    prices = utc.naive(prices)
    if prices.index.has_duplicates:
        first = prices.index[prices.index.duplicated()][0]
        raise AnalysisError(f"prices have two rows for {first}; give one close per period")
    values = prices.apply(pd.to_numeric, errors="coerce").astype(float).sort_index()
    bad = (values <= 0).any()
    if bad.any():
        raise AnalysisError(f"series {bad[bad].index[0]!r} has a price <= 0; returns need positive prices")
    return values


def calendar_points(prices: pd.DataFrame, *, freq=None, calendar: Iterable | None = None) -> tuple[pd.DatetimeIndex, pd.Timedelta]:
    """The points returns run between, and the grid step.

    The grid runs from the first label of ``prices`` to the last in steps of ``freq``
    (inferred when not given); every label must sit on it. With a ``calendar``, the points
    are the grid labels that are also calendar days/hours.
    """
    step = pd.Timedelta(freq) if freq is not None else infer_frequency(prices.index)
    if step <= pd.Timedelta(0):
        raise AnalysisError("the grid step must be positive")
    if len(prices.index) == 0:
        return pd.DatetimeIndex([]), step
    start, end = prices.index.min(), prices.index.max()
    grid = pd.date_range(start, end, freq=step)
    off_grid = prices.index.difference(grid)
    if len(off_grid):
        raise AnalysisError(
            f"{len(off_grid)} label(s) are not on the {step} grid that starts at {start}, e.g. {off_grid[0]}"
        )
    if calendar is None:
        return grid, step
    wanted = utc.naive(pd.DatetimeIndex(pd.to_datetime(list(calendar))))
    return grid.intersection(wanted).sort_values(), step


def to_returns(
    prices: pd.DataFrame,
    kind: str = "log",
    *,
    freq: pd.Timedelta | str | None = None,
    calendar: Iterable | None = None,
    max_span: int = 1,
) -> pd.DataFrame:
    """Returns between consecutive calendar points, never across a missing price.

    Parameters
    ----------
    prices : DataFrame
        Wide closes: index = UTC period, one column per series. Gaps may be missing rows or NaN.
    kind : {"log", "simple"}
        Log returns (default) or simple returns.
    freq : Timedelta or str, optional
        The grid step (``"1D"``, ``"1h"``); inferred from the index when not given.
    calendar : iterable of timestamps, optional
        The points returns run between (e.g. an equity's trading days). Default: every grid
        period from the first label to the last.
    max_span : int
        The longest return allowed, in grid periods; longer ones are NaN. Only matters with a
        ``calendar`` (the full grid has spans of 1).

    Returns
    -------
    DataFrame
        One row per calendar point after the first, the same columns; NaN where either end
        has no price or the span is longer than ``max_span``. A plain frame: the settings
        are the arguments given (``freq`` inferred when not given, see :func:`calendar_points`).
    """
    if kind not in KINDS:
        raise AnalysisError(f"return kind {kind!r} is not one of {', '.join(KINDS)}")
    if max_span < 1:
        raise AnalysisError("max_span must be at least 1 period")
    values = _check_prices(prices)
    points, step = calendar_points(values, freq=freq, calendar=calendar)
    frame = values.reindex(points)
    if len(points) < 2:
        out = pd.DataFrame(index=pd.DatetimeIndex([], name=values.index.name), columns=values.columns, dtype=float)
    else:
        current, previous = frame.to_numpy()[1:], frame.to_numpy()[:-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = current / previous
            data = np.log(ratio) if kind == "log" else ratio - 1.0
        spans = np.asarray((points[1:] - points[:-1]) / step)
        data[spans > max_span + 1e-9, :] = np.nan
        out = pd.DataFrame(data, index=points[1:], columns=values.columns)
    out.index.name = values.index.name
    return out
