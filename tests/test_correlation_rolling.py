"""Rolling correlations and betas: pandas, scipy and statsmodels agree; gaps and windows are honest."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from tracker.analysis.correlation import rolling_beta, rolling_correlation
from tracker.analysis.correlation.rolling import default_min_periods
from tracker.errors import AnalysisError


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    rows = 260
    index = pd.date_range("2024-01-01", periods=rows, freq="D", name="day")
    btc = pd.Series(rng.normal(0, 0.02, rows), index=index, name="bitcoin")
    tokens = pd.DataFrame(
        {
            "fet": 1.5 * btc + rng.normal(0, 0.02, rows),
            "wld": rng.normal(0, 0.03, rows),
            "gappy": 0.8 * btc + rng.normal(0, 0.01, rows),
        },
        index=index,
    )
    tokens.iloc[40:52, 2] = np.nan
    tokens.iloc[::9, 1] = np.nan
    btc.iloc[100:104] = np.nan
    return tokens, btc


def by_series(frame, series, column):
    return frame[frame["series"] == series].set_index("ts")[column]


def test_rolling_pearson_matches_pandas(data):
    tokens, btc = data
    result = rolling_correlation(tokens, btc, window=30, min_periods=20)
    for name in tokens:
        expected = tokens[name].rolling(30, min_periods=20).corr(btc)
        np.testing.assert_allclose(by_series(result, name, "corr").to_numpy(), expected.to_numpy(), atol=1e-10, equal_nan=True)
    assert set(result["benchmark"]) == {"bitcoin"} and (result["method"] == "pearson").all()


def test_rolling_beta_matches_statsmodels_ols(data):
    tokens, btc = data
    result = rolling_beta(tokens, btc, window=30, min_periods=20)
    for name in tokens:
        got = by_series(result, name, "beta")
        for end in (29, 45, 101, 200, 259):
            window = pd.concat([tokens[name], btc], axis=1).iloc[end - 29: end + 1].dropna()
            if len(window) < 20:
                assert np.isnan(got.iloc[end])
                continue
            fit = sm.OLS(window.iloc[:, 0], sm.add_constant(window.iloc[:, 1])).fit()
            assert got.iloc[end] == pytest.approx(fit.params.iloc[1], rel=1e-9)
            assert by_series(result, name, "n").iloc[end] == len(window)


def test_rolling_spearman_matches_scipy_per_window(data):
    tokens, btc = data
    result = rolling_correlation(tokens, btc, window=25, method="spearman", min_periods=15)
    for name in tokens:
        got = by_series(result, name, "corr")
        for end in (10, 30, 47, 103, 180, 259):
            window = pd.concat([tokens[name], btc], axis=1).iloc[max(0, end - 24): end + 1].dropna()
            expected = stats.spearmanr(window.iloc[:, 0], window.iloc[:, 1]).statistic if len(window) >= 15 else np.nan
            assert got.iloc[end] == pytest.approx(expected, abs=1e-12, nan_ok=True)


def test_planted_beta_and_correlation(data):
    tokens, btc = data
    result = rolling_beta(tokens, btc, window=60)
    assert by_series(result, "fet", "beta").dropna().mean() == pytest.approx(1.5, abs=0.15)
    corr = rolling_correlation(tokens, btc, window=60)
    # fet = 1.5 btc + equal-size noise: corr = 1.5 / sqrt(1.5^2 + 1) = 0.83.
    assert by_series(corr, "fet", "corr").dropna().mean() == pytest.approx(0.83, abs=0.06)
    assert abs(by_series(corr, "wld", "corr").dropna().mean()) < 0.15


def test_windows_with_too_few_pairs_are_nan_and_n_is_reported(data):
    tokens, btc = data
    result = rolling_correlation(tokens, btc, window=10, min_periods=9)
    gappy = result[result["series"] == "gappy"].set_index("ts")
    # Returns 40..51 are missing: the window ending at row 51 has none.
    assert gappy["n"].iloc[51] == 0 and np.isnan(gappy["corr"].iloc[51])
    assert gappy["n"].iloc[55] == 4 and np.isnan(gappy["corr"].iloc[55])
    assert gappy["n"].iloc[60] == 9 and np.isfinite(gappy["corr"].iloc[60])
    assert default_min_periods(30) == 24 and default_min_periods(3) == 3


def test_several_benchmarks_and_a_benchmark_among_the_series(data):
    tokens, btc = data
    benchmarks = pd.DataFrame({"bitcoin": btc, "fet": tokens["fet"]})
    result = rolling_correlation(tokens, benchmarks, window=30)
    pairs = set(zip(result["series"], result["benchmark"]))
    assert ("fet", "fet") not in pairs and ("wld", "fet") in pairs and ("fet", "bitcoin") in pairs
    assert (result["window"] == 30).all() and result.attrs == {}


def test_bad_windows_are_refused(data):
    tokens, btc = data
    with pytest.raises(AnalysisError, match="at least 3"):
        rolling_correlation(tokens, btc, window=2)
    with pytest.raises(AnalysisError, match="min_periods"):
        rolling_correlation(tokens, btc, window=10, min_periods=11)
    with pytest.raises(AnalysisError, match="method"):
        rolling_correlation(tokens, btc, method="kendall")
