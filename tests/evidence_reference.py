"""Plain-Python references for the evidence checks (placebo, calendar time), independent of
the engine's vectorised code: loops over pseudo-event days and securities, statsmodels OLS."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm


def placebo_reference(returns: pd.DataFrame, market: pd.Series, day0: pd.Timestamp, estimation, windows, rng,
                      model: str = "market") -> dict:
    """{window label: (caar_0, p, n_d, securities)} by the issue's formula, one OLS per (d, security)."""
    position = returns.index.get_loc(day0)
    first = rng[0] + min(estimation[0], min(w[0] for w in windows))
    last = max(estimation[1], max(w[1] for w in windows))
    securities = []
    for column in returns.columns:
        span = range(position + first, position + last + 1)
        if all(0 <= t < len(returns) and math.isfinite(returns[column].iloc[t]) and math.isfinite(market.iloc[t]) for t in span):
            securities.append(column)

    values = {c: [float(v) for v in returns[c]] for c in securities}
    bench = [float(v) for v in market]

    def caars(d: int) -> list[float]:
        """The CAAR of every window with the study shifted by d: one OLS per security."""
        sums = [0.0] * len(windows)
        for column in securities:
            est = range(position + d + estimation[0], position + d + estimation[1] + 1)
            y = [values[column][t] for t in est]
            x = [bench[t] for t in est]
            if model == "market":
                fit = sm.OLS(y, sm.add_constant(x)).fit()
                a, b = float(fit.params[0]), float(fit.params[1])
            elif model == "mean":
                a, b = sum(y) / len(y), 0.0
            else:
                a, b = 0.0, 1.0
            for j, window in enumerate(windows):
                for t in range(position + d + window[0], position + d + window[1] + 1):
                    sums[j] += values[column][t] - a - b * bench[t]
        return [total / len(securities) for total in sums]

    days = list(range(rng[0], rng[1] + 1))
    event = caars(0)
    pseudo = [caars(d) for d in days]
    out = {}
    for j, window in enumerate(windows):
        exceed = sum(1 for row in pseudo if abs(row[j]) >= abs(event[j]))
        out[f"[{window[0]}, {window[1]}]"] = (event[j], (1 + exceed) / (1 + len(days)), len(days), securities)
    return out


def calendar_time_reference(returns: pd.DataFrame, market: pd.Series, day0: pd.Timestamp, estimation, window) -> dict:
    """g, CAR, statistic and p of r_p = a + b r_m + g D by statsmodels OLS with Newey-West errors."""
    position = returns.index.get_loc(day0)
    rows = list(range(position + estimation[0], position + estimation[1] + 1)) + list(range(position + window[0], position + window[1] + 1))
    y = returns.iloc[rows].mean(axis=1, skipna=True).to_numpy()
    x = np.column_stack([np.ones(len(rows)), market.iloc[rows].to_numpy(), [1.0 if t >= position + window[0] else 0.0 for t in rows]])
    ok = np.isfinite(y) & np.isfinite(x).all(axis=1)
    nobs = int(ok.sum())
    fit = sm.OLS(y[ok], x[ok]).fit(cov_type="HAC", cov_kwds={"maxlags": int(math.floor(4 * (nobs / 100) ** (2 / 9)))})
    length = window[1] - window[0] + 1
    return {"g": fit.params[2], "car": fit.params[2] * length, "statistic": fit.tvalues[2], "p_value": fit.pvalues[2], "nobs": nobs}
