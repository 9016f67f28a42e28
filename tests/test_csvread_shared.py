"""Every CSV importer finds its time column by the same names (tracker.sources.csvread.TIME_COLUMNS)."""
from __future__ import annotations

import pandas as pd
import pytest

from tracker.analysis.correlation import read_series_file
from tracker.analysis.eventstudy.files import read_returns_csv
from tracker.errors import InputError
from tracker.sources import csvread
from tracker.sources.csvimport import assemble as import_assemble


def test_the_price_importer_uses_the_shared_names():
    assert import_assemble.TIME_COLUMNS is csvread.TIME_COLUMNS


@pytest.mark.parametrize("name", csvread.TIME_COLUMNS)
def test_series_and_returns_files_find_every_time_column_name(tmp_path, name):
    # The time column is second, so the first-column fallback cannot be what finds it.
    series = tmp_path / "series.csv"
    series.write_text(f"value,{name}\n101.5,2024-02-15T00:00:00Z\n102.5,2024-02-16T00:00:00Z\n")
    read = read_series_file(series)
    frame = read.frame
    assert read.time_column == name
    assert list(frame["ts"]) == [pd.Timestamp("2024-02-15"), pd.Timestamp("2024-02-16")]

    returns = tmp_path / "returns.csv"
    returns.write_text(f"FET,{name}\n0.01,2024-02-15\n-0.02,2024-02-16\n")
    wide = read_returns_csv(returns)
    assert list(wide.columns) == ["FET"]
    assert list(wide.index) == [pd.Timestamp("2024-02-15"), pd.Timestamp("2024-02-16")]


def test_names_match_after_normalising_case_spaces_and_hyphens():
    assert csvread.find_time_column(["Close", "Open Time"]) == "Open Time"
    assert csvread.find_time_column(["close", "DATE-UTC"]) == "DATE-UTC"
    assert csvread.find_time_column(["close", "volume"]) is None
    # Candle files: the opening time wins over any other time column.
    assert csvread.find_time_column(["date", "open_time"]) == "open_time"


def test_unreadable_csv_names_the_file_and_the_first_line_of_the_reason(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"a,b\n\xff\xfe,1\n")
    with pytest.raises(csvread.UnreadableCsvError) as caught:
        csvread.read_text_frame(path)
    assert str(caught.value).startswith(f"{path} is not a readable CSV: ")
    assert "\n" not in str(caught.value) and caught.value.kind == "UnicodeDecodeError"
    assert isinstance(caught.value, InputError)
