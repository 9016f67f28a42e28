"""The daemon's `reports` job: an event added at "now" gets a live hourly report that grows as
the fake server's clock moves on, `tracker status` lists it, and a folder the tracker did not
make is left alone.

In-process: the daemon's own run-once mode (every enabled job, then the reports job because
they stored prices) against a FakeGecko whose clock the test moves through its control API.
"""
from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta

import pytest

import storage
from jobs.daemon import Daemon
from jobs.executor import IngestExecutor
from tracker.analysis.events import add_events, event_from_mapping
from tracker.config import ConfigError, load_config
from tracker.sources.fakegecko import FakeGecko, FakeGeckoControl

from .conftest import subprocess_env, venv_bin

NOW = datetime(2026, 3, 12, 15, 37, 21)


def write_config(folder, base_url: str, extra: str = "") -> object:
    (folder / "tracker.toml").write_text(
        "[database]\n"
        f'path = "{(folder / "data" / "tracker.duckdb").as_posix()}"\n'
        f'snapshot_dir = "{(folder / "data" / "snapshot").as_posix()}"\n'
        f'spool_dir = "{(folder / "data" / "spool").as_posix()}"\n'
        "[coingecko]\n"
        f'base_url = "{base_url}"\n'
        "calls_per_minute = 6000\nmax_retries = 1\nbackoff_seconds = 0.01\n"
        "[tracking]\nhistory_days = 30\n" + extra
    )
    return load_config(folder / "tracker.toml", env={})


def run_once(config, fake) -> dict:
    executor = IngestExecutor(config, clock=fake.clock.now, publish_snapshots=False)
    try:
        return Daemon(config, executor).run_once()
    finally:
        executor.close()


def live(folder, event_id: str = "gpt-6") -> dict:
    return json.loads((folder / "data" / "reports" / event_id / "live.json").read_text())


@pytest.fixture
def fake():
    with FakeGecko(ai_coins=4, other_coins=2, now=NOW) as server:
        yield server


@pytest.mark.slow  # over 4 s on a quiet machine
def test_an_event_added_now_gets_a_report_that_grows_hour_by_hour(tmp_path, fake):
    config = write_config(tmp_path, fake.base_url)
    db = storage.open_database(config.database.path, create=True)
    add_events(db, [event_from_mapping({"id": "gpt-6", "name": "GPT-6 launch", "timestamp": NOW.isoformat() + "Z"})])

    outcomes = run_once(config, fake)
    assert {o["status"] for o in outcomes.values()} == {"ok"}
    first = live(tmp_path)
    assert first["status"] == "ok" and first["state"] == "open", first
    assert first["periods_total"] == 25  # hours -1 to +23
    report_dir = tmp_path / "data" / "reports" / "gpt-6"
    doc = json.loads((report_dir / "report.json").read_text())
    assert doc["settings"]["frequency"] == "hourly"
    assert any(w["kind"] == "window-open" and "still open" in w["message"] for w in doc["warnings"])
    assert "still open" in (report_dir / "report.md").read_text()

    # Two hours pass on the fake server; the daemon's jobs run again.
    FakeGeckoControl(fake.base_url).advance(2 * 3600)
    run_once(config, fake)
    second = live(tmp_path)
    assert second["status"] == "ok"
    assert second["periods_observed"] > first["periods_observed"], (first, second)
    assert second["built_at"] > first["built_at"]
    windows = json.loads((report_dir / "report.json").read_text())["settings"]["event_windows"]
    assert windows[-1] == f"[0, {second['last_observed_hour']}]" and second['windows'].endswith(f"0:{second['last_observed_hour']}")

    # `tracker status` lists it, in every format.
    env = subprocess_env(TRACKER_CONFIG=str(tmp_path / "tracker.toml"))
    status = subprocess.run([venv_bin("tracker"), "status", "--format", "json"], capture_output=True, text=True,
                            env=env, cwd=tmp_path, timeout=120)
    assert status.returncode == 0, status.stderr
    rows = json.loads(status.stdout)["reports"]
    assert [(r["event_id"], r["state"], r["periods_observed"]) for r in rows] == [("gpt-6", "open", second["periods_observed"])]
    assert rows[0]["path"].endswith("index.html")
    for fmt in ("table", "csv"):
        out = subprocess.run([venv_bin("tracker"), "status", "--format", fmt], capture_output=True, text=True, env=env,
                             cwd=tmp_path, timeout=120)
        assert out.returncode == 0 and "gpt-6" in out.stdout.split("reports", 1)[1], out.stderr


