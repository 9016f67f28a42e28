"""Library errors name the library's parameters; the CLI shows them as its flags."""
from __future__ import annotations

import pytest

from tracker.analysis.correlation import read_series_csv
from tracker.cli.flags import flag, with_flags
from tracker.errors import ConfigError, InputError
from tracker.paths import check_output_dir
from tracker.sources.csvread import parse_mapping


def test_library_messages_name_parameters_not_flags(tmp_path):
    with pytest.raises(InputError) as caught:
        parse_mapping("FET")
    assert str(caught.value) == "`mapping` item 'FET' is not SYMBOL=coin-id (e.g. FET=fetch-ai)"
    assert with_flags(caught.value) == "--map item 'FET' is not SYMBOL=coin-id (e.g. FET=fetch-ai)"

    with pytest.raises(InputError) as caught:
        parse_mapping("FET=Fetch AI")
    assert with_flags(caught.value).startswith("--map FET: 'Fetch AI' is not a CoinGecko coin id")

    series = tmp_path / "closes.csv"
    series.write_text("date,close\n2024-02-15,1.5\n2024-02-16,1.6\n")
    with pytest.raises(InputError) as caught:
        read_series_csv(series, stamps="period-start")
    assert "`stamps` period-start is for date-times" in str(caught.value) and caught.value.parameters == ("stamps",)
    assert with_flags(caught.value).endswith("dates already mean whole days; --stamps period-start is for date-times")

    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.csv").write_text("x\n")
    with pytest.raises(InputError) as caught:
        check_output_dir(tmp_path / "out", empty_unless_overwrite=True)
    assert str(caught.value).endswith("pass `overwrite`")
    assert with_flags(caught.value).endswith("choose a new folder or pass --overwrite")


def test_flags_are_the_names_with_dashes_unless_listed():
    assert flag("correlation_window") == "--correlation-window"
    assert flag("event_ids") == "--event"
    error = InputError("with `category` and no benchmark, give `start` and `end`", parameters=["category", "start", "end"])
    assert with_flags(error) == "with --category and no benchmark, give --start and --end"


def test_only_declared_parameters_are_translated():
    # Config keys are written in backticks too; they are not flags.
    error = ConfigError("schedules.prices needs exactly one of `every` or `cron`")
    assert error.parameters == () and with_flags(error) == str(error)
    assert with_flags(ValueError("`x`")) == "`x`"
