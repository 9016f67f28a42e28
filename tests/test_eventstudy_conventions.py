"""Conventions: inclusive windows, day 0 and the day boundary, hourly periods, equity-calendar
benchmarks, log returns, exclusions with reasons, bad input, exports and charts."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import EventStudy, align_benchmark, as_window, parse_windows, returns_from_prices
from tracker.analysis.eventstudy.caar_charts import caar_band, caar_chart, car_bar_chart
from tracker.analysis.eventstudy.files import read_events_csv, read_returns_csv
from tracker.analysis.plotting import to_svg
from tracker.errors import AnalysisError, InputError


def panel(periods=200, securities=4, freq="D", start="2023-09-01", seed=0):
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=periods, freq=freq)
    market = pd.Series(rng.normal(0, 0.02, periods), index=index, name="BTC")
    values = 0.9 * market.to_numpy()[:, None] + rng.normal(0, 0.03, (periods, securities))
    return pd.DataFrame(values, index=index, columns=[f"S{i}" for i in range(securities)]), market


# ---- windows ------------------------------------------------------------------------------
def test_windows_are_inclusive_and_parsed_strictly():
    assert as_window("-130:-11").length == 120
    assert parse_windows("0:0,-1:1,0:5,0:0") == [as_window((0, 0)), as_window((-1, 1)), as_window((0, 5))]
    for bad, message in [("-11:-130", "starts after it ends"), ("a:b", "must be START:END"), ("5", "must be START:END")]:
        with pytest.raises(InputError, match=message):
            as_window(bad)
    returns, market = panel()
    results = EventStudy(returns, market, {"e": returns.index[150]}).fit()
    assert (results.estimation["n_obs"] == 120).all() and (results.estimation["df"] == 118).all()
    with pytest.raises(InputError, match="overlaps event window"):
        EventStudy(returns, market, {"e": returns.index[150]}, estimation_window=(-30, 0))


# ---- day 0 --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "announced, boundary, day0",
    [
        ("2024-02-15T18:00:00Z", "00:00", "2024-02-15"),
        ("2024-02-15T00:00:00Z", "00:00", "2024-02-15"),  # midnight opens the new day
        ("2024-02-14T23:59:59Z", "00:00", "2024-02-14"),
        ("2024-02-15T10:00:00-08:00", "00:00", "2024-02-15"),  # offset converted to UTC
        ("2024-02-15T18:00:00Z", "16:00", "2024-02-16"),  # after a 16:00 UTC close: next period
        ("2024-02-15T15:59:00Z", "16:00", "2024-02-15"),
    ],
)
def test_day0_is_the_period_containing_the_announcement(announced, boundary, day0):
    returns, market = panel(start="2023-09-01", periods=220)
    results = EventStudy(returns, market, {"e": announced}, day_boundary=boundary).fit()
    assert (results.estimation["day0"] == pd.Timestamp(day0)).all()
    assert results.settings["day_boundary"] == boundary


def test_hourly_study_counts_hours_and_finds_the_announcement_hour():
    returns, market = panel(periods=24 * 30, freq="h", start="2024-01-20")
    announced = pd.Timestamp("2024-02-15T18:20:00")
    values = returns.to_numpy(copy=True)
    values[returns.index.get_loc(pd.Timestamp("2024-02-15T18:00"))] += 0.05
    returns = pd.DataFrame(values, index=returns.index, columns=returns.columns)
    results = EventStudy(returns, market, {"sora": announced}, estimation_window=(-240, -25), event_windows=[(0, 0), (0, 5)]).fit()
    assert results.settings["frequency"] == "hourly" and results.settings["day_boundary"] is None
    assert (results.estimation["day0"] == pd.Timestamp("2024-02-15T18:00")).all()
    assert (results.estimation["n_obs"] == 216).all()
    assert results.caar.set_index("window")["caar"]["[0, 0]"] == pytest.approx(0.05, abs=0.03)


def test_periods_other_than_daily_or_hourly_are_refused():
    returns, market = panel(periods=300, freq="15min")
    with pytest.raises(InputError, match="daily or hourly"):
        EventStudy(returns, market, {"e": returns.index[250]}).fit()


# ---- benchmark calendars ------------------------------------------------------------------
def _equity_case():
    rng = np.random.default_rng(4)
    days = pd.date_range("2023-06-01", "2024-03-31", freq="D")
    crypto = pd.DataFrame(
        100 * np.exp(np.cumsum(rng.normal(0, 0.03, (len(days), 3)), axis=0)), index=days, columns=["FET", "WLD", "GRT"]
    )
    weekdays = days[days.day_of_week < 5]
    equity = pd.Series(4000 * np.exp(np.cumsum(rng.normal(0, 0.01, len(weekdays)))), index=weekdays, name="SPX")
    return crypto, equity


def test_equity_benchmark_drop_compounds_weekends_into_monday():
    crypto, equity = _equity_case()
    saturday = pd.Timestamp("2024-02-17T15:00:00")
    results = EventStudy.from_prices(crypto, equity, {"e": saturday}, benchmark_gaps="drop").fit()
    assert (results.estimation["day0"] == pd.Timestamp("2024-02-19")).all()  # Saturday -> Monday
    long = results.abnormal_returns_long
    day0 = long[long["relative_period"] == 0].set_index("security")
    friday, monday = pd.Timestamp("2024-02-16"), pd.Timestamp("2024-02-19")
    for coin in crypto.columns:
        assert day0.loc[coin, "return"] == pytest.approx(crypto.loc[monday, coin] / crypto.loc[friday, coin] - 1)
    assert day0["benchmark_return"].iloc[0] == pytest.approx(equity[monday] / equity[friday] - 1)
    assert results.arrays.index.day_of_week.max() == 4  # only trading days remain
    assert (results.estimation["n_obs"] == 120).all()  # 120 trading days


def test_equity_benchmark_ffill_keeps_calendar_days_with_zero_weekend_returns():
    crypto, equity = _equity_case()
    results = EventStudy.from_prices(crypto, equity, {"e": "2024-02-17T15:00:00Z"}, benchmark_gaps="ffill").fit()
    assert (results.estimation["day0"] == pd.Timestamp("2024-02-17")).all()
    long = results.abnormal_returns_long
    saturday = long[long["period"] == pd.Timestamp("2024-02-17")]
    assert (saturday["benchmark_return"] == 0).all()


def test_equity_benchmark_without_alignment_leaves_weekend_events_out():
    crypto, equity = _equity_case()
    with pytest.raises(AnalysisError, match="missing returns in the event window"):
        EventStudy.from_prices(crypto, equity, {"e": "2024-02-17T15:00:00Z"}, benchmark_gaps="none").fit()


def test_align_benchmark_directly():
    index = pd.date_range("2024-01-01", periods=6, freq="D")
    returns = pd.DataFrame({"X": [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]}, index=index)
    market = pd.DataFrame({"M": [np.nan, 0.01, np.nan, np.nan, 0.02, np.nan]}, index=index)
    dropped_r, dropped_m = align_benchmark(returns, market, "drop")
    assert list(dropped_r.index) == [index[1], index[4]]
    assert dropped_r["X"].tolist() == pytest.approx([0.1, 1.1**3 - 1])
    logs, _ = align_benchmark(np.log1p(returns), market, "drop", kind="log")
    assert logs["X"].tolist() == pytest.approx([np.log(1.1), 3 * np.log(1.1)])
    _, filled = align_benchmark(returns, market, "ffill")
    assert filled["M"].tolist()[1:5] == [0.01, 0.0, 0.0, 0.02]
    assert np.isnan(filled["M"].iloc[0]) and np.isnan(filled["M"].iloc[5])
    with pytest.raises(InputError, match="gap policy"):
        align_benchmark(returns, market, "interpolate")


# ---- return kinds -------------------------------------------------------------------------
def test_log_returns_from_prices_and_car_as_arithmetic_sum():
    crypto, _ = _equity_case()
    btc = crypto["FET"].rename("BTC") * 0.5 + 10
    prices = crypto[["WLD", "GRT"]]
    results = EventStudy.from_prices(prices, btc, {"e": "2024-02-15T18:00:00Z"}, return_kind="log").fit()
    long = results.abnormal_returns_long
    row = long[(long["security"] == "WLD") & (long["relative_period"] == 0)].iloc[0]
    assert row["return"] == pytest.approx(np.log(prices.loc["2024-02-15", "WLD"] / prices.loc["2024-02-14", "WLD"]))
    car = results.car.set_index(["security", "window"])["car"]
    wld = long[long["security"] == "WLD"].set_index("relative_period")["abnormal_return"]
    assert car[("WLD", "[0, 5]")] == pytest.approx(wld.loc[0:5].sum())
    assert results.settings["return_kind"] == "log"
    simple = returns_from_prices(prices)
    assert simple.loc["2024-02-15", "WLD"] == pytest.approx(prices.loc["2024-02-15", "WLD"] / prices.loc["2024-02-14", "WLD"] - 1)


# ---- exclusions -----------------------------------------------------------------------------
def test_security_events_are_left_out_with_reasons():
    returns, market = panel(periods=220, securities=7)
    values = returns.to_numpy(copy=True)
    day0 = 180
    values[: day0 - 60, 0] = np.nan  # listed late: 50 of 120 estimation days
    values[:, 1] = np.where(np.arange(220) % 5 == 0, 0.01, 0.0)  # stale: mostly zero returns
    values[:, 2] = 0.001 + 1.3 * market.to_numpy()  # fits perfectly: zero residual variance
    values[day0 + 2, 3] = np.nan  # a hole in the event window
    returns = pd.DataFrame(values, index=returns.index, columns=returns.columns)
    events = pd.DataFrame(
        {"event_id": ["e", "late"], "timestamp": [returns.index[day0], "2030-01-01"], "security": ["all", "S4"]}
    )
    results = EventStudy(returns, market, events).fit()
    reasons = results.excluded.set_index(["event_id", "security"])
    assert reasons.loc[("e", "S0"), "reason"] == "too few estimation observations"
    assert reasons.loc[("e", "S0"), "detail"] == "50 of 120 (minimum 80)"
    assert reasons.loc[("e", "S1"), "reason"].startswith("stale prices")
    assert reasons.loc[("e", "S2"), "reason"] == "zero variance of estimation-window abnormal returns"
    assert reasons.loc[("e", "S3"), "reason"] == "missing returns in the event window"
    assert reasons.loc[("late", "S4"), "reason"] == "no period of the returns contains the event time"
    assert sorted(results.estimation["security"]) == ["S4", "S5", "S6"]
    assert "excluded: " in results.summary()
    # A lower minimum lets the late listing in.
    relaxed = EventStudy(returns, market, events, min_estimation_obs=40).fit()
    assert "S0" in set(relaxed.estimation["security"])


def test_constant_benchmark_is_reported():
    returns, market = panel()
    market[:] = 0.0
    with pytest.raises(AnalysisError, match="benchmark returns constant"):
        EventStudy(returns, market, {"e": returns.index[150]}).fit()


def test_other_events_can_be_dropped_from_the_estimation_window():
    returns, market = panel(periods=260)
    events = {"first": returns.index[150], "second": returns.index[200]}
    kept = EventStudy(returns, market, events).fit().estimation.set_index(["event_id", "security"])
    dropped = EventStudy(returns, market, events, exclude_other_events=True).fit().estimation.set_index(["event_id", "security"])
    # The second event's estimation window [70, 189] holds the first event's span [149, 155].
    assert (kept.xs("second")["n_obs"] == 120).all()
    assert (dropped.xs("second")["n_obs"] == 113).all()
    assert (dropped.xs("first")["n_obs"] == 120).all()


# ---- input errors -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "events, message",
    [
        (pd.DataFrame({"event_id": ["e"], "timestamp": ["2024-01-20"], "security": ["NOPE"]}), "names security 'NOPE'"),
        (pd.DataFrame({"event_id": ["e", "e"], "timestamp": ["2024-01-20"] * 2, "security": ["S0", "S0"]}), "lists security 'S0' twice"),
        (pd.DataFrame({"event_id": ["e", "e"], "timestamp": ["2024-01-20", "2024-01-21"]}), "more than one timestamp"),
        (pd.DataFrame({"event_id": ["e"]}), "missing timestamp"),
        (pd.DataFrame({"event_id": ["e"], "timestamp": ["soon"]}), "cannot be read"),
    ],
)
def test_bad_events_are_one_line_errors(events, message):
    returns, market = panel()
    with pytest.raises(InputError, match=message) as error:
        EventStudy(returns, market, events).fit()
    assert "\n" not in str(error.value)


def test_bad_study_options_are_refused():
    returns, market = panel()
    events = {"e": returns.index[150]}
    with pytest.raises(InputError, match="needs market"):
        EventStudy(returns, None, events)
    with pytest.raises(InputError, match="at least 5"):
        EventStudy(returns, market, events, min_estimation_obs=3)
    with pytest.raises(InputError, match="return kind"):
        EventStudy(returns, market, events, return_kind="percent")
    with pytest.raises(InputError, match="day boundary"):
        EventStudy(returns, market, events, day_boundary="25:00")
    with pytest.raises(InputError, match="none for security"):
        EventStudy(returns, market.to_frame().assign(ETH=0.0), events).fit()
    with pytest.raises(InputError, match="not numeric"):
        EventStudy(returns.assign(S0="x"), market, events)
    # The mean model needs no benchmark.
    assert EventStudy(returns, None, events, model="mean").fit().settings["benchmark"] == "none"


def test_a_single_security_gets_the_tests_that_need_no_cross_section():
    returns, market = panel(securities=1)
    results = EventStudy(returns, market, {"e": returns.index[150]}).fit()
    windows = results.tests[results.tests["scope"] == "window"].set_index(["test", "window"])["statistic"]
    for name in ("bw1980", "bw1985", "patell", "sign", "generalized_sign", "corrado_rank", "wilcoxon"):
        assert np.isfinite(windows[name]).all(), name
    for name in ("csect_t", "bmp", "kp_patell", "kp_bmp", "grank"):  # need a cross-sectional sd or correlation
        assert np.isnan(windows[name]).all(), name
    assert not results.clustered


def test_per_security_benchmarks():
    returns, market = panel()
    benchmarks = pd.DataFrame({c: market * (1 + i / 10) for i, c in enumerate(returns.columns)})
    results = EventStudy(returns, benchmarks, {"e": returns.index[150]}).fit()
    assert list(results.estimation["benchmark"]) == list(returns.columns)
    assert results.settings["benchmark"] == "per-security benchmarks"


# ---- exports ---------------------------------------------------------------------------------
def test_json_export_holds_every_frame_and_number():
    returns, market = panel()
    results = EventStudy(returns, market, {"e": returns.index[150]}).fit()
    data = json.loads(results.to_json())
    assert set(data) >= {"settings", "clustering", "abnormal_returns", "car", "aar", "caar", "estimation", "tests", "excluded", "study"}
    assert len(data["tests"]) == 12 * (7 + 3)  # 12 tests x (days -1..5 + 3 windows)
    assert len(data["abnormal_returns"]) == 4 * 7
    assert data["settings"]["estimation_window"] == "[-130, -11]"
    first = data["tests"][0]
    assert set(first) == {"test", "scope", "window", "start", "end", "estimate", "statistic", "p_value", "distribution", "df", "n",
                          "robust_to_cross_correlation", "assumes_no_event_variance", "flag"}
    frames = results.to_frames()
    assert frames["caar"]["caar"].tolist() == pytest.approx([r["caar"] for r in data["caar"]])


def test_charts_render_with_the_right_band():
    returns, market = panel(securities=6)
    results = EventStudy(returns, market, {"e": returns.index[150]}).fit()
    days, caar, lower, upper, used = caar_band(results, "crude-dependence")
    assert used == "crude-dependence"
    width = (upper - lower) / 2
    assert width == pytest.approx(1.959964 * results.diagnostics["estimation_aar_sd"] * np.sqrt(np.arange(1, len(days) + 1)), rel=1e-5)
    assert caar[-1] == pytest.approx(results.aar["caar"].iloc[-1])
    assert caar_band(results)[4] == "crude-dependence"  # clustered -> auto picks the robust band
    svg = to_svg(caar_chart(results)[0])
    assert svg.startswith("<svg") and "CAAR" in svg
    svg = to_svg(car_bar_chart(results, "0:5")[0])
    assert "S5" in svg
    with pytest.raises(InputError, match="not one of the study's event windows"):
        car_bar_chart(results, "0:9")


# ---- files -------------------------------------------------------------------------------------
def test_csv_readers_and_their_errors(tmp_path):
    good = tmp_path / "r.csv"
    good.write_text("date,A,BTC\n2024-01-01,0.01,0.02\n2024-01-02,,0.01\n")
    frame = read_returns_csv(good)
    assert list(frame.columns) == ["A", "BTC"] and np.isnan(frame.loc["2024-01-02", "A"])
    bad = tmp_path / "bad.csv"
    bad.write_text("date,A\n2024-01-01,0.01\n2024-01-02,abc\n")
    with pytest.raises(InputError, match=r"line 3: column 'A' value 'abc' is not a number"):
        read_returns_csv(bad)
    bad.write_text("date,A\n2024-01-01,0.01\n2024-01-02,-inf\n")  # issue 12 item 7: inf got in
    with pytest.raises(InputError, match=r"line 3: column 'A' return '-inf' is not a finite number"):
        read_returns_csv(bad)
    bad.write_text("date,A\nyesterday,0.01\n")
    with pytest.raises(InputError, match="line 2: date 'yesterday' is not a date"):
        read_returns_csv(bad)
    with pytest.raises(InputError, match="does not exist"):
        read_returns_csv(tmp_path / "missing.csv")
    events = tmp_path / "e.csv"
    events.write_text("event_id,date,security\nsora,2024-02-15T18:00:00Z,\ngpt4,2023-03-14,A\n")
    parsed = read_events_csv(events)
    assert parsed["security"].tolist() == ["all", "A"]
    assert parsed["timestamp"].tolist() == [pd.Timestamp("2024-02-15T18:00"), pd.Timestamp("2023-03-14")]
    events.write_text("event_id,date\nsora,2024-02-15T18:00\n")
    with pytest.raises(InputError, match="no UTC offset"):
        read_events_csv(events)
    events.write_text("name,when\nx,2024-01-01\n")
    with pytest.raises(InputError, match="needs columns event_id and date"):
        read_events_csv(events)