def test_a_folder_the_tracker_did_not_make_is_left_alone(tmp_path, fake):
    config = write_config(tmp_path, fake.base_url)
    db = storage.open_database(config.database.path, create=True)
    add_events(db, [event_from_mapping({"id": "gpt-6", "name": "GPT-6 launch", "timestamp": NOW.isoformat() + "Z"})])
    mine = tmp_path / "data" / "reports" / "gpt-6"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my own notes")

    run_once(config, fake)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "my own notes"


def test_events_long_closed_or_far_ahead_get_no_report_and_the_job_can_be_turned_off(tmp_path, fake):
    config = write_config(tmp_path, fake.base_url)
    db = storage.open_database(config.database.path, create=True)
    old = NOW - timedelta(days=9)
    ahead = NOW + timedelta(days=8)
    soon = NOW + timedelta(hours=5)
    add_events(db, [event_from_mapping({"id": i, "name": i, "timestamp": ts.isoformat() + "Z"})
                    for i, ts in (("old", old), ("ahead", ahead), ("soon", soon))])
    run_once(config, fake)
    root = tmp_path / "data" / "reports"
    assert sorted(p.name for p in root.iterdir()) == ["soon"]
    assert live(tmp_path, "soon")["status"] == "waiting" and not (root / "soon" / "index.html").exists()

    off = tmp_path / "off"
    off.mkdir()
    config = write_config(off, fake.base_url, "[reports]\nenabled = false\n")
    storage.open_database(config.database.path, create=True)
    run_once(config, fake)
    assert not (off / "data" / "reports").exists()


@pytest.mark.parametrize("text, message", [
    ('[reports]\ndir = ""\n', "reports.dir must not be empty"),
    ("[reports]\nrecent_days = -1\n", "reports.recent_days"),
    ("[reports]\nevery = 1\n", "reports.every is not a known setting"),
])
def test_bad_reports_settings_are_refused_in_one_line(tmp_path, text, message):
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / "bad.toml", env={})


def test_reports_dir_defaults_beside_the_database(tmp_path):
    (tmp_path / "t.toml").write_text(f'[database]\npath = "{(tmp_path / "x" / "db.duckdb").as_posix()}"\n')
    config = load_config(tmp_path / "t.toml", env={})
    assert config.reports_dir == tmp_path / "x" / "reports"
    assert config.with_database(tmp_path / "y" / "db.duckdb").reports_dir == tmp_path / "y" / "reports"


@pytest.mark.slow
def test_the_running_daemon_rebuilds_after_each_price_job(tmp_path, fake):
    """The scheduler's wiring: a price job queues the reports job, which rebuilds as the clock moves."""
    import threading
    import time

    schedules = "".join(f'[schedules.{job}]\nevery = "{every}"\njitter = "0s"\n'
                        for job, every in (("markets", "2s"), ("categories", "1h"), ("members", "1h"), ("history", "3s")))
    config = write_config(tmp_path, fake.base_url, schedules)
    db = storage.open_database(config.database.path, create=True)
    add_events(db, [event_from_mapping({"id": "gpt-6", "name": "GPT-6 launch", "timestamp": NOW.isoformat() + "Z"})])
    executor = IngestExecutor(config, clock=fake.clock.now, publish_snapshots=False)
    daemon = Daemon(config, executor)
    runner = threading.Thread(target=daemon.run_forever, kwargs={"install_signals": False}, daemon=True)
    runner.start()

    def wait_for(predicate, what: str, timeout: float = 300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}")

    def observed() -> int:
        try:
            data = live(tmp_path)
        except (OSError, ValueError):
            return 0
        return data["periods_observed"] if data.get("status") == "ok" else 0

    try:
        first = wait_for(observed, "the first live report")
        FakeGeckoControl(fake.base_url).advance(3 * 3600)
        wait_for(lambda: observed() > first, "a report with more hours")
    finally:
        daemon.stop()
        runner.join(timeout=120)
        executor.close()
    assert not runner.is_alive()
