"""An AI-token index: the cap-weighted or equal-weighted return of a basket.

The index return over a period is the weighted mean of the members' *simple* returns (simple
returns add across assets; log returns do not), converted to a log return afterwards when
asked. Weights use only what was known when the period started, so the index never looks
ahead:

* cap-weighted: each member's market cap at the previous calendar point (the close before
  the return starts); a member with no cap then is left out of that period;
* equal-weighted: every member with a return counts the same.

Membership is point in time when a ``members`` mask is given (True = in the basket at the
start of that period), so coins that joined the category later do not enter the past.
Periods where no member has a return are NaN, and ``n_members`` says how many counted.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import AnalysisError
from .returns import calendar_points, to_returns

__all__ = ["WEIGHTINGS", "index_returns"]

WEIGHTINGS = ("cap", "equal")


def index_returns(
    prices: pd.DataFrame,
    *,
    weighting: str = "equal",
    caps: pd.DataFrame | None = None,
    members: pd.DataFrame | None = None,
    kind: str = "log",
    freq=None,
    calendar=None,
    max_span: int = 1,
    name: str = "ai-index",
) -> tuple[pd.DataFrame, pd.Series]:
    """Returns of a cap- or equal-weighted basket of the columns of ``prices``.

    Parameters
    ----------
    prices : DataFrame
        Wide closes of the members (index = UTC period).
    weighting : {"cap", "equal"}
    caps : DataFrame, optional
        Market caps on the same labels, as known at each period's close (required for
        ``"cap"``). Missing labels count as unknown caps.
    members : DataFrame of bool, optional
        Point-in-time membership on the same labels; default: every column, always.
    kind : {"log", "simple"}
        Kind of the returned index return.
    freq, calendar, max_span
        As for :func:`tracker.analysis.correlation.to_returns` (the index is computed on the same
        calendar as the series it is compared with).
    name : str
        Column name of the index.

    Returns
    -------
    (returns, n_members) : tuple
        A one-column DataFrame of index returns and a Series of member counts per period.
    """
    if weighting not in WEIGHTINGS:
        raise AnalysisError(f"index weighting {weighting!r} is not one of {', '.join(WEIGHTINGS)}")
    if weighting == "cap" and caps is None:
        raise AnalysisError("a cap-weighted index needs market caps")
    simple = to_returns(prices, "simple", freq=freq, calendar=calendar, max_span=max_span)
    valid = simple.notna()
    if members is not None:
        member_mask = members.reindex(index=simple.index, columns=simple.columns).fillna(False).astype(bool)
        valid &= member_mask
    if weighting == "cap":
        # The cap at the previous calendar point (the close the return starts from).
        points, _ = calendar_points(prices.sort_index(), freq=freq, calendar=calendar)
        caps_at_points = caps.reindex(index=points, columns=simple.columns)
        start_caps = caps_at_points.shift(1).iloc[1:]
        weights = start_caps.where(valid & (start_caps > 0))
    else:
        weights = valid.astype(float).where(valid)
    total = weights.sum(axis=1, min_count=1)
    weighted = (simple * weights).sum(axis=1, min_count=1) / total
    counted = weights.notna().sum(axis=1)
    weighted = weighted.where(counted > 0)
    values = np.log1p(weighted) if kind == "log" else weighted
    return values.to_frame(name), counted.rename("n_members")
