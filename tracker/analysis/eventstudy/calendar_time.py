"""Calendar-time portfolio regression: one time series, so cross-correlation cannot inflate it.

For each event window W, the portfolio return of the study's securities (equal-weighted, or
weighted by the previous period's market caps) is regressed on the benchmark return and a
dummy that is 1 on W's periods,

    r_p,t = a + b * r_m,t + g * D_t

over the estimation window plus W's own periods, by OLS with Newey-West (HAC) errors,
``maxlags = floor(4 (T/100)^(2/9))``, statsmodels' defaults otherwise. g is the mean abnormal
return per period of W, g * L the window's CAR, and g's statistic and p are statsmodels'.
With several event dates the periods are the union over events, and D is 1 on any event's W.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ...errors import InputError

WEIGHTS = ("equal", "cap")
CALENDAR_COLUMNS = ["window", "weights", "g", "car", "statistic", "p_value", "a", "b", "nobs", "maxlags", "event_periods", "note"]
# With one dummy period OLS fits that period exactly (its residual is 0), so the HAC error of g
# carries none of the event period's own variance: the statistic overstates the evidence.
ONE_PERIOD = "one event period: g's error cannot see the event period's variance; read the placebo"


def newey_west_lags(nobs: int) -> int:
    return int(math.floor(4 * (nobs / 100) ** (2 / 9)))


def portfolio_returns(values: np.ndarray, columns: np.ndarray, weights: str, caps: np.ndarray | None) -> np.ndarray:
    """Per period: the mean (or previous-cap-weighted mean) of the securities' returns present."""
    r = values[:, columns]
    if weights == "equal":
        with np.errstate(invalid="ignore"):
            return np.nanmean(np.where(np.isfinite(r), r, np.nan), axis=1) if r.shape[1] else np.full(len(r), np.nan)
    previous = np.vstack([np.full((1, len(columns)), np.nan), caps[:-1, columns]])
    w = np.where(np.isfinite(r) & np.isfinite(previous) & (previous > 0), previous, 0.0)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (w * np.nan_to_num(r)).sum(axis=1) / total, np.nan)


def regress(y: np.ndarray, market: np.ndarray | None, dummy: np.ndarray):
    """The OLS fit with HAC errors, on the rows where everything is present."""
    import statsmodels.api as sm

    parts = [np.ones(len(y))] + ([market] if market is not None else []) + [dummy]
    x = np.column_stack(parts)
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    nobs = int(ok.sum())
    if nobs < x.shape[1] + 2 or dummy[ok].sum() == 0:
        return None, nobs, 0
    lags = newey_west_lags(nobs)
    fit = sm.OLS(y[ok], x[ok]).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
    return fit, nobs, lags


def calendar_time(stacked, keep: np.ndarray, estimation, windows, weights: str = "equal", caps: pd.DataFrame | None = None) -> pd.DataFrame:
    """The regression for every window of a fitted study (``stacked``: the engine's blocks)."""
    if weights not in WEIGHTS:
        raise InputError(f"`portfolio_weights` {weights!r} must be one of {', '.join(WEIGHTS)}", parameters=["portfolio_weights"])
    n_rows = len(stacked.index)
    columns = np.unique(stacked.events.column[keep])
    cap_values = None
    if weights == "cap":
        if caps is None:
            raise InputError("`portfolio_weights` cap needs market caps (`caps`); give them or use equal weights",
                             parameters=["portfolio_weights"])
        cap_values = caps.reindex(index=stacked.index, columns=stacked.names).to_numpy(dtype=float)
    y = portfolio_returns(stacked.values_r, columns, weights, cap_values)
    market = None
    if stacked.values_m is not None:
        bench = np.unique(stacked.bench_column[columns])
        market = stacked.values_m[:, bench].mean(axis=1)
    day0 = np.unique(stacked.day0[keep])
    rows = []
    for w in windows:
        in_sample = np.zeros(n_rows, dtype=bool)
        dummy = np.zeros(n_rows)
        for d in day0:
            in_sample[max(d + estimation.start, 0):max(d + estimation.end + 1, 0)] = True
            lo, hi = max(d + w.start, 0), min(d + w.end + 1, n_rows)
            in_sample[lo:hi] = True
            dummy[lo:hi] = 1.0
        fit, nobs, lags = regress(y[in_sample], None if market is None else market[in_sample], dummy[in_sample])
        k = 2 if market is not None else 1
        rows.append({
            "window": w.label, "weights": weights,
            "g": fit.params[k] if fit else np.nan, "car": fit.params[k] * w.length if fit else np.nan,
            "statistic": fit.tvalues[k] if fit else np.nan, "p_value": fit.pvalues[k] if fit else np.nan,
            "a": fit.params[0] if fit else np.nan, "b": fit.params[1] if fit and market is not None else np.nan,
            "nobs": nobs, "maxlags": lags, "event_periods": int(dummy[in_sample].sum()),
            "note": ONE_PERIOD if dummy[in_sample].sum() == 1 else "",
        })
    return pd.DataFrame(rows, columns=CALENDAR_COLUMNS)
