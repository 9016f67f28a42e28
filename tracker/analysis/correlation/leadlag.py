"""Lead-lag: cross-correlation of two return series at lags, and who moved first.

Sign convention: at lag ``k``, ``corr(x_t, y_{t+k})``. A peak at ``k > 0`` means x's moves are
followed by y's k periods later: **x leads y**. Lags are rows of the returns frame: hours or
days on the regular grid (where a missing period is a NaN row, so a shift by k is always k
periods), or trading days on an equity's calendar.

Each lag is measured over the rows where both shifted series have a return, with its own
``n``; the p-value is the usual t test of zero correlation at that lag, which ignores that
the peak was picked among ``2 * max_lag + 1`` lags (so ``p_peak_bonferroni`` is also given).

Cross-correlation answers "does one series' return this hour predict the other's next
hour?". A rally that starts a day earlier in one token is a different question, answered by
:func:`move_timing`: when each series made half (and all) of its move over a window.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ...errors import AnalysisError
from .pairwise import METHODS, correlation_p_value, pair_arrays, pair_correlation
from .returns import KINDS

__all__ = ["cross_correlation", "lead_lag_summary", "move_timing", "rank_timing"]


def cross_correlation(
    returns: pd.DataFrame,
    pairs: Sequence[tuple],
    max_lag: int = 24,
    *,
    method: str = "pearson",
    min_overlap: int = 20,
) -> pd.DataFrame:
    """Cross-correlation ``corr(x_t, y_{t+k})`` for k in ``-max_lag .. max_lag``.

    Parameters
    ----------
    returns : DataFrame
        Wide returns on a regular grid (or one calendar), see :func:`to_returns`.
    pairs : sequence of (x, y)
        Column pairs.
    max_lag : int
        Largest lag in periods (rows), both directions.
    method : {"pearson", "spearman"}
    min_overlap : int
        Least number of shared returns at a lag; fewer gives NaN (n still reported).

    Returns
    -------
    DataFrame
        Tidy: ``x``, ``y``, ``lag``, ``method``, ``n``, ``corr``, ``p_value``.
    """
    if method not in METHODS:
        raise AnalysisError(f"correlation method {method!r} is not one of {', '.join(METHODS)}")
    if max_lag < 0:
        raise AnalysisError("max_lag must be 0 or more")
    if max_lag >= len(returns):
        raise AnalysisError(f"max_lag {max_lag} needs more than {len(returns)} periods of returns")
    rows = []
    for x, y, xs, ys in pair_arrays(returns, pairs):
        for lag in range(-max_lag, max_lag + 1):
            # Pair x_t with y_{t+lag}.
            if lag >= 0:
                a, b = xs[: len(xs) - lag], ys[lag:]
            else:
                a, b = xs[-lag:], ys[: len(ys) + lag]
            n, r = pair_correlation(a, b, method)
            rows.append((x, y, lag, n, r if n >= min_overlap else np.nan))
    frame = pd.DataFrame(rows, columns=["x", "y", "lag", "n", "corr"])
    frame.insert(3, "method", method)
    frame["p_value"] = correlation_p_value(frame["corr"].to_numpy(), frame["n"].to_numpy())
    return frame


def lead_lag_summary(ccf: pd.DataFrame) -> pd.DataFrame:
    """Per pair: the lag of the largest absolute correlation, and who led.

    Returns
    -------
    DataFrame
        ``x``, ``y``, ``peak_lag``, ``peak_corr``, ``n_peak``, ``corr_lag0``, ``leader``
        (x, y, or "same period"; empty when nothing could be computed), ``lead_periods``
        (how many periods the leader was ahead), ``p_peak`` and ``p_peak_bonferroni`` (times
        the number of lags tried).
    """
    rows = []
    for (x, y), group in ccf.groupby(["x", "y"], sort=False):
        lags_tried = len(group)
        valid = group.dropna(subset=["corr"])
        zero = group.loc[group["lag"] == 0, "corr"]
        if valid.empty:
            rows.append((x, y, np.nan, np.nan, 0, np.nan, "", np.nan, np.nan, np.nan))
            continue
        peak = valid.loc[valid["corr"].abs().idxmax()]
        lag = int(peak["lag"])
        leader = x if lag > 0 else y if lag < 0 else "same period"
        p = float(peak["p_value"])
        rows.append(
            (x, y, lag, float(peak["corr"]), int(peak["n"]), float(zero.iloc[0]) if len(zero) else np.nan,
             leader, abs(lag), p, min(1.0, p * lags_tried))
        )
    return pd.DataFrame(
        rows,
        columns=["x", "y", "peak_lag", "peak_corr", "n_peak", "corr_lag0", "leader", "lead_periods", "p_peak", "p_peak_bonferroni"],
    )


def move_timing(returns: pd.DataFrame, *, fraction: float = 0.5, kind: str = "log") -> pd.DataFrame:
    """When each series made its move over the window of ``returns`` (who moved first).

    The move is the cumulative log return from the window's start to its extreme (the
    highest point for a rise, the lowest for a fall). ``reached_at`` is the first period
    whose cumulative return reached ``fraction`` of that move; the series that reached it
    first moved first. Missing returns count as no move (the cumulative path is flat there),
    and ``n`` says how many returns the path has.

    Parameters
    ----------
    returns : DataFrame
        Wide returns over the window.
    fraction : float
        Share of the move, strictly between 0 and 1.
    kind : {"log", "simple"}
        Kind of ``returns``; simple ones are converted to log.

    Returns
    -------
    DataFrame
        ``series``, ``n``, ``move`` (log return to the extreme), ``extreme_at``, ``reached_at``,
        ``hours_after_first`` (how long after the earliest series), ``order`` (1 = first).
    """
    if not 0 < fraction < 1:
        raise AnalysisError("fraction must be between 0 and 1")
    if kind not in KINDS:
        raise AnalysisError(f"return kind {kind!r} is not one of {', '.join(KINDS)}")
    log = np.log1p(returns) if kind == "simple" else returns
    rows = []
    for name in log.columns:
        column = log[name]
        n = int(column.notna().sum())
        if n == 0:
            rows.append((name, 0, np.nan, pd.NaT, pd.NaT))
            continue
        path = column.fillna(0.0).cumsum()
        top, bottom = path.max(), path.min()
        move, extreme_at = (top, path.idxmax()) if abs(top) >= abs(bottom) else (bottom, path.idxmin())
        reached = path[(path >= fraction * move) if move > 0 else (path <= fraction * move)]
        rows.append((name, n, float(move), extreme_at, reached.index[0] if len(reached) and move != 0 else pd.NaT))
    return rank_timing(pd.DataFrame(rows, columns=["series", "n", "move", "extreme_at", "reached_at"]))


def rank_timing(frame: pd.DataFrame) -> pd.DataFrame:
    """Order move timings: ``hours_after_first`` the earliest ``reached_at``, and ``order`` (1 = first)."""
    frame = frame.copy()
    frame["hours_after_first"] = (frame["reached_at"] - frame["reached_at"].min()) / pd.Timedelta(hours=1)
    frame["order"] = frame["reached_at"].rank(method="min").astype("Int64")
    return frame.sort_values(["order", "series"], na_position="last").reset_index(drop=True)
