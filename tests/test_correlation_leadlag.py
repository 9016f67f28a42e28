"""Lead-lag and Granger causality: planted leads found, statsmodels reproduced, gaps never bridged."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tsa.api import VAR
from statsmodels.tsa.stattools import grangercausalitytests

from tracker.analysis.correlation import (
    cross_correlation,
    granger_causality,
    granger_test,
    lead_lag_summary,
    move_timing,
    select_lag_order,
)
from tracker.analysis.correlation.granger import lag_matrix
from tracker.errors import AnalysisError


def planted_lead(k: int, rows: int = 800, seed: int = 0, freq: str = "h") -> pd.DataFrame:
    """y follows x k periods later: y_t = 0.6 x_{t-k} + noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows + k)
    y = 0.6 * x[:rows] + rng.normal(size=rows) * 0.8
    index = pd.date_range("2024-02-01", periods=rows, freq=freq)
    return pd.DataFrame({"x": x[k:], "y": y}, index=index)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_planted_lead_is_found_at_its_lag(k):
    frame = planted_lead(k)
    ccf = cross_correlation(frame, [("x", "y"), ("y", "x")], max_lag=10)
    summary = lead_lag_summary(ccf).set_index(["x", "y"])
    assert summary.loc[("x", "y"), "peak_lag"] == k and summary.loc[("x", "y"), "leader"] == "x"
    assert summary.loc[("y", "x"), "peak_lag"] == -k and summary.loc[("y", "x"), "leader"] == "x"
    assert summary.loc[("x", "y"), "peak_corr"] == pytest.approx(0.6, abs=0.08)
    assert summary.loc[("x", "y"), "lead_periods"] == k and summary.loc[("x", "y"), "p_peak_bonferroni"] < 1e-10


def test_cross_correlation_matches_pandas_shifts_with_gaps():
    frame = planted_lead(2, rows=300)
    frame.iloc[50:60, 0] = np.nan
    frame.iloc[::17, 1] = np.nan
    ccf = cross_correlation(frame, [("x", "y")], max_lag=4).set_index("lag")
    for lag in range(-4, 5):
        expected = frame["x"].corr(frame["y"].shift(-lag))
        count = (frame["x"].notna() & frame["y"].shift(-lag).notna()).sum()
        assert ccf.loc[lag, "corr"] == pytest.approx(expected, abs=1e-12)
        assert ccf.loc[lag, "n"] == count


def test_no_lead_gives_same_period_and_short_overlap_gives_nan():
    rng = np.random.default_rng(9)
    common = rng.normal(size=200)
    frame = pd.DataFrame({"a": common + rng.normal(size=200) * 0.3, "b": common + rng.normal(size=200) * 0.3},
                         index=pd.date_range("2024-01-01", periods=200))
    summary = lead_lag_summary(cross_correlation(frame, [("a", "b")], max_lag=5))
    assert summary.loc[0, "leader"] == "same period" and summary.loc[0, "peak_lag"] == 0
    short = cross_correlation(frame.iloc[:25], [("a", "b")], max_lag=8, min_overlap=20)
    assert short.loc[short["lag"].abs() > 5, "corr"].isna().all()
    assert short.loc[short["lag"] == 8, "n"].item() == 17


def test_move_timing_orders_who_moved_first():
    index = pd.date_range("2024-02-12", periods=8, freq="D")
    # wld makes its gain on day 2-3, fet on days 5-6; btc falls.
    returns = pd.DataFrame(
        {"wld": [0, 0.3, 0.3, 0, 0, 0, 0, -0.01], "fet": [0, 0, 0, 0, 0.2, 0.2, 0, 0], "btc": [0, -0.05, 0, 0, 0, -0.05, 0, 0]},
        index=index,
    )
    timing = move_timing(returns).set_index("series")
    assert timing.loc["wld", "reached_at"] == pd.Timestamp("2024-02-13") and timing.loc["wld", "order"] == 1
    assert timing.loc["fet", "reached_at"] == pd.Timestamp("2024-02-16")
    assert timing.loc["fet", "hours_after_first"] == 72
    assert timing.loc["btc", "move"] == pytest.approx(-0.1) and timing.loc["btc", "reached_at"] == pd.Timestamp("2024-02-13")
    assert timing.loc["wld", "extreme_at"] == pd.Timestamp("2024-02-14") and timing.loc["wld", "move"] == pytest.approx(0.6)


