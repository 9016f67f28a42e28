"""tracker.utc: the one place that turns times into the naive UTC every table stores."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest

from tracker import utc


def test_now_is_naive_utc():
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    now = utc.now()
    after = datetime.now(timezone.utc).replace(tzinfo=None)
    assert now.tzinfo is None and before <= now <= after


def test_naive_converts_aware_and_keeps_naive_as_utc():
    plus_two = timezone(timedelta(hours=2))
    assert utc.naive(datetime(2024, 2, 15, 20, 0, tzinfo=plus_two)) == datetime(2024, 2, 15, 18, 0)
    assert utc.naive(datetime(2024, 2, 15, 20, 0)) == datetime(2024, 2, 15, 20, 0)
    stamp = utc.naive(pd.Timestamp("2024-02-15T20:00:00+02:00"))
    assert isinstance(stamp, pd.Timestamp) and stamp == pd.Timestamp("2024-02-15 18:00") and stamp.tzinfo is None
    assert utc.naive(pd.NaT) is pd.NaT
    index = utc.naive(pd.DatetimeIndex(["2024-02-15T20:00:00+02:00"]))
    assert index.tz is None and index[0] == pd.Timestamp("2024-02-15 18:00")
    frame = pd.DataFrame({"x": [1.0]}, index=pd.DatetimeIndex(["2024-02-15T20:00:00+02:00"]))
    assert utc.naive(frame).index[0] == pd.Timestamp("2024-02-15 18:00")


def test_naive_before_year_one_overflows_as_datetime_does():
    with pytest.raises(OverflowError):
        utc.naive(datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))))


def test_naive_values_and_index():
    aware = pd.Series(pd.to_datetime(["2024-02-15T20:00:00+02:00", "2024-02-16T00:00:00Z"], utc=True))
    assert list(utc.naive_values(aware)) == [pd.Timestamp("2024-02-15 18:00"), pd.Timestamp("2024-02-16 00:00")]
    plain = pd.Series(pd.to_datetime(["2024-02-15 18:00"]))
    assert utc.naive_values(plain) is plain
    for values in (["2024-02-15T20:00:00+02:00"], ["2024-02-15 18:00"], pd.DatetimeIndex(["2024-02-15 18:00"]).as_unit("s")):
        index = utc.naive_index(values)  # naive input is taken as UTC already
        assert index.tz is None and index.unit == "ns" and list(index) == [pd.Timestamp("2024-02-15 18:00")]


def test_parse():
    assert utc.parse(" 2024-02-15T18:00Z ") == pd.Timestamp("2024-02-15 18:00")
    assert utc.parse("2024-02-15") == pd.Timestamp("2024-02-15")
    assert utc.parse("") is pd.NaT
    with pytest.raises(ValueError):
        utc.parse("not a time")
