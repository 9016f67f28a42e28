"""Aligning a benchmark that does not trade every period (an equity index) with crypto returns.

Crypto trades every day; an equity benchmark has no return on weekends and holidays, and its
Monday return spans Friday's close to Monday's. The choice is explicit (``benchmark_gaps``):

``"drop"`` (default)
    Keep only periods in which the benchmark has a return, and compound each security's
    returns over the dropped periods into the next kept one, so both sides of the market model
    cover the same interval. Relative periods then count benchmark trading periods.
``"ffill"``
    Keep every period; the benchmark's price is carried forward over its gaps, so its return
    there is 0. Relative periods stay calendar periods, but the market model sees zero market
    returns on weekends, which pulls beta toward zero.
``"none"``
    No alignment: a period without a benchmark return is a missing observation.

Leading and trailing periods before the benchmark's first or after its last return are
dropped by ``"drop"`` and left missing by ``"ffill"``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import InputError

GAP_POLICIES = ("drop", "ffill", "none")
RETURN_KINDS = ("simple", "log")


def returns_from_prices(prices: pd.DataFrame | pd.Series, kind: str = "simple") -> pd.DataFrame | pd.Series:
    """Period returns from prices, per column, without filling gaps.

    A missing price leaves the returns of its own period and of the next one missing.
    """
    if kind not in RETURN_KINDS:
        raise InputError(f"return kind {kind!r} must be one of {', '.join(RETURN_KINDS)}")
    prices = prices.astype(float)
    previous = prices.shift(1)
    if kind == "log":
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(prices / previous)
    return prices / previous - 1.0


def _compound(returns: pd.DataFrame, groups: np.ndarray, kind: str) -> pd.DataFrame:
    if kind == "log":
        # A missing return anywhere in a group makes the group's return missing.
        return returns.groupby(groups).sum(min_count=1).where(returns.notna().groupby(groups).all())
    growth = (1.0 + returns).groupby(groups).prod(min_count=1) - 1.0
    return growth.where(returns.notna().groupby(groups).all())


def align_benchmark(
    returns: pd.DataFrame, market: pd.DataFrame, how: str = "drop", kind: str = "simple"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Align security returns and benchmark returns on the periods the benchmark trades.

    Parameters
    ----------
    returns : DataFrame
        Security returns, one column per security, on the full calendar.
    market : DataFrame
        Benchmark returns on the same index; NaN where the benchmark has no return. A period
        counts as a benchmark period when at least one benchmark column has a return.
    how : {"drop", "ffill", "none"}
        See the module notes.
    kind : {"simple", "log"}
        How security returns compound over dropped periods.

    Returns
    -------
    (returns, market)
        The aligned pair on a common index.
    """
    if how not in GAP_POLICIES:
        raise InputError(f"benchmark gap policy {how!r} must be one of {', '.join(GAP_POLICIES)}")
    trading = market.notna().any(axis=1).to_numpy()
    if how == "none" or trading.all() or not trading.any():
        return returns, market
    first, last = np.flatnonzero(trading)[[0, -1]]
    if how == "ffill":
        values = market.to_numpy(dtype=float, copy=True)
        valid = ~np.isnan(values)
        # Between a column's first and last return, a missing return is a price carried forward.
        after_first = np.cumsum(valid, axis=0) > 0
        before_last = np.cumsum(valid[::-1], axis=0)[::-1] > 0
        values[after_first & before_last & ~valid] = 0.0
        return returns, pd.DataFrame(values, index=market.index, columns=market.columns)
    # Each kept period absorbs the dropped periods just before it; periods before the
    # benchmark's first return are dropped without being absorbed.
    groups = np.cumsum(trading[::-1])[::-1]  # same number for a run of gaps and the trading row after it
    keep_rows = np.arange(len(trading)) > first - 1
    keep_rows &= np.arange(len(trading)) <= last
    sub_returns = returns.iloc[keep_rows]
    sub_groups = groups[keep_rows]
    compounded = _compound(sub_returns, sub_groups, kind)
    kept_index = returns.index[keep_rows][trading[keep_rows]]
    # groupby sorts group numbers ascending, i.e. in reverse time order here.
    compounded = compounded.sort_index(ascending=False)
    compounded.index = kept_index
    return compounded, market.loc[kept_index]
