"""Normal-return models, fitted on stacked estimation blocks (one row per security-event).

Every fit is closed-form on masked sums, so K security-events cost a handful of array passes
instead of K regressions.

==================  ==========================  =============  =====  ===========================
model               expected return             sigma^2        df     forecast-error factor (FEC)
==================  ==========================  =============  =====  ===========================
``market``          alpha + beta * R_m          SSR / (M - 2)  M - 2  1 + 1/M + (R_m - mean)^2/S_mm
``mean``            mean of R over E            SSR / (M - 1)  M - 1  1 + 1/M
``market-adjusted`` R_m                         var(R - R_m)   M - 1  1
==================  ==========================  =============  =====  ===========================

``var`` is the sample variance with divisor M - 1. The variance of a CAR over a window of L
periods is sigma^2 times ``car_factor`` (MacKinlay 1997, eq. 4.12 ff.), which keeps the
covariance across days that the shared estimated parameters create.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import InputError

MODELS = ("market", "mean", "market-adjusted")
_ALIASES = {
    "market": "market",
    "market-model": "market",
    "market_model": "market",
    "mean": "mean",
    "mean-adjusted": "mean",
    "mean_adjusted": "mean",
    "constant-mean": "mean",
    "market-adjusted": "market-adjusted",
    "market_adjusted": "market-adjusted",
}
DESCRIPTIONS = {
    "market": "market model (OLS on the estimation window, sigma^2 = SSR/(M-2))",
    "mean": "mean-adjusted (constant mean of the estimation window, sigma^2 = SSR/(M-1))",
    "market-adjusted": "market-adjusted (alpha = 0, beta = 1, sigma^2 = sample variance of R - R_m)",
}
PARAMETERS = {"market": 2, "mean": 1, "market-adjusted": 1}


def canonical_model(name: str) -> str:
    """The model's canonical name (``market``, ``mean`` or ``market-adjusted``)."""
    try:
        return _ALIASES[str(name).strip().lower()]
    except KeyError:
        raise InputError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}") from None


@dataclass
class ModelFit:
    """Per security-event estimation results (arrays of length K, residuals K x M)."""

    model: str
    alpha: np.ndarray
    beta: np.ndarray
    sigma2: np.ndarray
    n_obs: np.ndarray
    df: np.ndarray
    r_squared: np.ndarray
    mean_market: np.ndarray
    s_mm: np.ndarray
    residuals: np.ndarray  # estimation-window abnormal returns, NaN where not used

    @property
    def sigma(self) -> np.ndarray:
        return np.sqrt(self.sigma2)

    def expected(self, market: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
        """Normal returns on a (K, S) block of benchmark returns."""
        if self.model == "mean":
            return np.broadcast_to(self.alpha[:, None], shape)
        if self.model == "market-adjusted":
            return market
        return self.alpha[:, None] + self.beta[:, None] * market

    def forecast_factor(self, market: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
        """Var(AR_t) / sigma^2 out of sample: the forecast-error correction (FEC)."""
        if self.model == "market-adjusted":
            return np.ones(shape)
        base = 1.0 + 1.0 / self.n_obs[:, None]
        if self.model == "mean":
            return np.broadcast_to(base, shape)
        return base + (market - self.mean_market[:, None]) ** 2 / self.s_mm[:, None]

    def car_factor(self, market_window: np.ndarray | None, length: int) -> np.ndarray:
        """Var(CAR over an L-period window) / sigma^2, including the cross-day covariance."""
        if self.model == "market-adjusted":
            return np.full(self.n_obs.shape, float(length))
        factor = length + length**2 / self.n_obs
        if self.model == "mean":
            return factor
        deviation = (market_window - self.mean_market[:, None]).sum(axis=1)
        return factor + deviation**2 / self.s_mm


def fit(model: str, returns: np.ndarray, market: np.ndarray | None, mask: np.ndarray) -> ModelFit:
    """Fit ``model`` on every row of the (K, M) estimation blocks at once.

    Parameters
    ----------
    model : str
        A name accepted by :func:`canonical_model`.
    returns, market : ndarray
        (K, M) security and benchmark returns over the estimation window (``market`` may be
        None for the mean model).
    mask : ndarray of bool
        (K, M) observations to use: both returns present and not inside another event.

    Returns
    -------
    ModelFit
        Rows with too few observations get NaN figures; the caller excludes them.
    """
    model = canonical_model(model)
    n = mask.sum(axis=1).astype(float)
    y = np.where(mask, returns, 0.0)
    nan = np.full(n.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        y_mean = y.sum(axis=1) / n
        if model == "market":
            x = np.where(mask, market, 0.0)
            x_mean = x.sum(axis=1) / n
            dx = np.where(mask, x - x_mean[:, None], 0.0)
            dy = np.where(mask, y - y_mean[:, None], 0.0)
            s_mm = np.einsum("ij,ij->i", dx, dx)
            beta = np.einsum("ij,ij->i", dx, dy) / s_mm
            alpha = y_mean - beta * x_mean
            fitted_resid = dy - beta[:, None] * dx  # y - alpha - beta x, zero where masked
            ssr = np.einsum("ij,ij->i", fitted_resid, fitted_resid)
            df = n - 2
            r_squared = 1.0 - ssr / np.einsum("ij,ij->i", dy, dy)
        elif model == "mean":
            alpha, beta, x_mean, s_mm, r_squared = y_mean, nan, nan, nan, nan
            fitted_resid = np.where(mask, y - y_mean[:, None], 0.0)
            ssr = np.einsum("ij,ij->i", fitted_resid, fitted_resid)
            df = n - 1
        else:
            alpha, beta, r_squared, s_mm = np.zeros(n.shape), np.ones(n.shape), nan, nan
            x = np.where(mask, market, 0.0)
            x_mean = x.sum(axis=1) / n
            fitted_resid = y - x  # zero where masked
            centred = np.where(mask, fitted_resid - (y_mean - x_mean)[:, None], 0.0)
            ssr = np.einsum("ij,ij->i", centred, centred)
            df = n - 1
        residuals = np.where(mask, fitted_resid, np.nan)
        sigma2 = np.where(df > 0, ssr / df, np.nan)
    return ModelFit(model, alpha, beta, sigma2, n.astype(int), df, r_squared, x_mean, s_mm, residuals)
