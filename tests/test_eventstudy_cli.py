"""`tracker study` on the user's own CSV files: output formats, sections, the output folder,
and one-line errors for bad input."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def files(tmp_path):
    rng = np.random.default_rng(12)
    index = pd.date_range("2023-09-01", periods=200, freq="D")
    market = rng.normal(0, 0.02, 200)
    values = 1.1 * market[:, None] + rng.normal(0, 0.03, (200, 4))
    values[index.get_loc(pd.Timestamp("2024-02-15"))] += 0.1
    frame = pd.DataFrame(values, index=index, columns=["FET", "WLD", "GRT", "NEAR"])
    frame["BTC"] = market
    frame.index.name = "date"
    returns = tmp_path / "returns.csv"
    frame.to_csv(returns, float_format="%.8f")
    events = tmp_path / "events.csv"
    events.write_text("event_id,date,security\nsora,2024-02-15T18:00:00Z,\nother,2024-01-10,FET\n")
    return returns, events


def study(cli_runner, files, *args):
    returns, events = files
    return cli_runner("study", "--returns-csv", str(returns), "--market-column", "BTC", "--events-csv", str(events), *args)


def test_summary_table_by_default(cli_runner, files):
    result = study(cli_runner, files)
    assert result.exit_code == 0, result.output
    assert "Event study: market model" in result.stdout
    assert "CAAR per window" in result.stdout and "Window tests" in result.stdout
    assert "security-events used: 5" in result.stdout


def test_json_sections_parse_and_hold_every_test(cli_runner, files):
    result = study(cli_runner, files, "--show", "tests,aar", "--show", "excluded", "--format", "json", "--event", "sora")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"tests", "aar", "excluded"}
    assert {row["test"] for row in data["tests"]} >= {"csect_t", "bw1985", "patell", "bmp", "kp_bmp", "grank", "wilcoxon"}
    sora0 = [row for row in data["tests"] if row["test"] == "csect_t" and row["window"] == "[0, 0]"][0]
    assert sora0["p_value"] < 0.01 and sora0["n"] == 4 and sora0["estimate"] > 0.07
    assert [row["relative_period"] for row in data["aar"]] == [-1, 0, 1, 2, 3, 4, 5]


def test_csv_output_and_tokens_filter(cli_runner, files):
    result = study(cli_runner, files, "--tokens", "FET,WLD", "--show", "car", "--format", "csv", "--windows", "0:0,-2:4")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "# car" and lines[1].startswith("event_id,security,window,start,end,car,sd_car,scar")
    securities = {line.split(",")[1] for line in lines[2:]}
    assert securities == {"FET", "WLD"}
    assert any('"[-2, 4]"' in line for line in lines)


def test_output_folder_gets_every_frame_json_and_charts(cli_runner, files, tmp_path):
    out = tmp_path / "out" / "sora"
    result = study(cli_runner, files, "--output", str(out), "--model", "market-adjusted", "--format", "json")
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {
        "abnormal_returns.csv", "car.csv", "aar.csv", "caar.csv", "estimation.csv", "tests.csv", "excluded.csv",
        "study.csv", "results.json", "summary.txt", "caar.svg", "car.svg", "verdicts.csv", "evidence.csv", "diagnostics.csv",
    }
    stored = json.loads((out / "results.json").read_text())
    assert stored["settings"]["model"] == "market-adjusted"
    assert len(stored["tests"]) == len(pd.read_csv(out / "tests.csv"))
    assert (out / "caar.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "wrote 15 files" in result.stderr


def test_mean_model_needs_no_market_column(cli_runner, files):
    returns, events = files
    result = cli_runner("study", "--returns-csv", str(returns), "--events-csv", str(events), "--model", "mean", "--tokens", "FET,WLD")
    assert result.exit_code == 0, result.output
    assert "mean-adjusted" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["--estimation-window", "-11:-130"], "--estimation-window -11:-130 starts after it ends"),
        (["--estimation-window", "-20:1"], "overlaps event window"),
        (["--windows", "0:0,x:1"], "must be START:END"),
        (["--tokens", "FET,DOGE"], "unknown token 'DOGE'"),
        (["--event", "gpt-9"], "no event 'gpt-9'"),
        (["--category", "artificial-intelligence"], "need the database"),
        (["--show", "everything"], "--show 'everything' is not one of"),
        (["--min-estimation-obs", "2"], "at least 5"),
        (["--day-boundary", "7pm"], "day boundary '7pm'"),
        (["--hourly"], "holds daily returns"),
    ],
)
def test_bad_input_is_one_line(cli_runner, files, args, message):
    result = study(cli_runner, files, *args)
    assert result.exit_code != 0
    assert message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_file_mode_errors(cli_runner, files, tmp_path):
    returns, events = files
    missing_market = cli_runner("study", "--returns-csv", str(returns), "--events-csv", str(events))
    assert missing_market.exit_code == 1 and "needs --market-column" in missing_market.stderr
    wrong_column = cli_runner("study", "--returns-csv", str(returns), "--market-column", "SPX", "--events-csv", str(events))
    assert "--market-column 'SPX' is not a column" in wrong_column.stderr
    no_events = cli_runner("study", "--returns-csv", str(returns), "--market-column", "BTC")
    assert "needs --events-csv" in no_events.stderr
    a_file = tmp_path / "taken"
    a_file.write_text("x")
    blocked = cli_runner("study", "--returns-csv", str(returns), "--market-column", "BTC", "--events-csv", str(events), "--output", str(a_file))
    assert blocked.exit_code != 0 and "taken" in blocked.stderr
    late = tmp_path / "late.csv"
    late.write_text("event_id,date\nfuture,2030-01-01\n")
    nothing = cli_runner("study", "--returns-csv", str(returns), "--market-column", "BTC", "--events-csv", str(late))
    assert nothing.exit_code == 1 and "no security-event is left to study" in nothing.stderr
