"""Did an event change how series move together? Pre- against post-event correlations.

Windows
-------
The *event period* is the first return whose interval ends after the event instant: with
daily closes, an announcement at 2024-02-15 18:00 UTC falls in the return of 2024-02-15
(close of the 14th to close of the 15th); with hourly closes, in the return labelled 18:00.
The post window is ``post`` periods starting with the event period; the pre window is the
``pre`` periods that end ``gap`` periods before it. Windows are spans of time, so on an
equity's calendar they hold fewer returns than periods; ``n_pre`` / ``n_post`` say how many.

Test
----
Fisher's z: ``z_k = atanh(r_k)`` is close to normal with variance ``1 / (n_k - 3)``
(Pearson; ``1.06 / (n_k - 3)`` for Spearman, Fieller, Hartley & Pearson 1957), so

    z = (atanh(r_post) - atanh(r_pre)) / sqrt(v_pre + v_post)

is compared with the standard normal (two-sided p). **Assumption**: the two windows are
independent samples of i.i.d. bivariate-normal returns. The windows never overlap, but
returns have fat tails and volatility clustering, which make the test somewhat
anti-conservative: read p around 0.05 as weak evidence. With many pairs, ``p_adj``
(Benjamini-Hochberg over the rows of one call) controls the false discovery rate.
"""
from __future__ import annotations

import re
from itertools import combinations
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ... import utc
from ...errors import AnalysisError
from .pairwise import METHODS, pair_arrays, pair_correlation
from .returns import infer_frequency

__all__ = ["FISHER_TEST", "fisher_z_test", "event_windows", "correlation_change", "pairs_against", "all_pairs", "bh_adjust",
           "parse_span"]

# How the change is tested, as results name it in their settings.
FISHER_TEST = "fisher-z, independent windows"

# Variance factor of atanh(r) times (n - 3): 1 for Pearson, 1.06 for Spearman.
_VARIANCE_FACTOR = {"pearson": 1.0, "spearman": 1.06}


