"""The report's wording (issue 17, point 7), read from the Markdown and HTML text itself:
commands in backticks stay code (never ``\\`tracker demo\\```), standard deviations carry no plus
sign, two events pool as "Both events pooled", a pooled study counts token-events, run times
have no microseconds, and a shown p-value never contradicts the significance beside it."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from tracker.analysis.eventstudy.evidence import verdicts
from tracker.config import load_config
from tracker.ingest.runs import RunRecord, record_run
from tracker.report import ReportOptions, build_report
from tracker.report.formatting import counted, format_value, p_text, plain_time, pooled_label
from tracker.report.html import render_html
from tracker.report.markdown import escape_md, render_markdown

from .report_helpers import fixture_database

SORA, NVIDIA = "sora-demo", "nvidia-earnings-2024-02"
TOKENS = ("fetch-ai", "worldcoin-wld", "render-token")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    db = fixture_database(tmp_path_factory.mktemp("wording"))
    with db.transaction() as con:
        record_run(con, RunRecord(job="history", calls=12, rows=3456).finish("ok"))
    return build_report(db, load_config(None), ReportOptions(events=(SORA, NVIDIA), tokens=TOKENS, simulated=True))


@pytest.fixture(scope="module")
def texts(report):
    return render_markdown(report), render_html(report)


def _md_rows(markdown: str, header_start: str) -> list[list[str]]:
    """The body rows of every Markdown table whose header starts with ``header_start``."""
    rows, inside = [], False
    for line in markdown.splitlines():
        if line.startswith(header_start):
            inside = True
            continue
        if inside and line.startswith("|---"):
            continue
        if inside and line.startswith("|"):
            rows.append([c.strip() for c in line.strip("|").split(" | ")])
        else:
            inside = False
    return rows


def test_commands_in_backticks_are_code_not_escaped(texts):
    markdown, page = texts
    assert "\\`" not in markdown
    assert "`tracker demo`" in markdown  # the simulated banner and caveat name the command as code
    assert "<code>tracker demo</code>" in page and "`tracker demo`" not in page


def test_escaping_still_holds_around_code_spans():
    assert escape_md("run `tracker demo` *now* <b>") == "run `tracker demo` \\*now\\* &lt;b>"
    assert escape_md("a `x | y` cell") == "a `x \\| y` cell"  # a pipe would split a table cell
    assert escape_md("one ` backtick") == "one \\` backtick"  # unpaired: escaped as before


def test_standard_deviations_carry_no_sign(texts):
    markdown, page = texts
    sds = [row[3] for row in _md_rows(markdown, "| window | CAAR | median CAR | sd of CARs |")]
    sds += [row[-4] for row in _md_rows(markdown, "| day | date | AAR | CAAR | sd of ARs |")]
    assert len(sds) > 10
    assert all(re.fullmatch(r"\d+\.\d\d%", s) for s in sds), sds
    html_sds = re.findall(r'data-path="[^"]*/(?:sd_car|sd_ar)"[^>]*>([^<]*)<', page)
    assert html_sds and all(not s.startswith("+") for s in html_sds), html_sds
    # Returns keep their sign.
    assert re.search(r"\| \\\[0, 5\\\] \| [+-]\d+\.\d\d% \|", markdown)


def test_two_events_pool_as_both_and_count_token_events(texts):
    markdown, page = texts
    for text in (markdown, page):
        assert "All 2 events pooled" not in text and "Both events pooled" in text
    pooled = next(line for line in markdown.splitlines() if line.startswith("Both events pooled: over"))
    assert "the 6 token-events' average cumulative abnormal return" in pooled and "of token-events positive" in pooled
    single = next(line for line in markdown.splitlines() if line.startswith("OpenAI unveils Sora"))
    assert "the 3 tokens' average" in single and "of tokens positive" in single
    assert "6 token-events&#x27; average" in page


def test_plural_helpers():
    assert pooled_label(2) == "Both events pooled" and pooled_label(3) == "All 3 events pooled"
    assert counted(1, "token") == "1 token" and counted(34, "token-event") == "34 token-events"


def test_run_times_have_no_microseconds(texts):
    markdown, page = texts
    runs = _md_rows(markdown, "| job | started (UTC) | finished (UTC) |")
    assert runs and all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[1]) for row in runs), runs
    for text in (markdown, page):
        assert not re.search(r"\d\d:\d\d:\d\d\.\d", text)
    assert plain_time("2026-12-02T21:46:57.123456") == "2026-12-02 21:46:57" and plain_time(None) == ""


@pytest.mark.parametrize("p, shown, sentence_p, verdict", [
    (0.0496, "0.0496", "0.0496", "robust"),
    (0.04996, "0.04996", "0.04996", "robust"),
    (0.0504, "0.050", "0.05", "none"),
    (0.05, "0.050", "0.05", "none"),
    (0.411, "0.411", "0.41", "none"),
])
def test_the_shown_p_value_agrees_with_the_verdict(report, texts, p, shown, sentence_p, verdict):
    """The findings lead with the verdict sentence ("robust evidence: KP-BMP p = 0.0496, ...");
    its p-values, and the report's p cells, are never rounded across 5%."""
    tests = pd.DataFrame([{"scope": "window", "test": name, "window": "[0, 5]", "p_value": p} for name in ("kp_bmp", "grank")])
    table, _ = verdicts(tests, pd.Series({"[0, 5]": 0.1}), ["[0, 5]"], clustered=True, alpha=0.05)
    row = table.iloc[0]
    assert row["verdict"] == verdict
    assert row["finding"] == f"{'no' if verdict == 'none' else verdict} evidence: KP-BMP p = {sentence_p}, GRANK p = {sentence_p}"
    assert format_value(p, "p") == shown == p_text(p)
    # The report shows these sentences as they are.
    doc = report.doc["studies"][0]
    markdown, page = texts
    for finding in (v["finding"] for v in doc["verdicts"]):
        assert finding in markdown and finding.replace("<", "&lt;") in page
