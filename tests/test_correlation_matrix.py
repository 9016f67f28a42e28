"""The correlation matrix: pairwise overlaps, agreement with pandas and scipy, planted structure."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tracker.analysis.correlation import correlation_matrix, correlation_p_value, pairwise_correlation, to_json
from tracker.analysis.correlation.clustering import cluster_order, correlation_distance
from tracker.errors import AnalysisError


def gappy_returns(seed=11, rows=300):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=rows)
    frame = pd.DataFrame(
        {
            "a": base + rng.normal(size=rows),
            "b": rng.normal(size=rows),
            "c": base + rng.normal(size=rows) * 0.5,
            "d": rng.standard_t(3, size=rows),
            "e": rng.normal(size=rows),
            "f": base * 0.5 + rng.normal(size=rows),  # same (full) coverage as "a": ranked in one block
        },
        index=pd.date_range("2023-01-01", periods=rows, freq="D"),
    )
    frame.iloc[:120, 1] = np.nan                                # listed late
    frame.iloc[rng.choice(rows, 40, replace=False), 2] = np.nan  # scattered holes
    frame.iloc[150:190, 3] = np.nan                             # an outage
    frame.iloc[:285, 4] = np.nan                                # only 15 returns
    frame.iloc[::10, 3] = np.round(frame.iloc[::10, 3], 1)       # some ties for Spearman
    return frame


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_pairwise_matches_pandas_with_missing_data(method):
    returns = gappy_returns()
    corr, n = pairwise_correlation(returns, method, min_overlap=20)
    expected = returns.corr(method=method, min_periods=20)
    np.testing.assert_allclose(corr.to_numpy(), expected.to_numpy(), atol=1e-12, equal_nan=True)
    counts = returns.notna().astype(int)
    assert (n.to_numpy() == (counts.T @ counts).to_numpy()).all()


def test_overlap_below_minimum_is_nan_with_its_count():
    returns = gappy_returns()
    corr, n = pairwise_correlation(returns, min_overlap=20)
    assert n.loc["e", "a"] == 15 and np.isnan(corr.loc["e", "a"]) and np.isnan(corr.loc["e", "e"])
    corr_low, _ = pairwise_correlation(returns, min_overlap=10)
    assert np.isfinite(corr_low.loc["e", "a"])


def test_p_values_equal_scipy():
    returns = gappy_returns()
    for method, test in (("pearson", stats.pearsonr), ("spearman", stats.spearmanr)):
        result = correlation_matrix(returns, method, min_overlap=20)
        both = returns[["a", "c"]].dropna()
        expected = test(both["a"], both["c"])
        assert result.corr.loc["a", "c"] == pytest.approx(expected.statistic, abs=1e-12)
        assert result.p_value.loc["a", "c"] == pytest.approx(expected.pvalue, rel=1e-6)
        assert result.n.loc["a", "c"] == len(both)
    assert np.isnan(correlation_p_value(0.5, 2)) and correlation_p_value(1.0, 10) == 0.0


def test_planted_correlations_are_recovered():
    rng = np.random.default_rng(5)
    target = np.array([[1.0, 0.7, 0.0], [0.7, 1.0, -0.4], [0.0, -0.4, 1.0]])
    draws = rng.multivariate_normal(np.zeros(3), target, size=4000)
    frame = pd.DataFrame(draws, columns=list("xyz"), index=pd.date_range("2015-01-01", periods=4000, freq="D"))
    corr, _ = pairwise_correlation(frame)
    # Standard error of r near 0.7 with n = 4000 is about 0.008.
    np.testing.assert_allclose(corr.to_numpy(), target, atol=0.04)


def test_constant_series_has_no_correlation():
    frame = pd.DataFrame({"a": np.arange(50.0), "flat": 3.0}, index=pd.date_range("2024-01-01", periods=50))
    corr, n = pairwise_correlation(frame)
    assert np.isnan(corr.loc["a", "flat"]) and n.loc["a", "flat"] == 50


def test_clustering_puts_planted_groups_together():
    rng = np.random.default_rng(2)
    rows = 500
    one, two = rng.normal(size=rows), rng.normal(size=rows)
    columns = {}
    for i in range(4):
        columns[f"g1_{i}"] = one + rng.normal(size=rows) * 0.6
        columns[f"g2_{i}"] = two + rng.normal(size=rows) * 0.6
    frame = pd.DataFrame(columns, index=pd.date_range("2020-01-01", periods=rows))
    result = correlation_matrix(frame)
    groups = [label[:2] for label in result.order]
    assert groups in (["g1"] * 4 + ["g2"] * 4, ["g2"] * 4 + ["g1"] * 4)
    assert list(result.corr.columns) == result.order and result.tree is not None
    unclustered = correlation_matrix(frame, cluster=False)
    assert unclustered.order == list(frame.columns)


def test_distance_and_isolated_series():
    corr = pd.DataFrame([[1.0, 1.0, np.nan], [1.0, 1.0, np.nan], [np.nan, np.nan, 1.0]], index=list("abc"), columns=list("abc"))
    distance = correlation_distance(corr)
    assert distance.loc["a", "b"] == 0.0 and distance.loc["a", "c"] == pytest.approx(np.sqrt(0.5))
    order, tree = cluster_order(corr)
    assert order == ["a", "b", "c"] and tree is None


def test_tidy_and_json_report_n_for_every_pair():
    result = correlation_matrix(gappy_returns(), min_overlap=20)
    tidy = result.tidy()
    assert len(tidy) == 15 and set(tidy.columns) == {"x", "y", "method", "n", "corr", "p_value"}
    assert result.settings["min_overlap"] == 20
    payload = json.loads(result.to_json())
    assert payload["order"] == result.order and len(payload["pairs"]) == 15
    short = [p for p in payload["pairs"] if "e" in (p["x"], p["y"])]
    assert all(p["corr"] is None and p["n"] <= 15 for p in short)
    via_helper = json.loads(to_json(result))
    assert via_helper["settings"]["method"] == "pearson" and len(via_helper["pairs"]) == 15


def test_bad_arguments():
    with pytest.raises(AnalysisError, match="method"):
        pairwise_correlation(gappy_returns(), "kendall")
    with pytest.raises(AnalysisError, match="min_overlap"):
        pairwise_correlation(gappy_returns(), min_overlap=2)