# ---------------------------------------------------------------- Granger


def var_data(rows=600, seed=4):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=rows), np.zeros(rows)
    for t in range(3, rows):
        y[t] = 0.35 * x[t - 2] + 0.2 * y[t - 1] + rng.normal()
    return x, y


def test_lag_selection_equals_statsmodels_var():
    x, y = var_data()
    ours = select_lag_order(x, y, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = VAR(np.column_stack([y, x])).select_order(8)
    np.testing.assert_allclose(ours["aic"], theirs.ics["aic"], atol=1e-10)
    np.testing.assert_allclose(ours["bic"], theirs.ics["bic"], atol=1e-10)
    assert int(ours["aic"].idxmin()) == theirs.selected_orders["aic"]
    assert int(ours["bic"].idxmin()) == theirs.selected_orders["bic"] == 2


def test_granger_f_test_equals_statsmodels():
    x, y = var_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = grangercausalitytests(np.column_stack([y, x]), [1, 2, 4])
    for lag in (1, 2, 4):
        ours = granger_test(x, y, lag)
        f_stat, p_value, df_denom, df_num = theirs[lag][0]["ssr_ftest"]
        assert ours["f_stat"] == pytest.approx(f_stat, rel=1e-9)
        assert ours["p_value"] == pytest.approx(p_value, rel=1e-6, abs=1e-300)
        assert (ours["df_denom"], ours["df_num"]) == (df_denom, df_num)


def test_planted_causality_direction_is_found():
    x, y = var_data()
    frame = pd.DataFrame({"x": x, "y": y}, index=pd.date_range("2024-01-01", periods=len(x), freq="h"))
    result = granger_causality(frame, [("x", "y")], max_lag=6, criterion="bic").set_index(["cause", "effect"])
    assert result.loc[("x", "y"), "selected_lag"] == 2 and result.loc[("x", "y"), "p_value"] < 1e-6
    assert result.loc[("y", "x"), "p_value"] > 0.01
    fixed = granger_causality(frame, [("x", "y")], lag=3)
    assert (fixed["lag"] == 3).all() and (fixed["criterion"] == "fixed").all() and fixed["selected_lag"].isna().all()


def test_granger_never_uses_a_lag_across_a_gap():
    x, y = var_data(rows=300)
    x_gap, y_gap = x.copy(), y.copy()
    y_gap[100] = np.nan  # one missing return
    ours = granger_test(x_gap, y_gap, 2)
    # Rows needing y[100] as the target or as lag 1 or 2 (rows 100, 101, 102) are left out,
    # plus the first two rows that have no lags.
    assert ours["n"] == 300 - 2 - 3
    keep = np.ones(300, bool)
    keep[[0, 1, 100, 101, 102]] = False
    design_y, design_x = lag_matrix(y_gap, 2), lag_matrix(x_gap, 2)
    import statsmodels.api as sm

    unrestricted = sm.OLS(y_gap[keep], sm.add_constant(np.column_stack([design_y[keep], design_x[keep]]))).fit()
    restricted = sm.OLS(y_gap[keep], sm.add_constant(design_y[keep])).fit()
    f_stat, p_value, _ = unrestricted.compare_f_test(restricted)
    assert ours["f_stat"] == pytest.approx(f_stat, rel=1e-9) and ours["p_value"] == pytest.approx(p_value, rel=1e-6)


def test_granger_errors():
    frame = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10.0) ** 0.5}, index=pd.date_range("2024-01-01", periods=10))
    with pytest.raises(AnalysisError, match="usable rows"):
        granger_causality(frame, [("x", "y")], max_lag=5)
    with pytest.raises(AnalysisError, match="criterion"):
        granger_causality(frame, [("x", "y")], criterion="hqic")
    with pytest.raises(AnalysisError, match="no returns for z"):
        granger_causality(frame, [("x", "z")])
