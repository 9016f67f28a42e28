"""Granger causality between two return series, with the lag order chosen by AIC or BIC.

Lag selection fits a bivariate VAR(p) with a constant for p = 0 .. max_lag on one common
sample (the rows where both series and all their ``max_lag`` lags exist) and picks the p with
the lowest criterion, exactly as ``statsmodels`` ``VAR.select_order``:

    AIC = log det(Σ_ml) + 2 k / n,   BIC = log det(Σ_ml) + log(n) k / n,   k = 4 p + 2.

The test at lag p is ``statsmodels.tsa.stattools.grangercausalitytests``' ``ssr_ftest``:
regress y_t on a constant and y_{t-1..t-p} (restricted), then add x_{t-1..t-p}
(unrestricted), ``F = ((SSR_r - SSR_u) / p) / (SSR_u / (n - 2p - 1))``.

Why not call statsmodels directly: it assumes a gap-free series, and would silently take a
lag across a missing hour. Here the lagged design is built on the regular grid, so a row is
used only when every lag it needs exists; on gap-free data the numbers equal statsmodels'
(the tests check this), and with gaps nothing is bridged. When the criterion picks p = 0
(no dynamics at all), the test is run at p = 1 and ``selected_lag`` says 0.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import AnalysisError
from .pairwise import pair_arrays

__all__ = ["CRITERIA", "lag_matrix", "select_lag_order", "granger_test", "granger_causality"]

CRITERIA = ("aic", "bic")


def lag_matrix(values: np.ndarray, lags: int) -> np.ndarray:
    """Columns ``values[t - 1], ..., values[t - lags]`` for each row t (NaN before the start)."""
    out = np.full((len(values), lags), np.nan)
    for k in range(1, lags + 1):
        out[k:, k - 1] = values[:-k]
    return out


def _ols_ssr(target: np.ndarray, design: np.ndarray) -> np.ndarray:
    coefficients, *_ = np.linalg.lstsq(design, target, rcond=None)
    residuals = target - design @ coefficients
    return residuals


def select_lag_order(x: np.ndarray, y: np.ndarray, max_lag: int) -> pd.DataFrame:
    """AIC and BIC of bivariate VAR(p), p = 0..max_lag, on one common sample.

    Returns
    -------
    DataFrame
        ``lag``, ``aic``, ``bic``, ``n`` (rows of the common sample).
    """
    if max_lag < 1:
        raise AnalysisError("max_lag must be at least 1")
    both = np.column_stack([y, x])
    lagged = [lag_matrix(both[:, 0], max_lag), lag_matrix(both[:, 1], max_lag)]
    usable = np.isfinite(both).all(axis=1) & np.isfinite(lagged[0]).all(axis=1) & np.isfinite(lagged[1]).all(axis=1)
    n = int(usable.sum())
    if n <= 2 * max_lag + 2:
        raise AnalysisError(f"only {n} usable rows for a VAR with {max_lag} lags; shorten max_lag or load more data")
    target = both[usable]
    rows = []
    for p in range(0, max_lag + 1):
        columns = [np.ones(n)]
        for k in range(p):
            columns += [lagged[0][usable, k], lagged[1][usable, k]]
        design = np.column_stack(columns)
        residuals = _ols_ssr(target, design)
        sigma = residuals.T @ residuals / n
        sign, logdet = np.linalg.slogdet(sigma)
        logdet = logdet if sign > 0 else -np.inf
        free = p * 4 + 2
        rows.append((p, logdet + 2.0 * free / n, logdet + np.log(n) * free / n, n))
    return pd.DataFrame(rows, columns=["lag", "aic", "bic", "n"])


def granger_test(x: np.ndarray, y: np.ndarray, lag: int) -> dict:
    """F test that lags 1..``lag`` of x help predict y beyond y's own lags.

    Returns
    -------
    dict
        ``f_stat``, ``df_num``, ``df_denom``, ``p_value``, ``n`` (rows used).
    """
    if lag < 1:
        raise AnalysisError("the Granger test needs at least 1 lag")
    y_lags, x_lags = lag_matrix(y, lag), lag_matrix(x, lag)
    usable = np.isfinite(y) & np.isfinite(y_lags).all(axis=1) & np.isfinite(x_lags).all(axis=1)
    n = int(usable.sum())
    df_denom = n - 2 * lag - 1
    if df_denom < 1:
        return {"f_stat": np.nan, "df_num": lag, "df_denom": max(df_denom, 0), "p_value": np.nan, "n": n}
    target = y[usable]
    restricted = np.column_stack([np.ones(n), y_lags[usable]])
    unrestricted = np.column_stack([restricted, x_lags[usable]])
    ssr_r = float(np.sum(_ols_ssr(target, restricted) ** 2))
    ssr_u = float(np.sum(_ols_ssr(target, unrestricted) ** 2))
    if ssr_u <= 0:
        return {"f_stat": np.nan, "df_num": lag, "df_denom": df_denom, "p_value": np.nan, "n": n}
    f_stat = ((ssr_r - ssr_u) / lag) / (ssr_u / df_denom)
    return {"f_stat": f_stat, "df_num": lag, "df_denom": df_denom, "p_value": float(stats.f.sf(f_stat, lag, df_denom)), "n": n}


def granger_causality(
    returns: pd.DataFrame,
    pairs: Sequence[tuple],
    max_lag: int = 10,
    *,
    criterion: str = "bic",
    lag: int | None = None,
) -> pd.DataFrame:
    """Granger tests in both directions for each pair, lag order chosen per pair.

    Parameters
    ----------
    returns : DataFrame
        Wide returns on a regular grid (a missing period must be a NaN row, as
        :func:`to_returns` makes it).
    pairs : sequence of (a, b)
        Each pair is tested a -> b and b -> a.
    max_lag : int
        Largest lag considered by the criterion (periods).
    criterion : {"aic", "bic"}
    lag : int, optional
        Test at this lag instead of selecting one.

    Returns
    -------
    DataFrame
        One row per direction: ``cause``, ``effect``, ``criterion``, ``selected_lag``,
        ``lag`` (tested), ``n``, ``f_stat``, ``df_num``, ``df_denom``, ``p_value``.
    """
    if criterion not in CRITERIA:
        raise AnalysisError(f"criterion {criterion!r} is not one of {', '.join(CRITERIA)}")
    rows = []
    for a, b, xa, xb in pair_arrays(returns, pairs):
        if lag is None:
            table = select_lag_order(xa, xb, max_lag)
            selected = int(table.loc[table[criterion].idxmin(), "lag"])
            tested = max(1, selected)
        else:
            selected, tested = None, int(lag)
        for cause, effect, xc, xe in ((a, b, xa, xb), (b, a, xb, xa)):
            result = granger_test(xc, xe, tested)
            rows.append({"cause": cause, "effect": effect, "criterion": criterion if lag is None else "fixed",
                         "selected_lag": selected, "lag": tested} | result)
    frame = pd.DataFrame(rows, columns=["cause", "effect", "criterion", "selected_lag", "lag", "n", "f_stat", "df_num", "df_denom", "p_value"])
    return frame
