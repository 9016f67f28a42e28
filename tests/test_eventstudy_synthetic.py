"""Synthetic panels with known truth: injected abnormal returns are found (power), and a null
event with cross-correlated noise on one shared date fools the naive tests but not the
dependence-robust ones (a small seeded Monte Carlo)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import ROBUST_TESTS, TESTS, EventStudy

NAIVE_TESTS = [name for name in TESTS if name not in ROBUST_TESTS]


def simulate(rng, *, securities=40, periods=160, rho=0.0, effect=None, day=150, sd=0.03):
    """Market-model returns whose residuals share a non-market factor with correlation rho."""
    index = pd.date_range("2023-01-01", periods=periods, freq="D")
    market = rng.normal(0.0, 0.02, periods)
    factor = rng.normal(0.0, 1.0, periods)
    noise = sd * (np.sqrt(rho) * factor[:, None] + np.sqrt(1 - rho) * rng.normal(0.0, 1.0, (periods, securities)))
    values = 0.0005 + rng.uniform(0.5, 1.5, securities) * market[:, None] + noise
    for offset, size in (effect or {}).items():
        values[day + offset] += size
    returns = pd.DataFrame(values, index=index, columns=[f"s{i}" for i in range(securities)])
    return returns, pd.Series(market, index=index, name="mkt"), {"event": index[day] + pd.Timedelta(hours=14)}


def window_p_values(results, window="[0, 0]"):
    table = results.tests[(results.tests["scope"] == "window") & (results.tests["window"] == window)]
    return dict(zip(table["test"], table["p_value"]))


def test_injected_abnormal_returns_are_recovered_and_significant():
    rng = np.random.default_rng(42)
    returns, market, events = simulate(rng, securities=60, effect={0: 0.03, 1: 0.01, 2: 0.01})
    results = EventStudy(returns, market, events, event_windows=[(0, 0), (0, 2), (-5, -1)]).fit()
    caar = results.caar.set_index("window")["caar"]
    assert caar["[0, 0]"] == pytest.approx(0.03, abs=0.01)
    assert caar["[0, 2]"] == pytest.approx(0.05, abs=0.015)
    assert abs(caar["[-5, -1]"]) < 0.015
    p = window_p_values(results, "[0, 0]")
    assert set(p) == set(TESTS)
    assert all(value < 0.01 for value in p.values()), p
    aar = results.aar.set_index("relative_period")["aar"]
    assert aar[0] == pytest.approx(0.03, abs=0.01) and abs(aar[-1]) < 0.01


def test_power_monte_carlo_every_test_rejects_a_real_effect():
    rng = np.random.default_rng(7)
    rejections = dict.fromkeys(TESTS, 0)
    reps = 30
    for _ in range(reps):
        returns, market, events = simulate(rng, effect={0: 0.02})
        p = window_p_values(EventStudy(returns, market, events, event_windows=[(0, 0)]).fit())
        for name, value in p.items():
            rejections[name] += value < 0.05
    rates = {name: count / reps for name, count in rejections.items()}
    assert all(rate >= 0.8 for rate in rates.values()), rates


def test_null_event_with_cross_correlated_noise_fools_only_the_naive_tests():
    """One shared event date, no effect, residual correlation 0.5 across securities.

    Tests that treat the 40 security-events as independent reject far above 5%; the tests
    that estimate the dependence from the estimation window stay near 5%.
    """
    rng = np.random.default_rng(2024)
    reps = 120
    rejections = dict.fromkeys(TESTS, 0)
    clustered = 0
    for _ in range(reps):
        returns, market, events = simulate(rng, rho=0.5)
        results = EventStudy(returns, market, events, event_windows=[(0, 0), (-1, 1)]).fit()
        clustered += results.clustered
        for name, value in window_p_values(results).items():
            rejections[name] += value < 0.05
    rates = {name: count / reps for name, count in rejections.items()}
    assert clustered == reps
    for name in NAIVE_TESTS:
        assert rates[name] > 0.4, (name, rates)
    for name in ROBUST_TESTS:
        assert rates[name] < 0.12, (name, rates)


def test_independent_null_keeps_every_test_near_its_size():
    rng = np.random.default_rng(99)
    reps = 80
    rejections = dict.fromkeys(TESTS, 0)
    for _ in range(reps):
        returns, market, events = simulate(rng, rho=0.0)
        for name, value in window_p_values(EventStudy(returns, market, events, event_windows=[(0, 0)]).fit()).items():
            rejections[name] += value < 0.05
    rates = {name: count / reps for name, count in rejections.items()}
    assert all(rate <= 0.15 for rate in rates.values()), rates


def test_clustered_summary_leads_with_robust_tests_and_unclustered_does_not():
    rng = np.random.default_rng(3)
    returns, market, events = simulate(rng, rho=0.3)
    clustered = EventStudy(returns, market, events).fit()
    assert clustered.clustered and clustered.clustering["share_same_period"] == 1.0
    assert clustered.clustering["mean_residual_correlation"] == pytest.approx(0.3, abs=0.1)
    lead = clustered.lead_tests()
    assert lead["robust_to_cross_correlation"].iloc[: 3 * len(ROBUST_TESTS)].all()
    assert "dependence-robust" in clustered.summary()

    assert list(lead["test"].iloc[:2 * 3]) == ["kp_bmp"] * 3 + ["grank"] * 3  # the verdict's lead tests (issue 16)
    # Each security gets its own event date: no clustering; BMP and GRANK lead, then registry order.
    dates = returns.index[130:130 + returns.shape[1] // 2]
    staggered = pd.DataFrame(
        {"event_id": [f"e{i}" for i in range(len(dates))], "security": returns.columns[: len(dates)], "timestamp": dates}
    )
    spread = EventStudy(returns, market, staggered).fit()
    assert not spread.clustered and spread.clustering["share_same_period"] == 0.0
    assert list(dict.fromkeys(spread.lead_tests()["test"]))[:3] == ["bmp", "grank", "csect_t"]
    assert "dependence-robust" not in spread.summary()


def test_many_events_pooled_find_the_effect():
    """20 events x 30 securities pooled, each event on its own date with a 2% day-0 effect."""
    rng = np.random.default_rng(8)
    returns, market, _ = simulate(rng, securities=30, periods=400)
    days = np.arange(140, 400 - 10, 12)[:20]
    values = returns.to_numpy(copy=True)
    values[days] += 0.02
    returns = pd.DataFrame(values, index=returns.index, columns=returns.columns)
    events = pd.DataFrame({"event_id": [f"e{i}" for i in range(len(days))], "timestamp": returns.index[days]})
    results = EventStudy(returns, market, events, event_windows=[(0, 0)], exclude_other_events=True).fit()
    assert results.n == 600 and results.settings["n_events"] == 20
    assert results.caar["caar"].iloc[0] == pytest.approx(0.02, abs=0.003)
    assert all(p < 1e-6 for p in window_p_values(results).values())
    # Events 12 days apart put up to 10 other event days in each estimation window; they are dropped.
    assert results.estimation["n_obs"].min() == 110

    # Left in, those shared shocks look like cross-correlation and inflate the robust tests' errors.
    contaminated = EventStudy(returns, market, events, event_windows=[(0, 0)]).fit()
    robust = contaminated.tests[(contaminated.tests["test"] == "bw1985") & (contaminated.tests["scope"] == "window")]
    cleaned = results.tests[(results.tests["test"] == "bw1985") & (results.tests["scope"] == "window")]
    assert robust["statistic"].iloc[0] < cleaned["statistic"].iloc[0] / 2
