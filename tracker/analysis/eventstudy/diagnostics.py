"""The diagnostics table of a study: is the evidence what it seems?

* event-induced variance: the cross-sectional variance of SCARs per window, with a chi-square
  test that it exceeds 1 (:func:`.evidence.variance_ratio`);
* pre-event drift or leakage: the CAAR over [-10, -2] with its lead tests' p (a second fit
  with that window; not computed when it overlaps the estimation window);
* estimation residuals: the mean Ljung-Box p (10 lags) and the share of security-events whose
  residuals Jarque-Bera rejects at alpha, both vectorised over security-events;
* other calendar events whose day 0 falls inside a studied event's event span;
* the benchmark's own move on day 0, and that of any other reference market given
  (``references``: ether beside a bitcoin benchmark, say), against its estimation-window
  distribution: a move of two standard deviations or more is a tail move, and then the
  market, not the event, may drive the result.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .windows import Window

DRIFT = Window(-10, -2)
LJUNG_BOX_LAGS = 10
TAIL_Z = 2.0
DIAGNOSTIC_COLUMNS = ["diagnostic", "window", "value", "statistic", "p_value", "flag", "detail"]


def _compact(residuals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's present values moved to the front (order kept), centred, zeros after; and n."""
    present = np.isfinite(residuals)
    order = np.argsort(~present, axis=1, kind="stable")
    values = np.take_along_axis(np.where(present, residuals, 0.0), order, axis=1)
    n = present.sum(axis=1)
    mask = np.arange(values.shape[1])[None, :] < n[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = values.sum(axis=1) / n
    return np.where(mask, values - mean[:, None], 0.0), n


def ljung_box_p(residuals: np.ndarray, lags: int = LJUNG_BOX_LAGS, compact=None) -> np.ndarray:
    """Ljung-Box p per row (statsmodels' ``acorr_ljungbox(x, lags=[lags])``), NaN-aware."""
    x, n = compact if compact is not None else _compact(residuals)
    denominator = np.einsum("ij,ij->i", x, x)
    q = np.zeros(len(x))
    with np.errstate(invalid="ignore", divide="ignore"):
        for k in range(1, lags + 1):
            rho = np.einsum("ij,ij->i", x[:, k:], x[:, :-k]) / denominator
            q += rho**2 / (n - k)
        q *= n * (n + 2)
    return np.where(n > lags + 1, stats.chi2.sf(q, lags), np.nan)


def jarque_bera_p(residuals: np.ndarray, compact=None) -> np.ndarray:
    """Jarque-Bera p per row (scipy's ``jarque_bera``: biased moments), NaN-aware."""
    x, n = compact if compact is not None else _compact(residuals)
    x2 = x * x
    with np.errstate(invalid="ignore", divide="ignore"):
        m2 = x2.sum(axis=1) / n
        skew = np.einsum("ij,ij->i", x2, x) / n / m2**1.5
        kurt = np.einsum("ij,ij->i", x2, x2) / n / m2**2
        jb = n / 6 * (skew**2 + (kurt - 3) ** 2 / 4)
    return np.where(n > 3, stats.chi2.sf(jb, 2), np.nan)


def _row(diagnostic, window="", value=np.nan, statistic=np.nan, p_value=np.nan, flag=False, detail=""):
    return {"diagnostic": diagnostic, "window": window, "value": value, "statistic": statistic,
            "p_value": p_value, "flag": bool(flag), "detail": detail}


def variance_rows(labels, ratio, p, alpha) -> list[dict]:
    return [_row("event-induced variance ratio", w, r, np.nan, q, q < alpha,
                 "variance rose: tests assuming none are flagged" if q < alpha else "no significant rise")
            for w, r, q in zip(labels, ratio, p)]


def drift_row(drift, alpha: float = 0.05) -> dict:
    """``drift``: why it was not computed, or (caar, {test: p}); flagged when every p is below alpha."""
    if isinstance(drift, str):
        return _row("pre-event drift", DRIFT.label, detail=drift)
    caar, p = drift
    largest = max(p.values()) if p and all(np.isfinite(v) for v in p.values()) else np.nan
    text = ", ".join(f"{name} p = {value:.3g}" for name, value in p.items())
    return _row("pre-event drift", DRIFT.label, caar, np.nan, largest, largest < alpha if np.isfinite(largest) else False,
                f"CAAR over {DRIFT.label}; lead tests {text}")


def residual_rows(residuals: np.ndarray, alpha: float) -> list[dict]:
    compact = _compact(residuals)
    lb = ljung_box_p(residuals, compact=compact)
    jb = jarque_bera_p(residuals, compact=compact)
    share = float(np.mean(jb[np.isfinite(jb)] < alpha)) if np.isfinite(jb).any() else np.nan
    return [
        _row("estimation residuals: mean Ljung-Box p", value=float(np.nanmean(lb)) if np.isfinite(lb).any() else np.nan,
             detail=f"{LJUNG_BOX_LAGS} lags; low values mean autocorrelated residuals"),
        _row("estimation residuals: Jarque-Bera rejection share", value=share,
             detail=f"share of security-events with non-normal residuals at alpha {alpha:g}"),
    ]


def overlap_row(studied: pd.DataFrame, other: pd.DataFrame | None, span: Window, period: pd.Timedelta) -> dict:
    """Other calendar events (event_id, timestamp) within any studied event's event span."""
    if other is None or not len(other):
        return _row("other calendar events in the event span", value=np.nan, detail="no calendar given")
    mine = set(studied["event_id"])
    hits = []
    for _, event in studied.drop_duplicates("event_id").iterrows():
        lo = event["timestamp"] + span.start * period - period
        hi = event["timestamp"] + (span.end + 1) * period
        near = other[(~other["event_id"].isin(mine)) & (other["timestamp"] > lo) & (other["timestamp"] < hi)]
        hits += [f"{e} ({t:%Y-%m-%d %H:%M})" for e, t in zip(near["event_id"], near["timestamp"])]
    hits = list(dict.fromkeys(hits))
    return _row("other calendar events in the event span", value=float(len(hits)), flag=bool(hits),
                detail="; ".join(hits) if hits else "none")


def benchmark_rows(event_ids: np.ndarray, market_day0: np.ndarray, market_estimation: np.ndarray,
                   what: str = "the benchmark") -> list[dict]:
    """Per event: the day-0 return of the benchmark (or of a reference market, ``what``) and its z
    against the estimation window; ``p_value`` is the share of estimation periods as extreme."""
    rows = []
    name = "benchmark move on day 0" if what == "the benchmark" else f"market move on day 0: {what}"
    for event in dict.fromkeys(event_ids.tolist()):
        k = int(np.flatnonzero(event_ids == event)[0])
        history = market_estimation[k][np.isfinite(market_estimation[k])]
        r0 = float(market_day0[k])
        if len(history) < 3 or not np.isfinite(r0):
            rows.append(_row(name, event, r0, detail=f"no history of {what}"))
            continue
        z = (r0 - history.mean()) / history.std(ddof=1)
        tail = abs(z) >= TAIL_Z
        share = float(np.mean(np.abs(history - history.mean()) >= abs(r0 - history.mean())))
        detail = (f"{event}: {what} moved {r0:+.1%} on day 0, a tail move ({z:+.1f} sd): the market, not the event, "
                  "may drive the result" if tail else f"{event}: {what} moved {r0:+.1%} on day 0 ({z:+.1f} sd)")
        rows.append(_row(name, event, r0, z, share, tail, detail))
    return rows


def table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=DIAGNOSTIC_COLUMNS)
