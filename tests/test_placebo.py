"""Placebo inference: the vectorised engine against a plain-Python loop over pseudo-event days."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import EventStudy
from tracker.errors import AnalysisError, InputError

from .evidence_reference import placebo_reference

WINDOWS = [(0, 0), (-1, 1), (0, 5)]
EVENT = pd.Timestamp("2024-02-15")


def panel(seed: int = 7, n: int = 8, effect: float = 0.03):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2022-09-01", "2024-03-31", freq="D")
    market = pd.Series(rng.normal(0.001, 0.03, len(days)), index=days, name="BTC")
    common = rng.normal(0, 0.015, len(days))
    returns = pd.DataFrame({f"T{i}": 0.0005 + (0.8 + 0.1 * i) * market + common + rng.normal(0, 0.04, len(days))
                            for i in range(n)}, index=days)
    returns.loc["2024-02-15":"2024-02-18"] += effect
    returns.loc[:"2023-09-01", "T3"] = np.nan  # listed late: left out of the placebo, kept in the study
    return returns, market


@pytest.mark.parametrize("model", ["market", "mean", "market-adjusted"])
def test_placebo_p_values_equal_the_loop_reference(model):
    returns, market = panel()
    rng = (-60, -20)
    results = EventStudy(returns, market, {"e": "2024-02-15T18:00:00Z"}, model=model, event_windows=WINDOWS,
                         placebo=f"{rng[0]}:{rng[1]}", diagnostics=False).fit()
    reference = placebo_reference(returns, market, EVENT, (-130, -11), WINDOWS, rng, model)
    table = results.placebo.table.set_index("window")
    for label, (caar, p, n_d, securities) in reference.items():
        assert table.loc[label, "caar"] == pytest.approx(caar, abs=1e-9)
        assert table.loc[label, "p_value"] == pytest.approx(p, abs=1e-6)
        assert table.loc[label, "n_pseudo"] == n_d == 41
        assert table.loc[label, "n_securities"] == len(securities) == 7
    assert list(results.placebo.excluded["security"]) == ["T3"]
    assert results.n == 8


def test_placebo_pseudo_caars_equal_the_loop_at_every_day():
    returns, market = panel(seed=3, n=4)
    results = EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=[(0, 2)], placebo="-30:-25", diagnostics=False).fit()
    pseudo = results.placebo.pseudo
    assert list(pseudo["relative_period"]) == list(range(-30, -24))
    for d in range(-30, -24):
        shifted = placebo_reference(returns, market, EVENT + pd.Timedelta(days=d), (-130, -11), [(0, 2)], (0, 0))
        assert pseudo.loc[pseudo["relative_period"] == d, "caar"].iloc[0] == pytest.approx(shifted["[0, 2]"][0], abs=1e-9)


def test_default_placebo_has_231_pseudo_events_and_a_percentile():
    returns, market = panel(effect=0.10)
    results = EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=WINDOWS, placebo=True, diagnostics=False).fit()
    table = results.placebo.table.set_index("window")
    assert (table["n_pseudo"] == 231).all()
    # A 10% a day effect over four days: the real CAAR beats every pseudo-event.
    assert table.loc["[0, 5]", "p_value"] == pytest.approx(1 / 232)
    assert table.loc["[0, 5]", "percentile"] == 100.0
    assert results.settings["placebo_range"] == "[-250, -20]"


def test_placebo_refuses_a_range_that_reaches_the_event():
    returns, market = panel()
    with pytest.raises(InputError, match="placebo_range.*end it before -6"):
        EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=WINDOWS, placebo="-100:-3")


def test_placebo_without_complete_history_fails_with_one_line():
    returns, market = panel()
    with pytest.raises(AnalysisError, match="no security-event has complete returns"):
        EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=WINDOWS, placebo="-600:-20").fit()
