"""Pairwise correlations over each pair's own overlap, with the count behind every figure.

Series start on different days (listings) and have holes (outages), so each pair is measured
on the periods where *both* have a return ("pairwise complete"), as ``DataFrame.corr`` does.
A pair with fewer than ``min_overlap`` shared periods gets NaN, never a number from three
points; its overlap ``n`` is reported either way.

Pearson is computed for all pairs at once from masked matrix products (sums over the overlap
of x, x², y, y², xy), so 500 series cost a few matrix multiplications rather than 125,000
loops. Spearman ranks each pair within its overlap; pairs that share the same overlap (the
usual case: same listing dates, no holes) are ranked together in one block.
"""
from __future__ import annotations

from collections import defaultdict
from itertools import combinations_with_replacement
from typing import Any, Iterator

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import AnalysisError

__all__ = ["METHODS", "pairwise_correlation", "pair_correlation", "check_pairs", "pair_arrays", "correlation_p_value"]

METHODS = ("pearson", "spearman")


def correlation_p_value(r, n):
    """Two-sided p-value of H0: no correlation, from the t statistic ``r sqrt((n-2)/(1-r²))``.

    Exact for Pearson under bivariate normality (it equals ``scipy.stats.pearsonr``'s p-value)
    and the usual large-sample approximation for Spearman (as ``scipy.stats.spearmanr``).
    NaN where ``n < 3`` or ``r`` is NaN.
    """
    r = np.asarray(r, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = n - 2
        t = r * np.sqrt(dof / np.clip(1.0 - r * r, 0.0, None))
        p = 2.0 * stats.t.sf(np.abs(t), np.where(dof > 0, dof, np.nan))
    p = np.where(np.abs(r) >= 1.0, 0.0, p)
    return np.where((n < 3) | np.isnan(r), np.nan, p)


def _check(returns: pd.DataFrame, method: str, min_overlap: int) -> np.ndarray:
    if method not in METHODS:
        raise AnalysisError(f"correlation method {method!r} is not one of {', '.join(METHODS)}")
    if min_overlap < 3:
        raise AnalysisError("min_overlap must be at least 3 periods")
    if not isinstance(returns, pd.DataFrame):
        raise AnalysisError("returns must be a DataFrame with one column per series")
    if returns.columns.has_duplicates:
        raise AnalysisError(f"series {returns.columns[returns.columns.duplicated()][0]!r} appears twice")
    values = returns.to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.isfinite(values), values, np.nan)


