"""`tracker report event-study` through the CLI: output checks before any work, progress on
stderr, the summary in every format, one-line errors."""
from __future__ import annotations

import json

import pytest

from .report_helpers import fixture_database


@pytest.fixture(scope="module")
def db_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report-cli")
    fixture_database(folder)
    return str(folder / "tracker.duckdb")


@pytest.mark.slow
def test_a_report_is_written_and_summarised(cli_runner, db_file, tmp_path):
    result = cli_runner("--db", db_file, "report", "event-study", "--event", "sora-demo", "--event", "nvidia-earnings-2024-02",
                        "--tokens", "fetch-ai,worldcoin-wld,render-token", "--output", "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "index.html").is_file() and (tmp_path / "out" / "report.json").is_file()
    assert "key figures" in result.stdout and "sora-demo" in result.stdout and "overlapping-windows" in result.stdout
    assert "report: loading daily prices for 2 event(s) ..." in result.stderr
    assert "report: writing out ..." in result.stderr
    doc = json.loads((tmp_path / "out" / "report.json").read_text())
    assert doc["report"]["command"].startswith("tracker report event-study --event sora-demo --event nvidia-earnings-2024-02 --tokens fetch-ai,worldcoin-wld,render-token")


@pytest.mark.slow
def test_json_and_csv_summaries(cli_runner, db_file, tmp_path):
    result = cli_runner("--db", db_file, "report", "event-study", "--event", "sora-demo", "--tokens", "fetch-ai,worldcoin-wld",
                        "--windows", "0:0,0:3", "--output", "j", "--quiet", "--format", "json")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    summary = json.loads(result.stdout)
    assert summary["report"][0]["events"] == "sora-demo"
    assert [row["window"] for row in summary["key figures"]] == ["[0, 0]", "[0, 3]"]
    doc = json.loads((tmp_path / "j" / "report.json").read_text())
    assert summary["key figures"][1]["caar"] == doc["studies"][0]["caar"][1]["caar"]
    result = cli_runner("--db", db_file, "report", "event-study", "--event", "sora-demo", "--tokens", "fetch-ai,worldcoin-wld",
                        "--output", "c", "--quiet", "--format", "csv")
    assert result.exit_code == 0 and "# key figures" in result.stdout and "study,window,caar" in result.stdout


def test_the_output_path_is_checked_before_any_work(cli_runner, db_file, tmp_path):
    (tmp_path / "a-file").write_text("x")
    result = cli_runner("--db", db_file, "report", "event-study", "--event", "sora-demo", "--output", "a-file")
    assert result.exit_code == 1 and result.stderr.strip() == "error: output path a-file is not a folder; give a folder for the report"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("keep me")
    result = cli_runner("--db", db_file, "report", "event-study", "--event", "sora-demo", "--output", "full")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "not empty" in result.stderr and "--overwrite" in result.stderr
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_overwrite_replaces_an_earlier_report_and_keeps_other_files(cli_runner, db_file, tmp_path):
    args = ["--db", db_file, "report", "event-study", "--tokens", "fetch-ai,worldcoin-wld", "--output", "r", "--quiet"]
    assert cli_runner(*args, "--event", "sora-demo", "--event", "nvidia-earnings-2024-02").exit_code == 0
    assert (tmp_path / "r" / "charts" / "caar-pooled.svg").exists()
    (tmp_path / "r" / "my-notes.txt").write_text("mine")
    result = cli_runner(*args, "--event", "sora-demo", "--overwrite")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "r" / "charts" / "caar-pooled.svg").exists()  # a stale chart of the earlier report
    assert (tmp_path / "r" / "charts" / "caar-sora-demo.svg").exists() and (tmp_path / "r" / "my-notes.txt").read_text() == "mine"
    assert json.loads((tmp_path / "r" / "report.json").read_text())["settings"]["tokens"] == ["fetch-ai", "worldcoin-wld"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--event", "no-such-event"], "error: no event 'no-such-event'"),
        (["--event", "sora-demo", "--tokens", "fetch-ai", "--category", "artificial-intelligence"], "not both"),
        (["--event", "sora-demo", "--gpu-set", "denoising_steps=-5"], "denoising_steps"),
        (["--event", "sora-demo", "--gpu-set", "nonsense"], "name=value"),
        (["--event", "sora-demo", "--windows", "5:0"], "window"),
        (["--event", "sora-demo", "--tokens", "nope"], "unknown token 'nope'"),
        (["--event", "sora-demo", "--correlation-window", "2"], "--correlation-window"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(cli_runner, db_file, tmp_path, extra, message):
    result = cli_runner("--db", db_file, "report", "event-study", "--output", "never", *extra)
    assert result.exit_code != 0
    assert message in result.stderr and result.stderr.strip().count("\n") == 0, result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "never").exists()


def test_a_missing_database_is_one_line(cli_runner, tmp_path):
    result = cli_runner("--db", str(tmp_path / "none.duckdb"), "report", "event-study", "--event", "sora-demo", "--output", "x")
    assert result.exit_code != 0 and result.stderr.startswith("error:") and result.stderr.strip().count("\n") == 0


def test_help_names_the_contents(cli_runner):
    result = cli_runner("report", "event-study", "--help")
    assert result.exit_code == 0
    for word in ("--event", "--tokens", "--category", "--benchmark", "--model", "--estimation-window", "--windows", "--hourly",
                 "--output", "--overwrite", "--format"):
        assert word in result.output


@pytest.mark.slow
def test_hourly_and_index_benchmark_reports(cli_runner, db_file, tmp_path):
    # The fixture's hourly history covers 2024-02-14..17 for bitcoin, fetch-ai and worldcoin-wld.
    result = cli_runner("--db", db_file, "report", "event-study", "--event", "sora-demo", "--tokens", "fetch-ai,worldcoin-wld",
                        "--hourly", "--estimation-window", "-40:-6", "--windows", "0:0,0:5", "--correlation-window", "12",
                        "--output", "hourly", "--quiet", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "hourly" / "report.json").read_text())
    study = doc["studies"][0]
    assert study["settings"]["frequency"] == "hourly" and study["n"] == 2
    assert study["aar"][0]["period"] == "2024-02-15T18:00:00"  # hour 0 is the hour of the 18:00 announcement
    assert doc["correlation"][0]["settings"]["frequency"] == "hourly"
    assert "hour 0" in (tmp_path / "hourly" / "index.html").read_text()
    result = cli_runner("--db", db_file, "report", "event-study", "--event", "sora-demo", "--category", "artificial-intelligence",
                        "--benchmark", "index", "--index-weights", "equal", "--output", "index", "--quiet")
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "index" / "report.json").read_text())
    assert doc["settings"]["benchmark"].startswith("equal-weighted index of") and doc["settings"]["index_weights"] == "equal"
