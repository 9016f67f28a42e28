"""Sign and rank test statistics, vectorised over days or windows where the formula allows.

Arrays are (N, D) as in :mod:`parametric_statistics`. Formulas and conventions are in
docs/eventstudy.md ("Tests").
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats

# Below this many non-zero observations without ties, Wilcoxon p-values are exact.
WILCOXON_EXACT_MAX = 50


def sign_test(x: np.ndarray) -> np.ndarray:
    """z = (N+ - N/2) / sqrt(N/4), N+ = number of x > 0 (zeros count as not positive); N(0, 1)."""
    n = x.shape[0]
    positive = (x > 0).sum(axis=0)
    return (positive - n / 2.0) / np.sqrt(n / 4.0)


def positive_share(residuals: np.ndarray) -> float:
    """Cowan's p-hat: the mean over security-events of each one's share of positive estimation ARs."""
    valid = np.isfinite(residuals)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = (np.where(valid, residuals, 0.0) > 0).sum(axis=1) / valid.sum(axis=1)
    return float(np.nanmean(shares))


def generalized_sign(x: np.ndarray, p_hat: float) -> np.ndarray:
    """Cowan (1992): z = (N+ - N p) / sqrt(N p (1 - p)); N(0, 1)."""
    n = x.shape[0]
    positive = (x > 0).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (positive - n * p_hat) / np.sqrt(n * p_hat * (1.0 - p_hat))


def rank_rows(values: np.ndarray) -> np.ndarray:
    """Average ranks (1 = smallest) within each row, NaN where the value is NaN.

    One argsort per row; rows holding tied values are re-ranked with scipy's average ranks
    (ties are rare with returns, but stale prices produce them).
    """
    values = np.atleast_2d(values)
    missing = np.isnan(values)
    # +inf sorts after every real value, so the real values' ranks are unaffected.
    filled = np.where(missing, np.inf, values)
    order = np.argsort(filled, axis=1)
    ranks = np.empty(values.shape)
    positions = np.broadcast_to(np.arange(1, values.shape[1] + 1, dtype=float), values.shape)
    np.put_along_axis(ranks, order, positions, axis=1)
    ordered = np.sort(filled, axis=1)  # cheaper than gathering through `order`
    tied = ((ordered[:, 1:] == ordered[:, :-1]) & np.isfinite(ordered[:, 1:])).any(axis=1)
    if tied.any():
        ranks[tied] = stats.rankdata(filled[tied], axis=1)
    ranks[missing] = np.nan
    return ranks


def corrado_rank(values: np.ndarray, event_columns: slice, windows: list[slice]) -> tuple[np.ndarray, np.ndarray, int]:
    """Corrado (1989) rank test on the ARs of the estimation window and the event span.

    Ranks are taken within each security-event over all its periods in E and the event span,
    scaled as U = K/(T_i + 1) - 1/2 (Corrado-Zivney), which equals Corrado's K - (T+1)/2
    up to the common factor 1/(T+1) when no period is missing. With D_t = mean_i U_it and
    S = sqrt(mean_t D_t^2) over all periods, the daily statistic is D_t / S and a window's is
    sum_W D_t / (sqrt(L) S) (Cowan 1992; Campbell and Wasley 1993); N(0, 1).

    Returns
    -------
    (daily, window, T)
        Statistics for each column of the event span, for each window, and the number of
        periods in the time series.
    """
    ranks = rank_rows(values)
    valid = np.isfinite(values)
    count = valid.sum(axis=1, keepdims=True)
    centred = np.where(valid, ranks / (count + 1.0) - 0.5, 0.0)
    per_period = valid.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = centred.sum(axis=0) / per_period
    present = per_period > 0
    s = np.sqrt(np.mean(d[present] ** 2))
    event_d = d[event_columns]
    daily = event_d / s
    window = np.array([d[w].sum() / (np.sqrt(d[w].size) * s) for w in windows])
    return daily, window, int(present.sum())


@lru_cache(maxsize=64)
def _signed_rank_counts(n: int) -> np.ndarray:
    """Number of subsets of {1..n} with each sum: the exact null distribution of W+."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):
        counts[k:] = counts[k:] + counts[:-k].copy()
    return counts


