"""Calendar-time portfolio regression against an independent statsmodels computation."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import EventStudy
from tracker.analysis.eventstudy.calendar_time import newey_west_lags
from tracker.errors import InputError

from .evidence_reference import calendar_time_reference
from .test_placebo import EVENT, WINDOWS, panel


def test_calendar_time_equals_statsmodels_for_every_window():
    returns, market = panel(effect=0.02)
    results = EventStudy(returns, market, {"e": "2024-02-15T18:00:00Z"}, event_windows=WINDOWS, calendar_time=True,
                         diagnostics=False).fit()
    table = results.calendar_time.set_index("window")
    for window in WINDOWS:
        label = f"[{window[0]}, {window[1]}]"
        ref = calendar_time_reference(returns, market, EVENT, (-130, -11), window)
        for column in ("g", "car", "statistic", "p_value"):
            assert table.loc[label, column] == pytest.approx(ref[column], abs=1e-6), (label, column)
        assert table.loc[label, "nobs"] == ref["nobs"] == 120 + window[1] - window[0] + 1
    assert table.loc["[0, 5]", "maxlags"] == newey_west_lags(126) == 4
    # One dummy period is fitted exactly: its HAC error is blind to the event's variance, and says so.
    assert table.loc["[0, 0]", "note"].startswith("one event period") and table.loc["[0, 5]", "note"] == ""


def test_cap_weights_use_the_previous_periods_caps():
    returns, market = panel(n=3)
    caps = pd.DataFrame({"T0": 1.0, "T1": 3.0, "T2": 0.0}, index=returns.index)
    caps.loc["2024-02-10":, "T2"] = 4.0  # caps change: the weights follow one period later
    equal = EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=[(0, 0)], calendar_time=True, diagnostics=False).fit()
    capped = EventStudy(returns, market, {"e": "2024-02-15"}, event_windows=[(0, 0)], calendar_time=True,
                        portfolio_weights="cap", caps=caps, diagnostics=False).fit()
    assert capped.calendar_time["weights"].iloc[0] == "cap"
    assert capped.calendar_time["g"].iloc[0] != pytest.approx(equal.calendar_time["g"].iloc[0])
    # By hand: on day 0 the weights are 1:3:4 (caps of the day before).
    row = returns.loc[EVENT]
    manual = (row["T0"] * 1 + row["T1"] * 3 + row["T2"] * 4) / 8
    import statsmodels.api as sm
    position = returns.index.get_loc(EVENT)
    rows = list(range(position - 130, position - 10)) + [position]
    prev = caps.shift(1).iloc[rows]
    y = (returns.iloc[rows] * prev).sum(axis=1) / prev.sum(axis=1)
    assert y.iloc[-1] == pytest.approx(manual)
    x = np.column_stack([np.ones(len(rows)), market.iloc[rows], [0] * 120 + [1]])
    fit = sm.OLS(y.to_numpy(), x).fit(cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(121)})
    assert capped.calendar_time["g"].iloc[0] == pytest.approx(fit.params[2], abs=1e-9)
    assert capped.calendar_time["p_value"].iloc[0] == pytest.approx(fit.pvalues[2], abs=1e-9)


def test_cap_weights_need_caps():
    returns, market = panel(n=2)
    with pytest.raises(InputError, match="portfolio_weights"):
        EventStudy(returns, market, {"e": "2024-02-15"}, calendar_time=True, portfolio_weights="cap")
