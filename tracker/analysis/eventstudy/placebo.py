"""Placebo (randomization) inference: the study rerun on every pseudo-event day before the event.

For each relative period d in the placebo range, every security-event's estimation window and
event windows are shifted by d and the model is refitted on the shifted estimation window,
exactly as configured. The sample is the security-events with complete returns (and
benchmark returns) over every period the placebo uses, from d_min + the estimation start
through the last window's end; the real event's CAAR is recomputed on that same sample. Then

    p_placebo = (1 + #{d : |CAAR_d| >= |CAAR_0|}) / (1 + n_d)

Every (security-event, d) fit at once: with complete data each window sum is a difference of
two prefix sums, so the market model's alpha and beta for all K x D pseudo-events are a few
(K, D) array operations, with no loop over d.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...errors import AnalysisError, InputError
from .blocks import gather
from .windows import Window, as_window

DEFAULT_RANGE = Window(-250, -20)
PLACEBO_COLUMNS = ["window", "caar", "n_pseudo", "n_securities", "p_value", "percentile", "pseudo_mean", "pseudo_sd"]


@dataclass
class PlaceboResults:
    """What the placebo found, per window, and the pseudo-CAARs behind it."""

    range: Window
    table: pd.DataFrame       # one row per window, PLACEBO_COLUMNS
    pseudo: pd.DataFrame      # relative_period d, window, caar: one row per pseudo-event and window
    excluded: pd.DataFrame    # event_id, security, missing: security-events left out of the placebo

    def p_values(self) -> dict:
        return dict(zip(self.table["window"], self.table["p_value"]))


def placebo_range(value, windows: list[Window], parameter: str = "placebo_range") -> Window:
    """The range of pseudo-event days; its windows may not reach the real event's first window."""
    rng = DEFAULT_RANGE if value is None or value is True else as_window(value, f"`{parameter}`", [parameter])
    first_start = min(w.start for w in windows)
    last_end = max(w.end for w in windows)
    if rng.end + last_end >= first_start:
        raise InputError(
            f"`{parameter}` {rng.start}:{rng.end} puts pseudo-event windows on the real event's periods; "
            f"end it before {first_start - last_end}", parameters=[parameter])
    return rng


def window_sums(prefix: np.ndarray, first: int, days: np.ndarray, window: Window) -> np.ndarray:
    """(K, D) sums over ``window`` shifted by each d, from (K, S + 1) prefix sums whose column 0
    is relative period ``first``."""
    start = days + window.start - first
    stop = days + window.end - first + 1
    return prefix[:, stop] - prefix[:, start]


def pseudo_caars(model: str, r: np.ndarray, m: np.ndarray | None, first: int, days: np.ndarray,
                 estimation: Window, windows: list[Window]) -> np.ndarray:
    """(D, W) CAARs of the study rerun at every d, from complete (K, S) return blocks that start
    at relative period ``first``."""
    if model == "market":
        # Centring each row changes neither beta nor any CAR, and keeps the sums accurate.
        r = r - r.mean(axis=1, keepdims=True)
        m = m - m.mean(axis=1, keepdims=True)

    def prefix(x):
        return np.concatenate([np.zeros((x.shape[0], 1)), np.cumsum(x, axis=1)], axis=1)

    cr = prefix(r)
    m_len = float(estimation.length)
    s_r = window_sums(cr, first, days, estimation)
    if model == "market":
        cm, crm, cmm = prefix(m), prefix(r * m), prefix(m * m)
        s_m = window_sums(cm, first, days, estimation)
        sxx = window_sums(cmm, first, days, estimation) - s_m**2 / m_len
        sxy = window_sums(crm, first, days, estimation) - s_r * s_m / m_len
        beta = sxy / sxx
        alpha = (s_r - beta * s_m) / m_len
    elif model == "mean":
        alpha, beta, cm = s_r / m_len, 0.0, None
    else:
        alpha, beta, cm = 0.0, 1.0, prefix(m)
    out = np.empty((len(days), len(windows)))
    for j, w in enumerate(windows):
        car = window_sums(cr, first, days, w) - w.length * alpha
        if cm is not None:
            car = car - beta * window_sums(cm, first, days, w)
        out[:, j] = car.mean(axis=0)
    return out


def run_placebo(study, stacked, keep: np.ndarray, rng: Window) -> PlaceboResults:
    """The placebo of a fitted study (``stacked``: the engine's blocks; ``keep``: the security-events used)."""
    windows = list(study.event_windows)
    est = study.estimation_window
    first = rng.start + min(est.start, min(w.start for w in windows))
    last = max(est.end, max(w.end for w in windows))
    relative = np.arange(first, last + 1)
    day0 = stacked.day0[keep]
    column = stacked.events.column[keep]
    r = gather(stacked.values_r, day0, column, relative)
    complete = np.isfinite(r).all(axis=1)
    m = None
    if stacked.values_m is not None:
        m = gather(stacked.values_m, day0, stacked.bench_column[column], relative)
        complete &= np.isfinite(m).all(axis=1)
    ids, securities = stacked.events.event_id[keep], stacked.events.security[keep]
    missing = (~np.isfinite(r)).sum(axis=1) + (0 if m is None else (~np.isfinite(m)).sum(axis=1))
    excluded = pd.DataFrame({"event_id": ids[~complete], "security": securities[~complete], "missing": missing[~complete]})
    if not complete.any():
        raise AnalysisError(
            f"no security-event has complete returns over the placebo's {len(relative)} periods "
            f"({first}:{last}); shorten `placebo_range`", parameters=["placebo_range"])
    days = np.concatenate([[0], np.arange(rng.start, rng.end + 1)])
    caars = pseudo_caars(study.model, r[complete], None if m is None else m[complete], first, days, est, windows)
    event, pseudo = caars[0], caars[1:]
    n_d = pseudo.shape[0]
    exceed = (np.abs(pseudo) >= np.abs(event)[None, :]).sum(axis=0)
    table = pd.DataFrame({
        "window": [w.label for w in windows],
        "caar": event,
        "n_pseudo": n_d,
        "n_securities": int(complete.sum()),
        "p_value": (1 + exceed) / (1 + n_d),
        "percentile": 100.0 * (pseudo <= event[None, :]).mean(axis=0),
        "pseudo_mean": pseudo.mean(axis=0),
        "pseudo_sd": pseudo.std(axis=0, ddof=1) if n_d > 1 else np.nan,
    }, columns=PLACEBO_COLUMNS)
    long = pd.DataFrame({
        "relative_period": np.repeat(days[1:], len(windows)),
        "window": np.tile([w.label for w in windows], n_d),
        "caar": pseudo.ravel(),
    })
    return PlaceboResults(rng, table, long, excluded)
