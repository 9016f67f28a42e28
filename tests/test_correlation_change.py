"""Pre- against post-event correlations and Fisher's z test: formula, power, size, windows."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tracker.analysis.correlation import all_pairs, correlation_change, event_windows, fisher_z_test, pairs_against
from tracker.errors import AnalysisError


def test_fisher_z_by_hand():
    z, p = fisher_z_test(0.5, 50, 0.8, 60)
    expected = (math.atanh(0.8) - math.atanh(0.5)) / math.sqrt(1 / 47 + 1 / 57)
    assert z == pytest.approx(expected) and z == pytest.approx(2.7879, abs=1e-4)
    assert p == pytest.approx(2 * stats.norm.sf(expected))
    z_s, _ = fisher_z_test(0.5, 50, 0.8, 60, method="spearman")
    assert z_s == pytest.approx(expected / math.sqrt(1.06))
    z_nan, p_nan = fisher_z_test(0.5, 3, 0.8, 60)
    assert np.isnan(z_nan) and np.isnan(p_nan)


def correlated(rng, n, r):
    draws = rng.multivariate_normal([0, 0], [[1, r], [r, 1]], size=n)
    return draws[:, 0], draws[:, 1]


def event_frame(rng, pairs: int, n_pre: int, n_post: int, r_pre: float, r_post: float) -> pd.DataFrame:
    index = pd.date_range("2024-01-01", periods=n_pre + n_post, freq="D", name="day")
    columns = {}
    for k in range(pairs):
        x1, y1 = correlated(rng, n_pre, r_pre)
        x2, y2 = correlated(rng, n_post, r_post)
        columns[f"x{k}"], columns[f"y{k}"] = np.r_[x1, x2], np.r_[y1, y2]
    return pd.DataFrame(columns, index=index)


def test_planted_change_is_detected():
    rng = np.random.default_rng(1)
    frame = event_frame(rng, 1, 60, 60, 0.8, 0.1)
    result = correlation_change(frame, "2024-03-01T18:00", 60, 60, pairs=[("x0", "y0")])
    row = result.iloc[0]
    assert row["n_pre"] == 60 and row["n_post"] == 60
    assert row["r_pre"] == pytest.approx(0.8, abs=0.1) and row["r_post"] == pytest.approx(0.1, abs=0.2)
    assert row["z"] < 0 and row["p_value"] < 1e-4
    assert row["r_pre"] == pytest.approx(np.corrcoef(frame["x0"][:60], frame["y0"][:60])[0, 1])


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_no_change_is_rejected_at_about_the_nominal_rate(method):
    rng = np.random.default_rng(2024)
    replications = 600
    frame = event_frame(rng, replications, 40, 40, 0.5, 0.5)
    pairs = [(f"x{k}", f"y{k}") for k in range(replications)]
    result = correlation_change(frame, "2024-02-10", 40, 40, pairs=pairs, method=method)
    rate = (result["p_value"] < 0.05).mean()
    # Binomial sd at 5% with 600 draws is 0.9 points.
    assert 0.025 <= rate <= 0.08, rate
    assert (result["p_adj"] >= result["p_value"] - 1e-12).all()


def test_event_period_and_windows_on_daily_and_hourly_grids():
    days = pd.date_range("2024-01-01", "2024-04-30", freq="D")
    daily = event_windows(days, pd.Timestamp("2024-02-15 18:00"), pd.Timedelta(days=1), 30, 30)
    assert daily["event_period"] == pd.Timestamp("2024-02-15")
    assert daily["pre_start"] == pd.Timestamp("2024-01-16") and daily["pre_end"] == pd.Timestamp("2024-02-15")
    assert daily["post_end"] == pd.Timestamp("2024-03-16")
    hours = pd.date_range("2024-02-01", "2024-02-28", freq="h")
    hourly = event_windows(hours, "2024-02-15T18:00:00+00:00", pd.Timedelta(hours=1), "72h", 48, gap=6)
    assert hourly["event_period"] == pd.Timestamp("2024-02-15 18:00")
    assert hourly["pre_end"] == pd.Timestamp("2024-02-15 12:00")
    assert hourly["pre_start"] == pd.Timestamp("2024-02-12 12:00")
    assert hourly["post_end"] == pd.Timestamp("2024-02-17 18:00")


def test_windows_count_returns_and_gaps_reduce_n():
    rng = np.random.default_rng(3)
    frame = event_frame(rng, 1, 50, 50, 0.6, 0.6)
    frame.iloc[45:50, 0] = np.nan  # five missing returns just before the event
    result = correlation_change(frame, "2024-02-20", 20, 10, pairs=[("x0", "y0")])
    assert result.loc[0, "n_pre"] == 15 and result.loc[0, "n_post"] == 10
    # The windows are event_windows of the same arguments; the frame carries no settings.
    assert event_windows(frame.index, "2024-02-20", pd.Timedelta(days=1), 20, 10)["pre_start"] == pd.Timestamp("2024-01-31")
    assert result.attrs == {}
    short = correlation_change(frame, "2024-02-20", 20, 10, pairs=[("x0", "y0")], min_overlap=16)
    assert np.isnan(short.loc[0, "r_pre"]) and short.loc[0, "n_pre"] == 15 and np.isnan(short.loc[0, "p_value"])


def test_pairings():
    assert pairs_against(["fet", "bitcoin"], ["bitcoin", "ethereum"]) == [("fet", "bitcoin"), ("fet", "ethereum"), ("bitcoin", "ethereum")]
    assert all_pairs(["a", "b", "c", "a"]) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_errors_name_the_problem():
    rng = np.random.default_rng(4)
    frame = event_frame(rng, 1, 30, 30, 0.5, 0.5)
    with pytest.raises(AnalysisError, match="do not cover the windows"):
        correlation_change(frame, "2025-01-01", 10, 10)
    with pytest.raises(AnalysisError, match="no returns for nope"):
        correlation_change(frame, "2024-01-31", 10, 10, pairs=[("x0", "nope")])
    with pytest.raises(AnalysisError, match="not a number of periods"):
        correlation_change(frame, "2024-01-31", "ten", 10)
    with pytest.raises(AnalysisError, match="pre must be positive"):
        correlation_change(frame, "2024-01-31", 0, 10)