def _pearson_blocks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs Pearson r and overlap counts for a T x N array with NaN holes."""
    mask = np.isfinite(values)
    # Centre each column on its own mean first: correlation ignores shifts, and the sums
    # below then stay small, so the one-pass formulas lose no precision.
    filled = np.where(mask, values, 0.0)
    means = filled.sum(axis=0) / np.maximum(mask.sum(axis=0), 1)
    centred = np.where(mask, filled - means, 0.0)
    weights = mask.astype(float)
    count = values.shape[1]
    # One product for the three sums that pair a column with the other's mask:
    # [i, j] of each block = sum over rows where both i and j exist of x_i, x_i², 1.
    stacked = np.hstack([centred, centred * centred, weights]).T @ weights
    sum_x, sum_xx, n = stacked[:count], stacked[count:2 * count], stacked[2 * count:]
    sum_xy = centred.T @ centred
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = sum_xy - sum_x * sum_x.T / n
        var_i = sum_xx - sum_x * sum_x / n
        var_j = var_i.T
        r = cov / np.sqrt(var_i * var_j)
    # Round-off can leave a zero variance slightly positive; a constant series has no correlation.
    scale = np.maximum(sum_xx, sum_xx.T)
    degenerate = (var_i <= 1e-12 * scale) | (var_j <= 1e-12 * scale)
    r = np.where(degenerate, np.nan, np.clip(r, -1.0, 1.0))
    return r, n


def _spearman_blocks(values: np.ndarray, min_overlap: int) -> tuple[np.ndarray, np.ndarray]:
    """All-pairs Spearman rho, each pair ranked within its own overlap."""
    count = values.shape[1]
    mask = np.isfinite(values)
    r = np.full((count, count), np.nan)
    n = mask.T.astype(float) @ mask.astype(float)
    groups: dict[bytes, list[int]] = defaultdict(list)
    for column in range(count):
        groups[np.packbits(mask[:, column]).tobytes()].append(column)
    members = list(groups.values())
    for a, b in combinations_with_replacement(range(len(members)), 2):
        columns = members[a] if a == b else members[a] + members[b]
        rows = mask[:, members[a][0]] & mask[:, members[b][0]]
        if rows.sum() < min_overlap:
            continue
        ranks = stats.rankdata(values[np.ix_(rows, columns)], axis=0)
        block, _ = _pearson_blocks(ranks)
        if a == b:
            r[np.ix_(columns, columns)] = block
        else:
            # Only the cross block: pairs inside one group keep their own (larger) overlap.
            split = len(members[a])
            r[np.ix_(members[a], members[b])] = block[:split, split:]
            r[np.ix_(members[b], members[a])] = block[split:, :split]
    return r, n


def pairwise_correlation(
    returns: pd.DataFrame, method: str = "pearson", min_overlap: int = 20
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Correlation of every pair of columns over their common periods.

    Parameters
    ----------
    returns : DataFrame
        Wide returns (see :func:`tracker.analysis.correlation.to_returns`); NaN = no return that period.
    method : {"pearson", "spearman"}
    min_overlap : int
        Pairs with fewer shared periods get NaN (the diagonal too, for short series).

    Returns
    -------
    (corr, n) : tuple of DataFrame
        Square frames over the columns: the correlation and the number of shared periods.
        Constant series have NaN correlation.
    """
    values = _check(returns, method, min_overlap)
    if values.shape[1] == 0:
        empty = pd.DataFrame(dtype=float)
        return empty, empty.copy()
    r, n = _pearson_blocks(values) if method == "pearson" else _spearman_blocks(values, min_overlap)
    r = np.where(n >= min_overlap, r, np.nan)
    labels = returns.columns
    return (
        pd.DataFrame(r, index=labels, columns=labels),
        pd.DataFrame(n.round().astype(np.int64), index=labels, columns=labels),
    )


def pair_correlation(x: np.ndarray, y: np.ndarray, method: str = "pearson") -> tuple[int, float]:
    """Correlation of two aligned arrays over the rows where both exist: ``(n, r)``.

    ``r`` is NaN for fewer than 3 shared rows or a constant side; Spearman ranks the shared
    rows only.
    """
    valid = np.isfinite(x) & np.isfinite(y)
    n = int(valid.sum())
    if n < 3:
        return n, np.nan
    a, b = x[valid], y[valid]
    if method == "spearman":
        a, b = stats.rankdata(a), stats.rankdata(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return n, np.nan
    return n, float(np.corrcoef(a, b)[0, 1])


def check_pairs(returns: pd.DataFrame, pairs) -> None:
    """Refuse pairs that name a series ``returns`` does not have, naming them all."""
    missing = sorted({str(s) for pair in pairs for s in pair if s not in returns.columns})
    if missing:
        raise AnalysisError(f"no returns for {', '.join(missing)}")


def pair_arrays(returns: pd.DataFrame, pairs) -> Iterator[tuple[Any, Any, np.ndarray, np.ndarray]]:
    """``(x, y, x's returns, y's returns)`` per pair, as float arrays with NaN where missing.

    The pairs are checked at once (:func:`check_pairs`); the arrays are made one pair at a time,
    so that thousands of pairs do not hold thousands of copies.
    """
    check_pairs(returns, pairs)

    def values(name) -> np.ndarray:
        return returns[name].to_numpy(dtype=float, na_value=np.nan)

    return ((x, y, values(x), values(y)) for x, y in pairs)
