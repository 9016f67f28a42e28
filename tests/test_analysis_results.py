"""One results interface: every analysis' results carry frozen settings, a summary, tidy
frames and JSON that round-trips through json.loads."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.correlation import correlation_matrix, rolling_correlation, to_returns
from tracker.analysis.correlation.results import CorrelationResults
from tracker.analysis.eventstudy import EventStudy
from tracker.analysis.gpu import estimate, load_assumptions
from tracker.analysis.gpu.sensitivity import sensitivity
from tracker.analysis.results import AnalysisResults, Settings, SettingsMap


def _event_study():
    rng = np.random.default_rng(3)
    index = pd.date_range("2023-01-01", periods=160, freq="D")
    market = pd.Series(rng.normal(0, 0.02, 160), index=index, name="mkt")
    returns = pd.DataFrame(0.8 * market.to_numpy()[:, None] + rng.normal(0, 0.02, (160, 8)), index=index,
                           columns=[f"s{i}" for i in range(8)])
    return EventStudy(returns, market, {"e1": index[150]}, event_windows=[(0, 0), (-1, 1)]).fit()


def _matrix():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "c"],
                         index=pd.date_range("2023-01-01", periods=120, freq="D"))
    return correlation_matrix(frame, min_overlap=20)


RESULTS = {
    "event study": _event_study,
    "correlation matrix": _matrix,
    "gpu estimate": lambda: estimate(load_assumptions()),
    "gpu sensitivity": lambda: sensitivity(load_assumptions()),
}


@pytest.mark.parametrize("name", sorted(RESULTS))
def test_every_analysis_offers_the_common_interface(name):
    results = RESULTS[name]()
    assert isinstance(results, AnalysisResults)
    assert isinstance(results.settings, Settings) and dataclasses.is_dataclass(results.settings)
    first = next(iter(results.settings))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(results.settings, dataclasses.fields(results.settings)[0].name, "changed")
    assert results.settings[first] == results.settings.as_dict()[first]
    summary = results.summary()
    assert isinstance(summary, str) and summary.strip()
    frames = results.to_frames()
    assert frames and all(isinstance(k, str) and isinstance(v, pd.DataFrame) for k, v in frames.items())
    payload = json.loads(results.to_json())
    assert isinstance(payload, dict) and payload


def test_event_study_json_carries_its_settings_and_every_frame():
    results = _event_study()
    payload = json.loads(results.to_json())
    assert payload["settings"]["model"] == results.settings.model == results.settings["model"] == "market"
    assert payload["settings"]["event_windows"] == ["[0, 0]", "[-1, 1]"]
    assert set(results.to_frames()) <= set(payload)


def test_matrix_settings_no_longer_ride_on_the_tidy_frame():
    result = _matrix()
    assert result.tidy().attrs == {}
    assert result.settings["min_overlap"] == 20 and result.settings.as_dict()["method"] == "pearson"
    assert json.loads(result.to_json())["settings"]["min_overlap"] == 20


def test_settings_map_is_read_only():
    settings = SettingsMap({"window": 30})
    with pytest.raises(TypeError):
        settings.entries["window"] = 31
    assert settings == {"window": 30} and dict(settings) == {"window": 30}


def test_correlation_results_carry_the_settings_the_frames_do_not():
    rng = np.random.default_rng(9)
    index = pd.date_range("2023-01-01", periods=80, freq="D")
    returns = to_returns(pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.02, (80, 2)), axis=0)),
                                      index=index, columns=["a", "b"]))
    frame = rolling_correlation(returns[["a"]], returns["b"], window=20)
    assert frame.attrs == {}  # the plain-frame function returns a plain frame
    results = CorrelationResults.of("rolling", {"rolling": frame}, {"window": 20, "min_periods": 16})
    assert results.frame is frame and frame.attrs == {}
    assert results.settings["window"] == 20 and isinstance(results, AnalysisResults)
    assert "window" in results.summary() and set(results.to_frames()) == {"rolling"}
    payload = json.loads(results.to_json())
    assert payload["settings"]["window"] == 20 and len(payload["rolling"]) == len(frame)
