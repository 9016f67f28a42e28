"""Rolling correlations (Pearson, Spearman) and rolling betas against benchmark series.

A window is ``window`` consecutive rows of the returns frame (periods of the grid, or trading
days on an equity's calendar). Within a window each series is paired with the benchmark on
the rows where both have a return; a window with fewer than ``min_periods`` such rows gives
NaN, and ``n`` always says how many rows were used.

Pearson correlation and beta come from running sums (cumulative sums of x, y, x², y², xy over
the pairwise-valid rows), so all series and all windows cost a few array operations.
Spearman ranks each window separately (ranks change as the window moves), in blocks.

Beta is ``cov(x, b) / var(b)`` over the same rows: the OLS slope of the series' return on the
benchmark's, with an intercept.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import AnalysisError

__all__ = ["rolling_correlation", "rolling_beta", "default_min_periods"]


def default_min_periods(window: int) -> int:
    """80% of the window (at least 3): one missing hour should not blank a month of output."""
    return max(3, math.ceil(0.8 * window))


def _prepare(returns: pd.DataFrame, benchmarks: pd.DataFrame | pd.Series, window: int, min_periods: int | None):
    if window < 3:
        raise AnalysisError("a rolling window needs at least 3 periods")
    if isinstance(benchmarks, pd.Series):
        benchmarks = benchmarks.to_frame(benchmarks.name if benchmarks.name is not None else "benchmark")
    if not isinstance(returns, pd.DataFrame) or not isinstance(benchmarks, pd.DataFrame):
        raise AnalysisError("returns and benchmarks must be DataFrames indexed by period")
    if not returns.index.equals(benchmarks.index):
        benchmarks = benchmarks.reindex(returns.index)
    min_periods = default_min_periods(window) if min_periods is None else int(min_periods)
    if not 3 <= min_periods <= window:
        raise AnalysisError(f"min_periods must be between 3 and the window ({window})")
    return benchmarks, min_periods


def _window_sums(values: np.ndarray, window: int) -> np.ndarray:
    """Sum over the trailing ``window`` rows (fewer at the start), per column."""
    total = np.cumsum(values, axis=0)
    total[window:] -= total[:-window].copy()
    return total


def _moments(x: np.ndarray, b: np.ndarray, window: int):
    """Pairwise count, covariance and variances of each column of x with b, per window."""
    mask = np.isfinite(x) & np.isfinite(b)[:, None]
    weights = mask.astype(float)
    # Centre on full-sample means so that the running sums stay small (no cancellation).
    x_mean = np.where(mask, x, 0.0).sum(axis=0) / np.maximum(mask.sum(axis=0), 1)
    b_valid = np.isfinite(b)
    b_mean = b[b_valid].mean() if b_valid.any() else 0.0
    xc = np.where(mask, x - x_mean, 0.0)
    bc = np.where(mask, (b - b_mean)[:, None], 0.0)
    n = _window_sums(weights, window)
    sx, sb = _window_sums(xc, window), _window_sums(bc, window)
    sxx, sbb, sxb = _window_sums(xc * xc, window), _window_sums(bc * bc, window), _window_sums(xc * bc, window)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = (sxb - sx * sb / n) / (n - 1)
        var_x = (sxx - sx * sx / n) / (n - 1)
        var_b = (sbb - sb * sb / n) / (n - 1)
        # Running sums leave tiny positive residue where a window is constant: treat as zero.
        var_x = np.where(var_x * (n - 1) <= np.abs(sxx) * 1e-12, 0.0, var_x)
        var_b = np.where(var_b * (n - 1) <= np.abs(sbb) * 1e-12, 0.0, var_b)
    return np.rint(n).astype(np.int64), cov, var_x, var_b


def _rolling_spearman(x: np.ndarray, b: np.ndarray, window: int, block: int = 2048,
                      progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Spearman rho of each column of x with b over trailing windows (NaN-aware, per window)."""
    rows, columns = x.shape
    rho = np.full((rows, columns), np.nan)
    count = np.zeros((rows, columns), dtype=np.int64)
    pad = np.full(window - 1, np.nan)
    b_padded = np.concatenate([pad, b])
    for column in range(columns):
        x_padded = np.concatenate([pad, x[:, column]])
        for start in range(0, rows, block):
            stop = min(rows, start + block)
            xs = np.lib.stride_tricks.sliding_window_view(x_padded[start:stop + window - 1], window)
            bs = np.lib.stride_tricks.sliding_window_view(b_padded[start:stop + window - 1], window)
            valid = np.isfinite(xs) & np.isfinite(bs)
            xr = stats.rankdata(np.where(valid, xs, np.nan), axis=1, nan_policy="omit")
            br = stats.rankdata(np.where(valid, bs, np.nan), axis=1, nan_policy="omit")
            n = valid.sum(axis=1)
            middle = ((n + 1) / 2.0)[:, None]  # the mean of ranks 1..n, ties averaged or not
            with np.errstate(divide="ignore", invalid="ignore"):
                xr = np.where(valid, xr - middle, 0.0)
                br = np.where(valid, br - middle, 0.0)
                r = (xr * br).sum(axis=1) / np.sqrt((xr * xr).sum(axis=1) * (br * br).sum(axis=1))
            rho[start:stop, column] = r
            count[start:stop, column] = n
        if progress:
            progress(1)
    return np.clip(rho, -1.0, 1.0), count