def wilcoxon_signed_rank(x: np.ndarray) -> tuple[float, float, int, str]:
    """Wilcoxon signed-rank test of zero median: W+ = sum of ranks of |x| over positive x.

    Zeros are dropped (Wilcoxon's convention) and tied |x| get average ranks. The two-sided
    p-value is exact for up to 50 untied values, otherwise from the normal approximation with
    the tie-corrected variance and no continuity correction.

    Returns
    -------
    (W+, p, n, distribution)
    """
    x = x[np.isfinite(x) & (x != 0)]
    n = len(x)
    if n == 0:
        return float("nan"), float("nan"), 0, "Wilcoxon signed-rank"
    ranks = stats.rankdata(np.abs(x))
    w_plus = float(ranks[x > 0].sum())
    _, ties = np.unique(np.abs(x), return_counts=True)
    if n <= WILCOXON_EXACT_MAX and (ties == 1).all():
        counts = _signed_rank_counts(n)
        cdf = np.cumsum(counts) / counts.sum()
        w = int(round(w_plus))
        lower = cdf[w]
        upper = 1.0 - (cdf[w - 1] if w > 0 else 0.0)
        return w_plus, float(min(1.0, 2.0 * min(lower, upper))), n, "Wilcoxon signed-rank W+ (exact)"
    mean = n * (n + 1) / 4.0
    variance = n * (n + 1) * (2 * n + 1) / 24.0 - (ties**3 - ties).sum() / 48.0
    z = (w_plus - mean) / np.sqrt(variance)
    return w_plus, float(2.0 * stats.norm.sf(abs(z))), n, "Wilcoxon signed-rank W+ (normal approximation, tie-corrected)"


class GeneralizedRank:
    """Kolari and Pynnonen (2011) GRANK test, for one cumulative event observation at a time.

    Each security-event's series is its estimation SARs (residual / sigma) plus one event
    observation, SCAR* = SCAR / sd(SCAR) across security-events (the re-standardization for
    event-induced volatility). With U = rank/(T_i + 1) - 1/2 over those T_i = M_i + 1 values,
    Ubar_t = mean_i U_it, S = sqrt((1/T) sum_t (N_t/N) Ubar_t^2) over the T periods of the
    series, Z = Ubar_0 / S and t = Z sqrt((T - 2)/(T - 1 - Z^2)) ~ t(T - 2).

    The estimation ranks are computed once; an event observation only moves the estimation
    values above it up by one, so a call costs two comparisons of the (N, M) block. Rows are
    grouped by T_i so the per-period sums of those moves are exact integer counts.
    """

    def __init__(self, estimation_sar: np.ndarray):
        size = np.isfinite(estimation_sar).sum(axis=1) + 1  # T_i
        self.order = np.argsort(size, kind="stable")
        self.sar = estimation_sar[self.order]
        self.valid = np.isfinite(self.sar)
        self.size = size[self.order].astype(float)
        self.m = self.size - 1.0
        ranks = rank_rows(self.sar)
        weight = 1.0 / (self.size + 1.0)
        self.base = np.where(self.valid, ranks * weight[:, None], 0.0).sum(axis=0)  # sum_i r_it / (T_i + 1)
        sizes, starts = np.unique(self.size, return_index=True)
        self.groups = [(start, stop, 1.0 / (t + 1.0)) for t, start, stop in zip(sizes, starts, list(starts[1:]) + [len(self.size)])]
        self.n_t = self.valid.sum(axis=0)
        self.present = self.n_t > 0
        self.T = int(self.present.sum()) + 1

    def _weighted_column_sums(self, flags: np.ndarray) -> np.ndarray:
        total = np.zeros(flags.shape[1])
        for start, stop, weight in self.groups:
            total += np.count_nonzero(flags[start:stop], axis=0) * weight
        return total

    def __call__(self, scar: np.ndarray) -> tuple[float, float, int]:
        """(t, Z, df) for one event observation per security-event."""
        n = len(scar)
        if n < 2:  # the re-standardization needs a cross-sectional sd
            return float("nan"), float("nan"), self.T - 2
        with np.errstate(invalid="ignore", divide="ignore"):
            event = (scar / scar.std(ddof=1))[self.order]
        above = self.sar > event[:, None]  # NaN compares False
        equal = self.sar == event[:, None]
        shift = self._weighted_column_sums(above)
        n_above = np.count_nonzero(above, axis=1)
        n_equal = np.zeros(n)
        if equal.any():
            shift += 0.5 * self._weighted_column_sums(equal)
            n_equal = np.count_nonzero(equal, axis=1)
        event_rank = 1.0 + self.m - n_above - 0.5 * n_equal
        ubar0 = (event_rank / (self.size + 1.0) - 0.5).mean()
        ubar = (self.base + shift)[self.present] / self.n_t[self.present] - 0.5
        s = np.sqrt((((self.n_t[self.present] / n) * ubar**2).sum() + ubar0**2) / self.T)
        z = ubar0 / s
        df = self.T - 2
        with np.errstate(invalid="ignore", divide="ignore"):
            t = z * np.sqrt(df / (self.T - 1 - z**2))
        return float(t), float(z), df
