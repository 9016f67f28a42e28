"""The minute reaction from the database: one source per coin, and the report's "How fast"
section, which appears only when minute candles exist."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import storage
from tests.sources_fixture import build, rows
from tracker.analysis.events import add_events, event_from_mapping, get_event
from tracker.analysis.reaction_data import load_reaction
from tracker.analysis.source_choice import SourcePolicy
from tracker.config import load_config
from tracker.report import ReportOptions, build_report
from tracker.report.markdown import render_markdown

SORA = pd.Timestamp("2024-02-15 18:00")
DAY_ONLY = pd.Timestamp("2024-01-10 00:00")  # an event whose time of day is unknown
MINUTE = pd.Timedelta(minutes=1)


def _minute_rows(t0: pd.Timestamp, jump_minute: int, jump: float, *, source: str, seed: int) -> list[pd.DataFrame]:
    """1m candles (stored at their close) of bitcoin and fetch-ai from 2 h before to 25 h after t0;
    fetch-ai's abnormal log return jumps by ``jump`` at ``jump_minute``."""
    opens = pd.date_range(t0 - pd.Timedelta(hours=2), t0 + pd.Timedelta(hours=25), freq="min")
    closes_at = opens + MINUTE
    rel = ((closes_at - t0) / MINUTE).to_numpy()
    rng = np.random.default_rng(seed)
    btc = 40000 * np.exp(np.cumsum(rng.normal(0, 3e-4, len(opens))))
    fet = 0.5 * btc / btc[0] * np.exp(np.where(rel >= jump_minute, jump, 0.0))
    return [rows("bitcoin", opens, btc, source=source, vs="usdt", granularity="minute", step=MINUTE),
            rows("fetch-ai", opens, fet, source=source, vs="usdt", granularity="minute", step=MINUTE)]


@pytest.fixture(scope="module")
def minute_db(tmp_path_factory):
    db = build(tmp_path_factory.mktemp("reaction") / "tracker.duckdb")
    frames = _minute_rows(SORA, 12, np.log(1.15), source="binance", seed=1)
    frames += _minute_rows(SORA, 300, np.log(0.9), source="okx", seed=2)[1:]  # a different fetch-ai on okx: never mixed in
    frames += _minute_rows(DAY_ONLY, 90, np.log(1.05), source="binance", seed=3)
    with db.transaction() as con:
        for frame in frames:
            storage.upsert(con, "price_history", frame)
    add_events(db, [event_from_mapping({"id": "day-only", "name": "A day-only event", "timestamp": "2024-01-10"})])
    return db


def test_the_loader_reads_one_source_per_coin(minute_db):
    results, chosen = load_reaction(minute_db, get_event(minute_db, "sora-demo"), ["fetch-ai", "worldcoin-wld"])
    assert dict(zip(chosen.coin_id, chosen.source)) == {"bitcoin": "binance", "fetch-ai": "binance"}  # a tie: alphabetical
    row = results.speed.set_index("series").loc["fetch-ai"]
    assert row["half_move_minutes"] == 12 and row["day_move"] == pytest.approx(np.log(1.15), abs=1e-12)
    okx_results, okx = load_reaction(minute_db, get_event(minute_db, "sora-demo"), ["fetch-ai"], policy=SourcePolicy("okx"))
    assert okx_results is None  # okx has no bitcoin minutes: no benchmark, no reaction (not binance's bitcoin)
    assert dict(zip(okx.coin_id, okx.source)) == {"fetch-ai": "okx"}


def test_no_minute_data_no_reaction(tmp_path):
    db = build(tmp_path / "tracker.duckdb")
    results, _ = load_reaction(db, get_event(db, "sora-demo"), ["fetch-ai"])
    assert results is None
    report = build_report(db, load_config(None), ReportOptions(events=("sora-demo",), tokens=("fetch-ai",)))
    assert report.doc["reaction"] == [] and "reaction_speed" not in report.tables
    assert "How fast" not in render_markdown(report) and not any(c.startswith("reaction-") for c in report.charts)


@pytest.mark.slow  # over 3 s on a quiet machine
def test_the_report_shows_how_fast_with_minute_data(minute_db):
    report = build_report(minute_db, load_config(None), ReportOptions(events=("sora-demo", "day-only"), tokens=("fetch-ai",)))
    records = {r["event_id"]: r for r in report.doc["reaction"]}
    assert set(records) == {"sora-demo", "day-only"}
    sora = {row["series"]: row for row in records["sora-demo"]["speed"]}
    assert sora["fetch-ai"]["half_move_minutes"] == 12 and records["sora-demo"]["time_known"] is True
    assert records["day-only"]["time_known"] is False and "approximate" in records["day-only"]["time_note"]
    text = render_markdown(report)
    assert "How fast" in text and "approximate: only the day is known" in text and "do not time the reaction" in text
    assert {"reaction-sora-demo", "reaction-day-only"} <= set(report.charts)
    speed = report.tables["reaction_speed"]
    assert set(speed["event_id"]) == {"sora-demo", "day-only"} and "half_move_minutes" in speed.columns


def test_study_shows_the_reaction_when_asked(minute_db, cli_runner):
    import io
    args = ["--db", str(minute_db.path), "study", "--event", "sora-demo", "--event", "day-only", "--tokens", "fetch-ai",
            "--estimation-window=-100:-11"]
    result = cli_runner(*args, "--show", "reaction", "--format", "csv")
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(io.StringIO(result.stdout.split("\n", 1)[1] if result.stdout.startswith("#") else result.stdout))
    rows = frame.set_index("event_id")
    assert rows.loc["sora-demo", "half_move_minutes"] == 12 and rows.loc["sora-demo", "time"] == "known"
    assert rows.loc["day-only", "time"] == "approximate (day only)"
    table = cli_runner(*args, "--show", "summary,reaction")
    assert "reaction" in table.stdout and "half_move_minutes" in table.stdout
    csv_mode = cli_runner("study", "--returns-csv", "r.csv", "--events-csv", "e.csv", "--show", "reaction")
    assert csv_mode.exit_code == 1 and "--show reaction reads minute candles from the database" in csv_mode.output
