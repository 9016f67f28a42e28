"""The written report: valid, self-contained HTML whose every number is the JSON's; Markdown,
CSV and SVG files beside it; text escaped everywhere."""
from __future__ import annotations

import csv
import json
import re
from datetime import datetime

import pytest

from tracker.analysis.events import Event, add_events
from tracker.config import load_config
from tracker.report import REPORT_FILES, ReportOptions, build_report, render_html, write_report
from tracker.report.document import resolve

from .report_helpers import check_page, fixture_database, parse_shown, shown_matches

AI = "artificial-intelligence"
SORA, NVIDIA = "sora-demo", "nvidia-earnings-2024-02"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("report-html")
    db = fixture_database(root)
    report = build_report(db, load_config(None), ReportOptions(events=(SORA, NVIDIA), category=AI))
    folder = root / "out"
    files = write_report(report, folder)
    return report, folder, files


def test_the_folder_holds_page_markdown_json_tables_and_charts(written):
    report, folder, files = written
    for name in REPORT_FILES:
        assert (folder / name).is_file()
    tables = {p.stem for p in (folder / "tables").glob("*.csv")}
    assert {"caar", "car", "aar", "tests", "sample", "raw_moves", "correlation", "gpu_outputs", "gpu_assumptions",
            "price_sources", "ingest_runs", "events", "warnings"} <= tables
    charts = {p.stem for p in (folder / "charts").glob("*.svg")}
    assert {f"caar-{SORA}", f"car-{SORA}", "caar-pooled", f"moves-{SORA}", f"correlation-{SORA}", "gpu-tornado"} <= charts
    assert set(files) == {*(folder / n for n in REPORT_FILES), *(folder / "tables").glob("*.csv"), *(folder / "charts").glob("*.svg")}
    assert json.loads((folder / "report.json").read_text()) == report.doc


def test_the_html_is_balanced_and_self_contained(written):
    report, folder, _ = written
    html = (folder / "index.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    facts = check_page(html)
    assert facts.errors == []
    assert "script" not in facts.tags and "link" not in facts.tags and "iframe" not in facts.tags and "img" not in facts.tags
    # Every chart once in its section, and the first CAAR and raw-move charts again at the top.
    assert facts.tags["svg"] == len(report.charts) + 2 == facts.tags["figure"]
    sources = {e["source_url"] for e in report.doc["events"] if e["source_url"]}
    external = []
    for tag, attribute, value, attrs in facts.urls:
        if value.startswith("#"):
            continue
        external.append(value)
        # The only external URLs: provenance links to the events' own pages.
        assert tag == "a" and attribute == "href" and attrs.get("class") == "provenance" and value in sources, (tag, attribute, value)
    assert set(external) == sources
    assert not re.search(r"url\(\s*['\"]?(https?:|//)", html) and "@import" not in html
    # Each chart's internal references point at its own ids (namespaced per chart).
    ids = set(facts.ids)
    assert len(facts.ids) == len(ids)
    for _, _, value, _ in facts.urls:
        if value.startswith("#"):
            assert value[1:] in ids, value
    for ref in re.findall(r"url\(#([^)]+)\)", html):
        assert ref in ids


def test_every_number_on_the_page_is_the_json_number(written):
    report, folder, _ = written
    data = json.loads((folder / "report.json").read_text())
    facts = check_page((folder / "index.html").read_text())
    assert len(facts.numbers) > 500
    for number in facts.numbers:
        value = resolve(data, number["path"])
        assert json.loads(number["value"]) == value, number
        assert shown_matches(number["text"], value), number
    # The headline figures are among them.
    paths = {n["path"] for n in facts.numbers}
    peak = next(i for i, row in enumerate(data["gpu"]["outputs"]) if row["output"] == "peak_h100")
    assert "/studies/0/caar/2/caar" in paths and f"/gpu/outputs/{peak}/value" in paths
    assert any(p.startswith("/raw_moves/") for p in paths) and any(p.startswith("/correlation/0/pairs/") for p in paths)


def test_the_markdown_shows_the_same_numbers(written):
    report, folder, _ = written
    markdown = (folder / "report.md").read_text()
    facts = check_page((folder / "index.html").read_text())
    for number in facts.numbers:
        assert number["text"] in markdown, number
    for chart in report.charts.values():
        assert f"](charts/{chart.name}.svg)" in markdown
    assert "## Findings" in markdown and "## Data provenance" in markdown
    # Every row of a Markdown table has as many unescaped pipes as its header.
    blocks = re.findall(r"((?:^\|.*\n)+)", markdown, re.M)
    assert len(blocks) > 10
    for block in blocks:
        widths = {len(re.findall(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(widths) == 1, block[:300]


def test_csv_tables_hold_the_json_rows(written):
    report, folder, _ = written
    with open(folder / "tables" / "caar.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    sora = [r for r in rows if r["study"] == SORA]
    study = report.doc["studies"][0]
    assert [float(r["caar"]) for r in sora] == [w["caar"] for w in study["caar"]]
    with open(folder / "tables" / "raw_moves.csv", newline="") as handle:
        moves = list(csv.DictReader(handle))
    assert len(moves) == len(report.doc["raw_moves"])


def test_the_page_leads_with_findings_and_has_every_section(written):
    report, folder, _ = written
    html = (folder / "index.html").read_text()
    order = [html.index(f'<section id="{anchor}">') for anchor in (
        "findings", "setup", f"study-{SORA}", f"study-{NVIDIA}", "study-pooled", "raw-moves", "correlation", "gpu",
        "methodology", "caveats", "provenance")]
    assert order == sorted(order)
    assert "Overlapping Windows" in html or "overlapping windows" in html
    assert "lead tests first, then the dependence-robust ones" in html
    assert 'class="simulated-banner"' not in html and report.doc["report"]["simulated"] is False


@pytest.mark.slow
def test_text_from_the_database_is_escaped(tmp_path):
    db = fixture_database(tmp_path)
    add_events(db, [Event("nasty", 'Launch <script>alert("x")</script> & <b>bold</b> | pipe *star*', datetime(2024, 2, 15, 18),
                          True, "keynote", "https://example.org/a?b=1&c=<2>", "notes <i>")])
    report = build_report(db, load_config(None), ReportOptions(events=("nasty",), tokens=("fetch-ai", "worldcoin-wld"),
                                                                   title="Title <img src=x onerror=alert(1)>"))
    html = render_html(report)
    facts = check_page(html)
    assert facts.errors == []
    assert "script" not in facts.tags and "img" not in facts.tags and "b" not in facts.tags
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html
    assert 'href="https://example.org/a?b=1&amp;c=&lt;2&gt;"' in html
    write_report(report, tmp_path / "out")
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "<script>" not in markdown and "&lt;script>" in markdown and "\\*star\\*" in markdown and "\\| pipe" in markdown


def test_printed_numbers_parse_back():
    assert parse_shown("+4.88%") == pytest.approx((0.0488, 0.00005, False), abs=1e-9)
    assert parse_shown("<0.001")[2] is True
    assert parse_shown("10,528")[0] == 10528
    assert parse_shown("1.080e+25")[0] == pytest.approx(1.08e25)
    assert shown_matches("n/a", None)
    assert not shown_matches("+4.89%", 0.0487)
