"""Which security-events are left out of a study, and why (first reason wins).

Every reason is reported in ``results.excluded`` with a detail such as "50 of 120
(minimum 80)", so a thin sample is visible rather than silently NaN.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NOT_LOCATED = "no period of the returns contains the event time"
NO_PRICES = "no prices in the study period"
TOO_FEW = "too few estimation observations"
CONSTANT_BENCHMARK = "benchmark returns constant over the estimation window"
STALE = "stale prices: too many zero returns in the estimation window"
ZERO_VARIANCE = "zero variance of estimation-window abnormal returns"
MISSING_EVENT = "missing returns in the event window"
# Below this sigma a return series is constant for all practical purposes.
SIGMA_FLOOR = 1e-10


@dataclass
class Checks:
    """Per security-event facts the reasons are decided from (arrays of length K)."""

    located: np.ndarray
    n_obs: np.ndarray
    min_obs: int
    window_length: int
    constant_benchmark: np.ndarray
    zero_share: np.ndarray
    max_zero_share: float
    sigma2: np.ndarray
    missing_event: np.ndarray  # periods of the event span without a return
    span_length: int
    no_prices: np.ndarray | None = None  # the security has not one return in the whole study period


def exclusion_reasons(checks: Checks) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(excluded, reason, detail) arrays; ``reason`` is "" for kept security-events."""
    c = checks
    no_prices = c.no_prices if c.no_prices is not None else np.zeros(len(c.located), dtype=bool)
    rules = [
        (~c.located, NOT_LOCATED),
        (no_prices, NO_PRICES),  # not "too few estimation observations": there are none at all
        (c.n_obs < c.min_obs, TOO_FEW),
        (c.constant_benchmark, CONSTANT_BENCHMARK),
        (c.zero_share >= c.max_zero_share, STALE),
        (~(np.sqrt(c.sigma2) > SIGMA_FLOOR), ZERO_VARIANCE),
        (c.missing_event > 0, MISSING_EVENT),
    ]
    excluded = np.zeros(len(c.located), dtype=bool)
    reason = np.full(len(c.located), "", dtype=object)
    for condition, text in rules:
        hit = condition & ~excluded
        reason[hit] = text
        excluded |= hit
    detail = np.full(len(c.located), "", dtype=object)
    few = reason == TOO_FEW
    detail[few] = [f"{n} of {c.window_length} (minimum {c.min_obs})" for n in c.n_obs[few]]
    stale = reason == STALE
    detail[stale] = [f"{share:.0%} zero" for share in c.zero_share[stale]]
    gaps = reason == MISSING_EVENT
    detail[gaps] = [f"{m} of {c.span_length} periods missing" for m in c.missing_event[gaps]]
    return excluded, reason, detail


def excluded_frame(event_id, security, event_time, reason, detail, n_obs, excluded) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": event_id[excluded],
            "security": security[excluded],
            "event_time": event_time[excluded],
            "reason": reason[excluded].astype(str),
            "detail": detail[excluded].astype(str),
            "n_obs": n_obs[excluded].astype("int64"),
        }
    )
