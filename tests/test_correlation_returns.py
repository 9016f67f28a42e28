"""Returns, the AI index and outside-series CSVs: the data rules every analysis relies on."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.correlation import index_returns, read_series_csv, read_series_file, to_grid, to_returns
from tracker.analysis.correlation.returns import infer_frequency, step_label
from tracker.errors import AnalysisError, InputError


def days(*labels):
    return pd.DatetimeIndex(pd.to_datetime(list(labels)), name="day")


def test_log_and_simple_returns_by_hand():
    prices = pd.DataFrame({"a": [100.0, 110.0, 99.0]}, index=days("2024-01-01", "2024-01-02", "2024-01-03"))
    log = to_returns(prices)
    simple = to_returns(prices, "simple")
    assert log["a"].tolist() == pytest.approx([math.log(1.1), math.log(0.9)])
    assert simple["a"].tolist() == pytest.approx([0.1, -0.1])
    assert list(log.index) == list(prices.index[1:])
    assert log.attrs == {} and infer_frequency(log.index) == pd.Timedelta(days=1)  # a plain frame, on the daily grid


def test_a_missing_close_is_never_bridged():
    # Row for 01-03 absent, and a NaN on 01-05: the 01-04 and 01-06 returns would span two days.
    prices = pd.DataFrame(
        {"a": [100.0, 101.0, 103.0, np.nan, 104.0], "b": [1.0, 2.0, 3.0, 4.0, 5.0]},
        index=days("2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05", "2024-01-06"),
    )
    returns = to_returns(prices, "simple")
    assert list(returns.index) == list(pd.date_range("2024-01-02", "2024-01-06"))
    assert returns["a"].isna().tolist() == [False, True, True, True, True]
    assert returns["b"].isna().tolist() == [False, True, True, False, False]
    assert returns.loc["2024-01-06", "b"] == pytest.approx(5 / 4 - 1)


def test_calendar_returns_span_closed_days_up_to_max_span():
    grid = pd.date_range("2024-02-09", "2024-02-20", freq="D", name="day")  # Fri .. Tue
    prices = pd.DataFrame({"btc": np.arange(100.0, 100.0 + len(grid))}, index=grid)
    trading = [d for d in grid if d.day_of_week < 5 and d != pd.Timestamp("2024-02-19")]  # Presidents' Day
    returns = to_returns(prices, "simple", calendar=trading, max_span=3)
    # Fri 09 -> Mon 12 spans 3 days (kept); Fri 16 -> Tue 20 spans 4 (dropped).
    assert returns.loc["2024-02-12", "btc"] == pytest.approx(103 / 100 - 1)
    assert np.isnan(returns.loc["2024-02-20", "btc"])
    assert "2024-02-10" not in returns.index.strftime("%Y-%m-%d")
    wider = to_returns(prices, "simple", calendar=trading, max_span=4)
    assert wider.loc["2024-02-20", "btc"] == pytest.approx(111 / 107 - 1)


def test_bad_prices_are_refused_in_one_line():
    with pytest.raises(AnalysisError, match="price <= 0"):
        to_returns(pd.DataFrame({"a": [1.0, 0.0]}, index=days("2024-01-01", "2024-01-02")))
    with pytest.raises(AnalysisError, match="not on the 1 days"):
        to_returns(pd.DataFrame({"a": [1.0, 2.0, 3.0]}, index=pd.DatetimeIndex(["2024-01-01", "2024-01-02", "2024-01-02 12:00"])), freq="1D")
    with pytest.raises(AnalysisError, match="two rows"):
        to_returns(pd.DataFrame({"a": [1.0, 2.0]}, index=days("2024-01-01", "2024-01-01")))
    with pytest.raises(AnalysisError, match="kind"):
        to_returns(pd.DataFrame({"a": [1.0, 2.0]}, index=days("2024-01-01", "2024-01-02")), "pct")
    with pytest.raises(AnalysisError, match="time index"):
        to_returns(pd.DataFrame({"a": [1.0, 2.0]}))


def test_frequency_and_its_label():
    hours = pd.date_range("2024-01-01", periods=5, freq="h")
    assert infer_frequency(hours.delete(2)) == pd.Timedelta(hours=1)
    assert step_label(pd.Timedelta(hours=1)) == "1h" and step_label(pd.Timedelta(days=1)) == "1D"


# ------------------------------------------------------------------ index


def test_cap_weighted_index_uses_caps_known_before_the_period():
    index = days("2024-01-01", "2024-01-02", "2024-01-03")
    prices = pd.DataFrame({"a": [10.0, 11.0, 11.0], "b": [20.0, 20.0, 10.0]}, index=index)
    caps = pd.DataFrame({"a": [100.0, 300.0, 300.0], "b": [100.0, 100.0, 999.0]}, index=index)
    result, members = index_returns(prices, weighting="cap", caps=caps, kind="simple")
    # Day 2: weights from day-1 caps (100, 100): (0.10 + 0.00) / 2. Day 3: caps (300, 100): (0 - 0.5 * 100) / 400.
    assert result["ai-index"].tolist() == pytest.approx([0.05, -0.125])
    assert members.tolist() == [2, 2]
    log, _ = index_returns(prices, weighting="cap", caps=caps)
    assert log["ai-index"].tolist() == pytest.approx([math.log(1.05), math.log(0.875)])


def test_equal_weighted_index_with_point_in_time_members_and_gaps():
    index = days("2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04")
    prices = pd.DataFrame({"a": [1.0, 1.1, 1.21, 1.21], "b": [1.0, 2.0, np.nan, 3.0], "c": [5.0, 5.0, 5.0, 6.0]}, index=index)
    members = pd.DataFrame({"a": True, "b": True, "c": [False, False, False, True]}, index=index)
    result, count = index_returns(prices, weighting="equal", members=members, kind="simple")
    assert result["ai-index"].tolist() == pytest.approx([(0.1 + 1.0) / 2, 0.1, 0.0 + 0.2 / 2])
    assert count.tolist() == [2, 1, 2]


def test_index_is_nan_when_no_member_has_a_return():
    prices = pd.DataFrame({"a": [1.0, np.nan, 2.0]}, index=days("2024-01-01", "2024-01-02", "2024-01-03"))
    result, count = index_returns(prices)
    assert result["ai-index"].isna().all() and count.tolist() == [0, 0]
    with pytest.raises(AnalysisError, match="needs market caps"):
        index_returns(prices, weighting="cap")


# ------------------------------------------------------------------ outside series CSVs


def test_dates_mean_daily_closes_observed_at_the_next_midnight(tmp_path):
    path = tmp_path / "nvda.csv"
    path.write_text("Date,Open,Close,Volume\n2024-02-16,1,\"1,700.5\",3\n2024-02-15,1,726.1,3\n2024-02-20,1,694.5,4\n")
    read = read_series_file(path)
    series = read.frame
    assert series["ts"].tolist() == [pd.Timestamp("2024-02-16"), pd.Timestamp("2024-02-17"), pd.Timestamp("2024-02-21")]
    assert series["value"].tolist() == [726.1, 1700.5, 694.5]
    assert read.date_only and read.value_column == "Close" and read.time_column == "Date" and read.file == "nvda.csv"
    assert read_series_csv(path).equals(series) and series.attrs == {}
    daily = to_grid(series, "1D")
    assert daily.index.strftime("%Y-%m-%d").tolist() == ["2024-02-15", "2024-02-16", "2024-02-20"]


def test_times_offsets_zones_and_candle_opens(tmp_path):
    offsets = tmp_path / "o.csv"
    offsets.write_text("timestamp,price\n2024-02-15T18:00:00+01:00,1\n2024-02-15T19:00:00Z,2\n")
    assert read_series_csv(offsets)["ts"].tolist() == [pd.Timestamp("2024-02-15 17:00"), pd.Timestamp("2024-02-15 19:00")]
    naive = tmp_path / "n.csv"
    naive.write_text("open_time,close\n2024-02-15 00:00:00,1\n2024-02-15 01:00:00,2\n")
    assert read_series_csv(naive, tz="America/New_York")["ts"].iloc[0] == pd.Timestamp("2024-02-15 05:00")
    candles = read_series_csv(naive, stamps="period-start")
    assert candles["ts"].tolist() == [pd.Timestamp("2024-02-15 01:00"), pd.Timestamp("2024-02-15 02:00")]
    # The close of the candle opening 00:00 is the 00:00 hour's close on the grid.
    assert to_grid(candles, "1h").index[0] == pd.Timestamp("2024-02-15 00:00")
    epoch = tmp_path / "e.csv"
    epoch.write_text("time,value\n1707955200000,1\n1707958800000,2\n")
    assert read_series_csv(epoch)["ts"].iloc[0] == pd.Timestamp("2024-02-15 00:00")


def test_grid_takes_the_last_value_before_the_period_ends():
    series = pd.DataFrame({"ts": pd.to_datetime(["2024-02-15 10:00", "2024-02-15 23:00", "2024-02-16 00:03"]), "value": [1.0, 2.0, 3.0]})
    # 00:03 is within the 5-minute jitter: it still closes the 15th.
    assert to_grid(series, "1D").tolist() == [3.0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("date,value\n2024-02-15,abc\n", "line 2: value value 'abc' is not a number"),
        ("date,value\n15/02/2024,1\n", "is not an ISO date"),
        ("date,value\n2024-02-15,1\n2024-02-15,2\n", "two rows for 2024-02-16"),
        ("date\n2024-02-15\n", "needs a time column and a value column"),
        ("date,a,b\n2024-02-15,1,2\n", "cannot tell which column"),
        ("ts,value\n2024-02-15T01:00Z,1\n2024-02-15T02:00,2\n", "mixes times with and without"),
        ("date,value\n,1\n", "line 2: the date cell is empty"),
    ],
)
def test_bad_series_files_get_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_series_csv(path)


def test_missing_file_and_unknown_zone(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_series_csv(tmp_path / "nope.csv")
    path = tmp_path / "n.csv"
    path.write_text("time,value\n2024-02-15 00:00,1\n")
    with pytest.raises(InputError, match="time zone 'Mars/Base'"):
        read_series_csv(path, tz="Mars/Base")
