"""The report with the evidence options: the verdict leads the findings, the key figures carry it,
the placebo histogram is in the page, and every new number is in report.json and the tables."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tracker.analysis.eventstudy import EventStudy
from tracker.analysis.eventstudy.data import load_study_data
from tracker.analysis.eventstudy.windows import Window
from tracker.config import load_config
from tracker.errors import InputError
from tracker.report import ReportOptions, build_report, write_report

from .report_helpers import fixture_database

AI = "artificial-intelligence"
SORA = "sora-demo"
OPTIONS = dict(events=(SORA,), category=AI, estimation_window="-60:-11", windows="0:0,-1:1,0:5", primary_window="0:5",
               placebo_range="-70:-20", calendar_time=True)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("evidence-report")
    db = fixture_database(root)
    report = build_report(db, load_config(None), ReportOptions(**OPTIONS))
    files = write_report(report, root / "out")
    return db, report, root / "out", files


def test_verdict_leads_the_findings_and_follows_the_engine(built):
    db, report, folder, _ = built
    study = report.doc["studies"][0]
    assert study["primary_window"] == "[0, 5]" and [v["window"] for v in study["verdicts"]][0] == "[0, 5]"
    assert study["car_window"] == "[0, 5]"  # the CAR chart keeps the longest window, not the last listed
    data = load_study_data(db, [SORA], category=AI, benchmark="bitcoin", estimation_window=Window(-130, -11),
                           event_windows=[Window(0, 0), Window(-1, 1), Window(0, 5)])
    direct = EventStudy(data.returns, data.market, data.events, estimation_window="-60:-11", event_windows="0:0,-1:1,0:5",
                        primary_window="0:5", placebo="-70:-20", calendar_time=True, benchmark_name=data.benchmark_name).fit()
    assert [v["verdict"] for v in study["verdicts"]] == list(direct.verdicts["verdict"])
    assert [p["p_value"] for p in study["placebo"]] == pytest.approx(list(direct.placebo.table["p_value"]))
    assert [c["g"] for c in study["calendar_time"]] == pytest.approx(list(direct.calendar_time["g"]))
    finding = study["verdicts"][0]["finding"]
    assert finding.split(":")[0] in ("robust evidence", "mixed evidence", "no evidence")
    markdown = (folder / "report.md").read_text()
    findings = markdown[markdown.index("## Findings"):markdown.index("## Question and set-up")]
    assert "over \\[0, 5\\] (the primary window)" in findings and finding in findings
    assert "Brown-Warner 1985" not in findings  # the headline no longer quotes BW1985


def test_page_holds_the_histogram_and_the_new_tables(built):
    _, report, folder, _ = built
    html = (folder / "index.html").read_text()
    assert 'data-chart="placebo-sora-demo"' in html and (folder / "charts" / "placebo-sora-demo.svg").is_file()
    for anchor in ("Strength of the evidence", "Calendar-time portfolio regression", "Diagnostics: event-induced variance"):
        assert anchor in html
    tables = {p.stem for p in (folder / "tables").glob("*.csv")}
    assert {"verdicts", "evidence", "placebo", "placebo_pseudo", "calendar_time", "diagnostics_table"} <= tables
    stored = json.loads((folder / "report.json").read_text())
    assert all({"window", "verdict"} <= set(row) for row in stored["studies"][0]["verdicts"])
    assert pd.read_csv(folder / "tables" / "placebo_pseudo.csv").shape[0] == 51 * 3
    excluded = {r["security"] for r in stored["studies"][0]["placebo_excluded"]}
    assert "fetch-ai" in excluded  # no points 2024-01-08..10: not complete over the placebo's periods
    assert stored["settings"]["placebo_range"] == "[-70, -20]" and "--placebo-range -70:-20" in stored["report"]["command"]


def test_report_cli_prints_the_verdict(built, cli_runner, tmp_path):
    db, _, _, _ = built
    result = cli_runner("--db", str(db.path), "report", "event-study", "--event", SORA, "--category", AI, "--estimation-window",
                        "-60:-11", "--placebo-range", "-70:-20", "--output", str(tmp_path / "r"), "--quiet", "--format", "json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)["key figures"]
    assert {"verdict", "finding"} <= set(figures[0]) and figures[0]["window"] == "[0, 0]"


def test_bad_evidence_options_are_refused_before_any_work():
    with pytest.raises(InputError, match="placebo_range"):
        ReportOptions(events=(SORA,), placebo_range="-10:-2").check()
    with pytest.raises(InputError, match="portfolio_weights"):
        ReportOptions(events=(SORA,), portfolio_weights="cap").check()
