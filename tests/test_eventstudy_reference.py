"""Every statistic against a hand-worked case computed from the formulas in plain Python.

The reference numbers live in tests/results/eventstudy_reference.json, written by
tests/results/eventstudy_reference.py (loops over lists, MacKinlay's matrix form for CAR
variances, exact Wilcoxon by enumeration; it never imports the tracker).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import TESTS, EventStudy

RESULTS = Path(__file__).resolve().parent / "results"
REFERENCE = json.loads((RESULTS / "eventstudy_reference.json").read_text())
MODELS = ["market", "mean", "market-adjusted"]


def _inputs():
    inputs = REFERENCE["inputs"]
    index = pd.DatetimeIndex(inputs["dates"])
    returns = pd.DataFrame({s: [np.nan if v is None else v for v in values] for s, values in inputs["returns"].items()}, index=index)
    market = pd.Series(inputs["market"], index=index, name="M")
    events = pd.DataFrame(inputs["events"])
    return returns, market, events, inputs


@pytest.fixture(scope="module", params=MODELS)
def fitted(request):
    returns, market, events, inputs = _inputs()
    study = EventStudy(
        returns,
        market,
        events,
        model=request.param,
        estimation_window=tuple(inputs["estimation_window"]),
        event_windows=[tuple(w) for w in inputs["event_windows"]],
        min_estimation_obs=10,
    )
    return request.param, study.fit(), REFERENCE["models"][request.param]


def test_reference_file_is_what_its_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("eventstudy_reference", RESULTS / "eventstudy_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.OUT = tmp_path / "out.json"
    module.main()
    assert json.loads(module.OUT.read_text()) == REFERENCE


def test_estimation_figures(fitted):
    model, results, ref = fitted
    got = results.estimation.set_index(["event_id", "security"])
    assert len(got) == len(ref["estimation"]) == 7
    for row in ref["estimation"]:
        mine = got.loc[(row["event_id"], row["security"])]
        assert mine["n_obs"] == row["n_obs"] and mine["df"] == row["df"]
        for key in ("alpha", "beta", "sigma", "r_squared"):
            if row[key] is None:
                assert np.isnan(mine[key]) or model == "market-adjusted"
            else:
                assert mine[key] == pytest.approx(row[key], rel=1e-10, abs=1e-14), key


def test_abnormal_returns_and_their_variance(fitted):
    _, results, ref = fitted
    long = results.abnormal_returns_long
    for row in ref["ar"]:
        mine = long[(long["event_id"] == row["event_id"]) & (long["security"] == row["security"])].sort_values("relative_period")
        np.testing.assert_allclose(mine["abnormal_return"], row["ar"], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(mine["sd_abnormal_return"], row["ar_sd"], rtol=1e-10)
        np.testing.assert_allclose(mine["standardized_ar"] * mine["sd_abnormal_return"], row["ar"], rtol=1e-10, atol=1e-14)
        wide = results.abnormal_returns[(row["event_id"], row["security"])]
        np.testing.assert_allclose(wide.to_numpy(), row["ar"], rtol=1e-10, atol=1e-14)


def test_cars_and_mackinlay_variance(fitted):
    _, results, ref = fitted
    got = results.car.set_index(["event_id", "security", "window"])
    for row in ref["car"]:
        mine = got.loc[(row["event_id"], row["security"], row["window"])]
        assert mine["car"] == pytest.approx(row["car"], rel=1e-10, abs=1e-14)
        assert mine["sd_car"] == pytest.approx(row["sd_car"], rel=1e-10)
    caar = results.caar.set_index("window")["caar"]
    for window in caar.index:
        assert caar[window] == pytest.approx(np.mean([r["car"] for r in ref["car"] if r["window"] == window]), rel=1e-10)


@pytest.mark.parametrize("test", list(TESTS))
def test_every_statistic_matches_its_formula(fitted, test):
    _, results, ref = fitted
    table = results.tests.set_index(["test", "scope", "window"])
    rows = [r for r in ref["tests"] if r["test"] == test]
    assert len(rows) == 4 + 3  # days -1..2 and three windows
    for row in rows:
        mine = table.loc[(test, row["scope"], row["window"])]
        assert mine["statistic"] == pytest.approx(row["statistic"], rel=1e-9, abs=1e-12), (row["scope"], row["window"])
        assert mine["p_value"] == pytest.approx(row["p_value"], rel=1e-8, abs=1e-14), (row["scope"], row["window"])
        if row["df"] is None:
            assert np.isnan(mine["df"])
        else:
            assert mine["df"] == row["df"]
        assert mine["n"] == 7
        assert bool(mine["robust_to_cross_correlation"]) == TESTS[test].robust


def test_intermediate_figures(fitted):
    _, results, ref = fitted
    assert results.clustering["mean_residual_correlation"] == pytest.approx(ref["rbar"], rel=1e-10)
    assert results.diagnostics["estimation_aar_sd"] == pytest.approx(ref["sd_aar_estimation"], rel=1e-10)
    assert results.diagnostics["estimation_aar_periods"] == ref["aar_estimation_days"] == 11  # the day D lacks is dropped
    assert results.diagnostics["positive_share_estimation"] == pytest.approx(ref["p_hat"], rel=1e-12)


def test_clustering_share(fitted):
    _, results, _ = fitted
    expected = REFERENCE["clustering"]
    assert results.clustering["share_same_period"] == pytest.approx(expected["share_same_period"])
    assert results.clustering["event_periods"] == expected["event_periods"]
    assert results.clustering["largest_cluster"] == expected["largest_cluster"]
