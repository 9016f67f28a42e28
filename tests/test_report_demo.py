"""`tracker demo` end to end: the fake server, the ingestion jobs, cookbook queries and a report,
all offline, in a fresh folder, labelled SIMULATED DATA everywhere."""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest

import storage
from jobs import run_jobs_once
from tracker.report.demo import DEMO_EVENTS, run_demo

from .report_helpers import check_page

# The demo fixture runs every job against a fake server (tens of seconds).
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "tour", run_jobs=lambda config, clock: run_jobs_once(config, clock=clock))


def test_the_cli_tour_runs_and_says_where_to_look(cli_runner, tmp_path):
    result = cli_runner("demo", "--output", "tour")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("SIMULATED DATA: ") and out.rstrip().splitlines()[-2].startswith("SIMULATED DATA: ")
    for heading in ("ingestion runs (simulated)", "cookbook: latest prices", "cookbook: history coverage", "report (simulated)", "where to look"):
        assert heading in out
    assert str(tmp_path / "tour" / "report" / "index.html") in out
    assert "demo: started the fake CoinGecko server at http://127.0.0.1:" in result.stderr
    assert "demo: running the daemon's jobs once (categories, markets, members, history)" in result.stderr
    # Run again: refused without --overwrite, and with it the database starts afresh.
    again = cli_runner("demo", "--output", "tour")
    assert again.exit_code == 1 and "not empty" in again.stderr and again.stderr.count("\n") == 1
    again = cli_runner("demo", "--output", "tour", "--overwrite", "--quiet", "--format", "json")
    assert again.exit_code == 0 and again.stderr == ""
    summary = json.loads(again.stdout)
    assert summary["simulated"] is True and summary["notice"].startswith("SIMULATED DATA")
    db = storage.open_database(tmp_path / "tour" / "data" / "tracker.duckdb")
    assert len(storage.query(db, "SELECT * FROM ingest_runs")) == 4


def test_every_job_ran_once_against_the_fake_server(tour):
    runs = tour.runs.set_index("job")
    assert list(runs.index) == ["categories", "markets", "members", "history"]
    assert (runs["status"] == "ok").all() and runs.loc["history", "rows"] > 10_000
    db = storage.open_database(tour.database)
    counts = storage.query(db, "SELECT count(DISTINCT coin_id) AS coins, min(ts) AS first, max(ts) AS last FROM price_history").iloc[0]
    assert counts["coins"] > 15 and str(counts["first"]) < "2023-06-01" and str(counts["last"]) >= "2024-04-30"
    assert "127.0.0.1" in tour.config_path.read_text() and tour.config_path.read_text().startswith("# SIMULATED DATA")


def test_the_fake_server_is_gone_afterwards(tour):
    parts = urlsplit(tour.server_url)
    with socket.socket() as sock:
        sock.settimeout(1)
        assert sock.connect_ex((parts.hostname, parts.port)) != 0


def test_the_cookbook_queries_return_rows(tour):
    assert len(tour.queries) == 3
    for title, _sql, frame in tour.queries:
        assert len(frame) > 0, title
    assert "coin_latest" in tour.queries[0][1] and "event_windows" in tour.queries[1][1]
    moves = tour.queries[1][2]
    assert set(moves["through_day"].astype(str)) == {"2024-02-22"}


def test_the_report_is_labelled_simulated_everywhere(tour):
    doc = json.loads((tour.report_dir / "report.json").read_text())
    assert doc["report"]["simulated"] is True and "tracker demo" in doc["report"]["simulated_reason"]
    assert [e["event_id"] for e in doc["events"]] == list(DEMO_EVENTS)
    assert all(s["status"] == "ok" for s in doc["studies"])
    assert any(w["kind"] == "overlapping-windows" for w in doc["warnings"])
    html = (tour.report_dir / "index.html").read_text()
    assert '<div class="simulated-banner" id="simulated-banner">SIMULATED DATA' in html
    assert "<title>SIMULATED DATA: " in html and 'data-simulated="true"' in html
    assert check_page(html).errors == []
    markdown = (tour.report_dir / "report.md").read_text()
    assert markdown.startswith("> **SIMULATED DATA:**") and "\n# SIMULATED DATA: " in markdown
    assert "SIMULATED DATA" in (tour.report_dir / "report.md").read_text().split("## Caveats")[1]
    assert doc["provenance"]["plan"]["loopback_server"] is True


def test_the_demo_database_can_be_reported_on_again_and_stays_simulated(tour, cli_runner, tmp_path):
    result = cli_runner("--config", str(tour.config_path), "report", "event-study", "--event", "sora-demo",
                        "--tokens", "fetch-ai,near,the-graph", "--output", "again", "--quiet", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["report"][0]["simulated"] is True
    assert "SIMULATED DATA" in (tmp_path / "again" / "index.html").read_text()
