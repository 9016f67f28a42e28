"""Library errors name the library's parameters; the CLI shows them as its flags."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tracker.analysis.correlation import read_series_csv
from tracker.cli.flags import flag, with_flags
from tracker.errors import ConfigError, InputError
from tracker.paths import check_output_dir
from tracker.sources.csvimport import ImportOptions, prepare_import
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


# ------------------------------------------------------------------ no flags in library errors

_FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
_ROOT = Path(__file__).resolve().parents[1]
_MESSAGE_NAMES = ("message", "reason", "error")


def _library_modules():
    for package in ("tracker", "storage", "jobs"):
        for path in sorted((_ROOT / package).rglob("*.py")):
            if path.relative_to(_ROOT).parts[:2] != ("tracker", "cli"):
                yield path


def _callee(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def _error_parts(tree: ast.AST):
    """What becomes an error's message: raised expressions, error and BadRow constructions, the
    arguments of ``check_*`` helpers (they raise naming what they are given), and values assigned
    to a ``message``/``reason``/``error`` name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            yield node.exc
        elif isinstance(node, ast.Call) and (_callee(node.func).endswith(("Error", "Exception", "BadRow"))
                                             or _callee(node.func).startswith("check_")):
            yield node
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id in _MESSAGE_NAMES for t in node.targets):
            yield node.value


def test_no_library_error_message_names_a_command_line_flag():
    found = set()
    for path in _library_modules():
        for part in _error_parts(ast.parse(path.read_text())):
            for node in ast.walk(part):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and _FLAG.search(node.value):
                    found.add(f"{path.relative_to(_ROOT)}:{node.lineno}: {node.value.strip()}")
    assert not found, "library errors name parameters (`coin_id`), not flags:\n" + "\n".join(sorted(found))


@pytest.mark.parametrize(
    "text, options, message, flags",
    [
        ("date,close\n2024-02-12,1\n", {"layout": "series"},
         "series.csv holds one coin's prices (series layout); name the coin with `coin_id` (e.g. `coin_id` fetch-ai)",
         "series.csv holds one coin's prices (series layout); name the coin with --coin (e.g. --coin fetch-ai)"),
        ("date,close\n2024-02-12,1\nsoon,2\n", {"coin_id": "fetch-ai"},
         "series.csv: 1 bad row(s), nothing imported: line 3 (date): time 'soon' not understood (give `time_format`)",
         "series.csv: 1 bad row(s), nothing imported: line 3 (date): time 'soon' not understood (give --time-format)"),
        ("date,close\n2024-02-12,1\n", {"coin_id": "Fetch AI"},
         "`coin_id`: 'Fetch AI' is not a CoinGecko coin id (lower-case, e.g. fetch-ai)",
         "--coin: 'Fetch AI' is not a CoinGecko coin id (lower-case, e.g. fetch-ai)"),
    ],
)
def test_csv_import_errors_name_options_and_the_cli_shows_flags(tmp_path, text, options, message, flags):
    path = tmp_path / "series.csv"
    path.write_text(text)
    with pytest.raises(InputError) as caught:
        prepare_import(path, ImportOptions(**options))
    assert str(caught.value) == message and with_flags(caught.value) == flags


def _panel_without_benchmarks():
    import pandas as pd

    from tracker.analysis.correlation.service import Panel

    index = pd.date_range("2024-01-01", periods=5, freq="D")
    return Panel(prices=pd.DataFrame({"fet": range(1, 6)}, index=index, dtype=float),
                 external=pd.DataFrame(index=pd.DatetimeIndex([]), dtype=float), series=["fet"], benchmarks=[],
                 step=pd.Timedelta(days=1), kind="log", max_span=1)


def test_gpu_storage_and_correlation_errors_keep_their_cli_wording():
    from storage.integrity import missing_error
    from tracker.analysis.correlation.service import rolling_table
    from tracker.analysis.gpu import parse_set

    with pytest.raises(InputError) as caught:
        parse_set(["denoising_steps"])
    assert str(caught.value).startswith("`overrides` 'denoising_steps' must look like name=value")
    assert with_flags(caught.value) == "--set 'denoising_steps' must look like name=value, e.g. --set denoising_steps=50"
    with pytest.raises(InputError) as caught:
        parse_set(["a=1", "a=2"])
    assert with_flags(caught.value) == "--set gives a twice; give each assumption once"

    error = missing_error(Path("t.duckdb"), 5, ["table coins"])
    assert str(error).endswith("or point `db` at another file") and error.parameters == ("db",)
    assert with_flags(error).endswith("(`tracker check` shows what is missing) or point --db at another file")

    with pytest.raises(InputError) as caught:
        rolling_table(_panel_without_benchmarks())
    assert with_flags(caught.value) == "rolling needs at least one benchmark (--against or --series)"


def test_an_hourly_cap_weighted_index_names_index_weights():
    import pandas as pd

    from tracker.analysis.eventstudy.data import _closes
    from tracker.errors import AnalysisError

    with pytest.raises(AnalysisError) as caught:
        _closes(None, ["fetch-ai"], pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-02"), pd.Timedelta(hours=1), value="market_cap")
    assert caught.value.parameters == ("index_weights",)
    assert with_flags(caught.value) == "hourly market caps are not stored; use --index-weights equal for an hourly index"