def _tidy(index: pd.Index, columns, benchmark: str, values: dict[str, np.ndarray], n: np.ndarray) -> pd.DataFrame:
    rows, width = n.shape
    # Categorical labels: half a million repeated names cost little that way.
    names = pd.Categorical.from_codes(np.repeat(np.arange(width), rows), categories=pd.Index(list(columns), dtype=object))
    frame = pd.DataFrame(
        {
            "ts": np.tile(index.to_numpy(), width),
            "series": names,
            "benchmark": pd.Categorical.from_codes(np.zeros(rows * width, dtype=np.int8), categories=pd.Index([benchmark], dtype=object)),
            "n": n.T.ravel(),
        }
    )
    for name, array in values.items():
        frame[name] = array.T.ravel()
    return frame


def _run(returns, benchmarks, window, min_periods, what: str, method: str = "pearson", progress=None) -> pd.DataFrame:
    benchmarks, min_periods = _prepare(returns, benchmarks, window, min_periods)
    x = returns.to_numpy(dtype=float, na_value=np.nan)
    pieces = []
    for name in benchmarks.columns:
        b = benchmarks[name].to_numpy(dtype=float, na_value=np.nan)
        columns = [c for c in returns.columns if c != name]
        xs = x[:, [returns.columns.get_loc(c) for c in columns]]
        if what == "corr" and method == "spearman":
            value, n = _rolling_spearman(xs, b, window, progress=progress)
        else:
            n, cov, var_x, var_b = _moments(xs, b, window)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = cov / np.sqrt(var_x * var_b) if what == "corr" else cov / var_b
            if what == "corr":
                value = np.clip(value, -1.0, 1.0)
        value = np.where((n >= min_periods) & np.isfinite(value), value, np.nan)
        pieces.append(_tidy(returns.index, columns, str(name), {what if what == "beta" else "corr": value}, n))
    frame = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=["ts", "series", "benchmark", "n", what])
    if what == "corr":
        frame.insert(3, "method", method)
    frame.insert(3, "window", int(window))
    return frame


def rolling_correlation(
    returns: pd.DataFrame,
    benchmarks: pd.DataFrame | pd.Series,
    window: int = 30,
    method: str = "pearson",
    min_periods: int | None = None,
    *,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Trailing-window correlation of every series with every benchmark.

    Parameters
    ----------
    returns : DataFrame
        Wide returns of the series (see :func:`tracker.analysis.correlation.to_returns`).
    benchmarks : DataFrame or Series
        Benchmark returns on the same index (e.g. BTC and ETH columns). A benchmark that is
        also a column of ``returns`` is not correlated with itself.
    window : int
        Rows per window (periods of the grid).
    method : {"pearson", "spearman"}
    min_periods : int, optional
        Least number of pairwise-valid rows for a figure; default 80% of the window.
    progress : callable, optional
        Called with 1 after each series is ranked (Spearman only: the slow part).

    Returns
    -------
    DataFrame
        Tidy: ``ts`` (the window's last period), ``series``, ``benchmark``, ``window``,
        ``method``, ``n`` (rows used), ``corr``.
    """
    if method not in ("pearson", "spearman"):
        raise AnalysisError(f"correlation method {method!r} is not one of pearson, spearman")
    return _run(returns, benchmarks, window, min_periods, "corr", method, progress)


def rolling_beta(
    returns: pd.DataFrame,
    benchmarks: pd.DataFrame | pd.Series,
    window: int = 30,
    min_periods: int | None = None,
) -> pd.DataFrame:
    """Trailing-window OLS beta of every series on every benchmark (``cov / var(benchmark)``).

    Same parameters as :func:`rolling_correlation`. Returns a tidy frame with ``ts``,
    ``series``, ``benchmark``, ``window``, ``n``, ``beta``.
    """
    return _run(returns, benchmarks, window, min_periods, "beta")
