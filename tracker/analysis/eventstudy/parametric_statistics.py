"""Parametric test statistics, vectorised over days or windows.

Arrays are (N, D): N security-events (rows) by D days or windows (columns); every function
returns one statistic per column. Formulas, conventions and references are in
docs/eventstudy.md ("Tests"); the p-values are two-sided (:func:`p_normal`, :func:`p_t`).
"""
from __future__ import annotations

import numpy as np
from scipy import stats

# estudy2's rule: an estimation day enters the AAR series only when most ARs are present.
AAR_COVERAGE = 0.9


def p_normal(z: np.ndarray) -> np.ndarray:
    """Two-sided p-value under N(0, 1)."""
    return 2.0 * stats.norm.sf(np.abs(z))


def p_t(t: np.ndarray, df: np.ndarray | float) -> np.ndarray:
    """Two-sided p-value under Student's t with ``df`` degrees of freedom."""
    return 2.0 * stats.t.sf(np.abs(t), df)


def cross_sectional_t(x: np.ndarray) -> tuple[np.ndarray, int]:
    """t = sqrt(N) * mean(x) / sd(x), sd with divisor N - 1; t(N - 1).

    Used with x = AR (one day) or CAR (one window), and by BMP with x = standardized ARs.
    """
    n = x.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = x.std(axis=0, ddof=1) if n > 1 else np.full(x.shape[1:], np.nan)
        return np.sqrt(n) * x.mean(axis=0) / sd, n - 1


def brown_warner_1980(x: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Independence t: mean(x) / (sqrt(sum_i var_i) / N) = sum_i x_i / sqrt(sum_i var_i); N(0, 1).

    ``variance`` is each security-event's forecast-error variance of x (sigma^2 * FEC for a
    day, sigma^2 * car_factor for a window): MacKinlay's J1.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return x.sum(axis=0) / np.sqrt(variance.sum(axis=0))


def estimation_aar(residuals: np.ndarray) -> np.ndarray:
    """AAR on each estimation period that has at least 90% of its ARs (estudy2's rule)."""
    valid = np.isfinite(residuals)
    present = valid.sum(axis=0)
    keep = present >= AAR_COVERAGE * residuals.shape[0]
    total = np.where(valid, residuals, 0.0).sum(axis=0)
    return total[keep] / present[keep]


def brown_warner_1985(aar_estimation: np.ndarray, mean_effect: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, int]:
    """Crude dependence adjustment: CAAR / (sqrt(L) * sd(AAR over E)); t(M_A - 1).

    The standard error comes from the time series of the portfolio's AAR, so whatever
    correlation the securities share in calendar time is inside it.
    """
    m = len(aar_estimation)
    sd = aar_estimation.std(ddof=1) if m > 1 else np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        return mean_effect / (np.sqrt(lengths) * sd), m - 1


def patell(standardized: np.ndarray, t_variance: np.ndarray) -> np.ndarray:
    """Patell Z = sum_i SAR_i / sqrt(sum_i df_i / (df_i - 2)); N(0, 1).

    ``standardized`` are SARs (AR / (sigma * sqrt(FEC))) or SCARs (CAR / sqrt(Var CAR));
    ``t_variance`` is df/(df - 2), the variance of a t(df) variable.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        return standardized.sum(axis=0) / np.sqrt(t_variance.sum())


def t_variance(df: np.ndarray) -> np.ndarray:
    """Variance of Student's t with ``df`` degrees of freedom (NaN for df <= 2)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(df > 2, df / (df - 2.0), np.nan)


def average_residual_correlation(residuals: np.ndarray) -> float:
    """Mean off-diagonal Pearson correlation of estimation residuals aligned by relative period.

    Each row is centred and scaled to unit length over its own observations; with z the
    result, sum_{i != j} r_ij = sum_t (sum_i z_it)^2 - N. That is O(N M) instead of the
    O(N^2 M) correlation matrix. Periods a row lacks count as zero deviation, so with gaps
    the figure approximates the pairwise-complete correlations.
    """
    n = residuals.shape[0]
    if n < 2:
        return float("nan")
    valid = np.isfinite(residuals)
    counts = valid.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        centred = np.where(valid, residuals - np.nanmean(residuals, axis=1, keepdims=True), 0.0)
        norms = np.sqrt((centred**2).sum(axis=1, keepdims=True))
        z = np.where(norms > 0, centred / norms, 0.0)
    usable = (counts > 1) & (norms[:, 0] > 0)
    z = z[usable]
    n = len(z)
    if n < 2:
        return float("nan")
    return float(((z.sum(axis=0) ** 2).sum() - n) / (n * (n - 1)))


def kolari_pynnonen_factor(rbar: float, n: int, *, patell: bool) -> float:
    """KP 2010 variance adjustment: sqrt(1/(1+(N-1)r)) for Patell, sqrt((1-r)/(1+(N-1)r)) for BMP.

    Patell's denominator is theoretical, so the (1 - r) factor (the correlation's effect on
    the cross-sectional variance BMP estimates) does not apply to it.
    """
    denominator = 1.0 + (n - 1) * rbar
    if not np.isfinite(rbar) or denominator <= 0:
        return float("nan")
    return float(np.sqrt((1.0 if patell else 1.0 - rbar) / denominator))
