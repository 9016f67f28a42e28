"""CLI tables are for reading (issue 17, point 6): returns and CAARs as percentages, p-values to
3 significant digits (``< 0.001`` below), statistics to 2 decimals; JSON and CSV keep full
precision; ``--show tests`` lists tests in the summary's order; ``tracker sql`` stays raw."""
from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest

from tracker.analysis.output import column_kind, p_value_text, render, to_table

from .report_helpers import fixture_database

FRAME = pd.DataFrame({
    "test": ["bw1985", "patell"], "window": ["[0, 5]", "[0, 0]"],
    "caar": [0.00988559, -0.0547911], "sd_car": [0.0202052, 0.195724], "share_positive": [1.0, 0.666667],
    "statistic": [7.18353, -1.8583], "p_value": [3.23779e-12, 0.0496], "n": [3, 14], "corr": [0.736198, 0.2],
})


def _rows(text: str) -> list[list[str]]:
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[2:]]


def test_a_table_formats_numbers_by_what_the_column_holds():
    rows = _rows(to_table(FRAME))
    assert rows[0] == ["bw1985", "[0, 5]", "+0.99%", "2.02%", "100%", "7.18", "< 0.001", "3", "0.736198"]
    assert rows[1] == ["patell", "[0, 0]", "-5.48%", "19.57%", "67%", "-1.86", "0.0496", "14", "0.2"]


def test_json_and_csv_keep_full_precision():
    assert json.loads(render(FRAME, "json"))[0]["p_value"] == 3.23779e-12
    csv = pd.read_csv(io.StringIO(render(FRAME, "csv")))
    assert csv["caar"].tolist() == FRAME["caar"].tolist() and csv["p_value"].tolist() == FRAME["p_value"].tolist()


@pytest.mark.parametrize("p, shown", [(0.0656724, "0.0657"), (0.00248607, "0.00249"), (0.411, "0.411"), (0.000999, "< 0.001"),
                                      (0.001, "0.001"), (0.04996, "0.04996"), (0.0504, "0.0504"), (1.0, "1")])
def test_p_values_have_3_significant_digits_and_never_cross_5_percent(p, shown):
    assert p_value_text(p) == shown


def test_column_kinds_are_decided_by_name():
    assert [column_kind(c) for c in ("caar", "CAR", "abnormal_return", "sd_abnormal_return", "p_adj", "granger_p",
                                     "statistic", "f_stat", "corr", "beta", "n")] == \
        ["return", "return", "return", "spread", "p", "p", "statistic", "statistic", None, None, None]


@pytest.fixture(scope="module")
def db_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    fixture_database(folder)
    return str(folder / "tracker.duckdb")


STUDY = ("study", "--event", "sora-demo", "--tokens", "fetch-ai,worldcoin-wld,render-token")


def test_the_study_summary_table_shows_percentages_and_rounded_tests(cli_runner, db_file):
    result = cli_runner("--db", db_file, *STUDY)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert re.search(r"\[0, 5\]\s+\+\d+\.\d\d%\s+\+\d+\.\d\d%\s+\d+\.\d\d%\s+\d+%\s+3", out)  # the CAAR table
    assert re.search(r"bw1985\s+\[0, 5\]\s+\+\d+\.\d\d%\s+\d+\.\d\d\s+< 0\.001", out)
    assert not re.search(r"\de-\d\d", out)  # no raw 3.23779e-12


def test_show_tests_lists_tests_as_the_summary_does(cli_runner, db_file):
    summary = cli_runner("--db", db_file, *STUDY).stdout.split("Window tests")[1]
    summary_order = list(dict.fromkeys(re.findall(r"^(\w+)\s+\[", summary, re.M)))
    result = cli_runner("--db", db_file, *STUDY, "--show", "tests")
    assert result.exit_code == 0, result.output
    window_rows = [line.split()[0] for line in result.stdout.splitlines() if re.match(r"^\w+\s+window\s", line)]
    assert list(dict.fromkeys(window_rows)) == summary_order
    assert summary_order[0] == "kp_bmp" and summary_order.index("csect_t") > summary_order.index("grank")  # robust first
    lines = result.stdout.splitlines()
    first_day = next(i for i, line in enumerate(lines) if re.match(r"^\w+\s+day\s", line))
    assert all(not re.match(r"^\w+\s+window\s", line) for line in lines[first_day:])  # windows, then days
    as_json = json.loads(cli_runner("--db", db_file, *STUDY, "--show", "tests", "--format", "json").stdout)["tests"]
    assert [r["test"] for r in as_json if r["scope"] == "window"][0] == "kp_bmp"
    assert any(r["p_value"] < 1e-6 for r in as_json)  # full precision


def test_sql_prints_the_users_values_as_they_are(cli_runner, db_file):
    result = cli_runner("--db", db_file, "sql", "select 0.0123456 as car, 0.000012 as p_value")
    assert result.exit_code == 0, result.output
    assert "0.0123456" in result.stdout and "1.2e-05" in result.stdout