def fisher_z_test(r_pre, n_pre, r_post, n_post, method: str = "pearson"):
    """Fisher z test of equal correlations in two independent samples.

    Parameters
    ----------
    r_pre, n_pre, r_post, n_post : float or array
        Correlations and sample sizes (n > 3 each).
    method : {"pearson", "spearman"}

    Returns
    -------
    (z, p) : tuple of float or array
        The statistic (positive when the correlation rose) and its two-sided p-value;
        NaN where a sample is too small or a correlation is missing.
    """
    factor = _VARIANCE_FACTOR[method]
    r1, r2 = np.asarray(r_pre, dtype=float), np.asarray(r_post, dtype=float)
    n1, n2 = np.asarray(n_pre, dtype=float), np.asarray(n_post, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Clip so that |r| = 1 (two points, or identical series) gives a finite, huge z.
        z1 = np.arctanh(np.clip(r1, -0.999999, 0.999999))
        z2 = np.arctanh(np.clip(r2, -0.999999, 0.999999))
        se = np.sqrt(factor / (n1 - 3) + factor / (n2 - 3))
        z = (z2 - z1) / se
    z = np.where((n1 > 3) & (n2 > 3), z, np.nan)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return (float(z), float(p)) if np.ndim(z) == 0 else (z, p)


_SPAN = re.compile(r"^\s*(\d+)\s*(d|day|days|h|hour|hours)\s*$", re.IGNORECASE)


def parse_span(text) -> pd.Timedelta | None:
    """'30d', '72h', '2 days' as a Timedelta; None when the text is not such a span."""
    match = _SPAN.match(str(text))
    if not match:
        return None
    count, unit = int(match.group(1)), match.group(2).lower()
    return pd.Timedelta(days=count) if unit.startswith("d") else pd.Timedelta(hours=count)


def _as_offset(value, step: pd.Timedelta, name: str) -> pd.Timedelta:
    """An int means periods of the grid; a string like '30d' or '72h' is a span of time."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        offset = step * int(value)
    elif isinstance(value, pd.Timedelta):
        offset = value
    else:
        offset = parse_span(value)
        if offset is None:
            raise AnalysisError(f"{name} {value!r} is not a number of periods or a span such as 30d or 72h")
    if offset < pd.Timedelta(0) or (offset == pd.Timedelta(0) and name != "gap"):
        raise AnalysisError(f"{name} must be positive")
    return offset


def event_windows(index: pd.DatetimeIndex, event_ts, step: pd.Timedelta, pre, post, gap=0) -> dict:
    """The pre and post windows around ``event_ts`` as label ranges [start, end).

    Returns
    -------
    dict
        ``event_period`` (label of the return that contains the event), ``pre_start``,
        ``pre_end``, ``post_start``, ``post_end`` (ends exclusive).
    """
    event = utc.naive(pd.Timestamp(event_ts))
    # Labels are period starts on the grid; the period holding the event starts at its floor.
    origin = index[0] if len(index) else pd.Timestamp(0)
    event_period = origin + ((event - origin) // step) * step
    pre_o, post_o, gap_o = _as_offset(pre, step, "pre"), _as_offset(post, step, "post"), _as_offset(gap, step, "gap")
    return {
        "event_period": event_period,
        "pre_start": event_period - gap_o - pre_o,
        "pre_end": event_period - gap_o,
        "post_start": event_period,
        "post_end": event_period + post_o,
    }


def pairs_against(series: Iterable, benchmarks: Iterable) -> list[tuple]:
    """Each series paired with each benchmark (a benchmark is not paired with itself)."""
    benchmarks = list(benchmarks)
    return [(s, b) for s in series for b in benchmarks if s != b]


def all_pairs(series: Iterable) -> list[tuple]:
    """Every unordered pair of distinct series."""
    return list(combinations(list(dict.fromkeys(series)), 2))


def correlation_change(
    returns: pd.DataFrame,
    event_ts,
    pre=30,
    post=30,
    *,
    pairs: Sequence[tuple] | None = None,
    method: str = "pearson",
    gap=0,
    min_overlap: int = 10,
    freq: pd.Timedelta | str | None = None,
) -> pd.DataFrame:
    """Correlation of each pair before and after an event, and Fisher's z test of the change.

    Parameters
    ----------
    returns : DataFrame
        Wide returns (see :func:`tracker.analysis.correlation.to_returns`), covering both windows.
    event_ts : timestamp
        The event instant (UTC; naive means UTC).
    pre, post : int or str
        Window lengths: periods of the grid (int) or a span ('30d', '72h').
    pairs : sequence of (x, y), optional
        Default: every pair of columns.
    method : {"pearson", "spearman"}
    gap : int or str
        Periods left out between the pre window and the event (anticipation).
    min_overlap : int
        Least number of shared returns per window; fewer gives NaN (n still reported).
    freq : Timedelta or str, optional
        The grid step the windows count in (``"1D"``, ``"1h"``); inferred from the index when
        not given. Give it for returns on a calendar with gaps (an equity's trading days).

    Returns
    -------
    DataFrame
        One row per pair: ``x``, ``y``, ``method``, ``n_pre``, ``r_pre``, ``n_post``,
        ``r_post``, ``delta`` (post - pre), ``z``, ``p_value``, ``p_adj`` (Benjamini-Hochberg).
        The window bounds are :func:`event_windows` of the same arguments.
    """
    if method not in METHODS:
        raise AnalysisError(f"correlation method {method!r} is not one of {', '.join(METHODS)}")
    if min_overlap < 4:
        raise AnalysisError("min_overlap must be at least 4 returns per window for Fisher's z")
    step = pd.Timedelta(freq) if freq is not None else infer_frequency(returns.index)
    windows = event_windows(returns.index, event_ts, step, pre, post, gap)
    index = returns.index
    pre_rows = (index >= windows["pre_start"]) & (index < windows["pre_end"])
    post_rows = (index >= windows["post_start"]) & (index < windows["post_end"])
    if not pre_rows.any() or not post_rows.any():
        have = f"{index.min()} .. {index.max()}" if len(index) else "no returns"
        raise AnalysisError(
            f"the returns ({have}) do not cover the windows {windows['pre_start']} .. {windows['post_end']}; "
            "load a longer range"
        )
    pairs = all_pairs(returns.columns) if pairs is None else list(pairs)
    rows = []
    for x, y, xs, ys in pair_arrays(returns, pairs):
        n_pre, r_pre = pair_correlation(xs[pre_rows], ys[pre_rows], method)
        n_post, r_post = pair_correlation(xs[post_rows], ys[post_rows], method)
        r_pre = r_pre if n_pre >= min_overlap else np.nan
        r_post = r_post if n_post >= min_overlap else np.nan
        rows.append((x, y, n_pre, r_pre, n_post, r_post))
    frame = pd.DataFrame(rows, columns=["x", "y", "n_pre", "r_pre", "n_post", "r_post"])
    frame.insert(2, "method", method)
    frame["delta"] = frame["r_post"] - frame["r_pre"]
    z, p = fisher_z_test(frame["r_pre"], frame["n_pre"], frame["r_post"], frame["n_post"], method)
    frame["z"], frame["p_value"] = np.atleast_1d(z), np.atleast_1d(p)
    frame["p_adj"] = bh_adjust(frame["p_value"].to_numpy())
    return frame


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (NaN stays NaN)."""
    out = np.full(p.shape, np.nan)
    finite = np.isfinite(p)
    if finite.any():
        out[finite] = stats.false_discovery_control(p[finite], method="bh")
    return out
