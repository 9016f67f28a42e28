"""The vectorised fits against statsmodels OLS per security-event, and the rank/sign helpers
against scipy."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from tracker.analysis.eventstudy import EventStudy, models
from tracker.analysis.eventstudy.nonparametric_statistics import wilcoxon_signed_rank
from tracker.analysis.eventstudy.parametric_statistics import average_residual_correlation


def _panel(seed=3, periods=260, securities=12):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2023-03-01", periods=periods, freq="D")
    market = pd.Series(rng.normal(0, 0.02, periods), index=index, name="BTC")
    betas = rng.uniform(0.3, 1.8, securities)
    values = 0.001 + market.to_numpy()[:, None] * betas + rng.normal(0, 0.03, (periods, securities))
    # Holes before the first event, so observation counts differ but event windows are whole.
    values[rng.choice(140, 25, replace=False), rng.choice(securities, 25)] = np.nan
    returns = pd.DataFrame(values, index=index, columns=[f"T{i}" for i in range(securities)])
    events = pd.DataFrame(
        {"event_id": ["a", "b", "c"], "timestamp": [index[150] + pd.Timedelta(hours=5), index[190], index[240]]}
    )
    return returns, market, events


def test_market_model_matches_statsmodels_per_security_event():
    returns, market, events = _panel()
    results = EventStudy(returns, market, events, estimation_window=(-130, -11), event_windows=[(0, 0), (-2, 3)], min_estimation_obs=60).fit()
    estimation = results.estimation.set_index(["event_id", "security"])
    car = results.car.set_index(["event_id", "security", "window"])["car"]
    ar = results.abnormal_returns
    checked = 0
    for (event_id, security), row in estimation.iterrows():
        day0 = returns.index.get_loc(row["day0"])
        y = returns[security].iloc[day0 - 130: day0 - 10]
        x = market.iloc[day0 - 130: day0 - 10]
        ok = y.notna() & x.notna()
        fit = sm.OLS(y[ok].to_numpy(), sm.add_constant(x[ok].to_numpy())).fit()
        assert row["n_obs"] == ok.sum() == fit.nobs
        assert row["alpha"] == pytest.approx(fit.params[0], rel=1e-9, abs=1e-12)
        assert row["beta"] == pytest.approx(fit.params[1], rel=1e-9)
        assert row["sigma"] == pytest.approx(np.sqrt(fit.scale), rel=1e-9)  # SSR/(M-2)
        assert row["r_squared"] == pytest.approx(fit.rsquared, rel=1e-9)
        event_x = sm.add_constant(market.iloc[day0 - 2: day0 + 4].to_numpy())
        expected_ar = returns[security].iloc[day0 - 2: day0 + 4].to_numpy() - fit.predict(event_x)
        np.testing.assert_allclose(ar[(event_id, security)].to_numpy(), expected_ar, rtol=1e-9, atol=1e-13)
        assert car[(event_id, security, "[-2, 3]")] == pytest.approx(expected_ar.sum(), rel=1e-9, abs=1e-13)
        # MacKinlay's CAR variance from statsmodels' own parameter covariance.
        gamma = np.ones(6)
        var = fit.scale * 6 + gamma @ event_x @ fit.cov_params() @ event_x.T @ gamma
        sd = results.car.set_index(["event_id", "security", "window"])["sd_car"][(event_id, security, "[-2, 3]")]
        assert sd == pytest.approx(np.sqrt(var), rel=1e-9)
        checked += 1
    assert checked == len(estimation) == 36
    assert estimation["n_obs"].nunique() > 1


def test_vectorised_residuals_match_statsmodels():
    rng = np.random.default_rng(11)
    k, m = 50, 120
    x = rng.normal(0, 0.02, (k, m))
    y = 0.002 + rng.uniform(0, 2, (k, 1)) * x + rng.normal(0, 0.03, (k, m))
    mask = rng.random((k, m)) > 0.1
    fit = models.fit("market", np.where(mask, y, np.nan), np.where(mask, x, np.nan), mask)
    for i in range(k):
        ols = sm.OLS(y[i, mask[i]], sm.add_constant(x[i, mask[i]])).fit()
        np.testing.assert_allclose(fit.residuals[i, mask[i]], ols.resid, rtol=1e-9, atol=1e-14)
        assert np.isnan(fit.residuals[i, ~mask[i]]).all()
        assert fit.sigma2[i] == pytest.approx(ols.scale, rel=1e-10)
        assert fit.df[i] == ols.df_resid


def test_mean_and_market_adjusted_models_against_direct_formulas():
    rng = np.random.default_rng(5)
    y = rng.normal(0.001, 0.02, (4, 40))
    x = rng.normal(0.0, 0.02, (4, 40))
    mask = np.ones_like(y, dtype=bool)
    mean_fit = models.fit("mean", y, None, mask)
    np.testing.assert_allclose(mean_fit.alpha, y.mean(axis=1))
    np.testing.assert_allclose(mean_fit.sigma2, y.var(axis=1, ddof=1))
    np.testing.assert_allclose(mean_fit.car_factor(None, 3), 3 + 9 / 40)
    adjusted = models.fit("market-adjusted", y, x, mask)
    np.testing.assert_allclose(adjusted.sigma2, (y - x).var(axis=1, ddof=1))
    np.testing.assert_allclose(adjusted.residuals, y - x)
    np.testing.assert_allclose(adjusted.car_factor(None, 5), 5.0)


def test_unknown_model_is_refused():
    with pytest.raises(Exception, match="unknown model 'capm'"):
        models.canonical_model("capm")
    assert models.canonical_model("constant-mean") == "mean"


def test_mean_residual_correlation_equals_average_pearson_for_complete_data():
    rng = np.random.default_rng(2)
    common = rng.normal(size=100)
    data = 0.6 * common + rng.normal(size=(25, 100))
    corr = np.corrcoef(data)
    expected = (corr.sum() - 25) / (25 * 24)
    assert average_residual_correlation(data) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("n", [8, 30, 50])
def test_wilcoxon_exact_matches_scipy(n):
    rng = np.random.default_rng(n)
    x = rng.normal(0.3, 1.0, n)
    w, p, used, distribution = wilcoxon_signed_rank(x)
    reference = stats.wilcoxon(x, method="exact")
    assert used == n and "exact" in distribution
    assert w == pytest.approx(np.sum(stats.rankdata(np.abs(x))[x > 0]))
    assert p == pytest.approx(reference.pvalue, rel=1e-10)


def test_wilcoxon_normal_approximation_with_zeros_and_ties_matches_scipy():
    rng = np.random.default_rng(1)
    x = np.round(rng.normal(0.2, 1.0, 400), 1)  # many ties and some zeros
    w, p, used, distribution = wilcoxon_signed_rank(x)
    reference = stats.wilcoxon(x, zero_method="wilcox", correction=False, method="approx")
    assert used == int((x != 0).sum()) and "normal" in distribution
    assert p == pytest.approx(reference.pvalue, rel=1e-10)
    assert min(w, used * (used + 1) / 2 - w) == pytest.approx(reference.statistic)
