"""`tracker status` against a live daemon: last and next runs while it is alive (heartbeat),
lock-held times, freshness and errors; no next run once it has stopped."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tracker.sources.fakegecko import FakeGeckoProcess

from .daemon_harness import DaemonProcess, fake_args, frozen_now, history_done, run_tracker, status_json, wait_for, write_config

JOBS = ["categories", "markets", "members", "history"]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.slow
def test_status_shows_next_runs_while_alive_and_none_after_stop(tmp_path):
    with FakeGeckoProcess(fake_args(ai_coins=6, other_coins=3, now=frozen_now())) as fake:
        fake.control.add_fault("rate_limit", endpoint="/coins/categories", retry_after=0, times=None)
        write_config(tmp_path, fake.base_url, max_retries=0)
        started_at = datetime.now(timezone.utc)
        with DaemonProcess(tmp_path) as daemon:
            wait_for(lambda: history_done(daemon.db_path), 300, what="the first backfill")
            wait_for(lambda: (daemon.heartbeat() or {}).get("jobs", {}).get("markets", {}).get("next_run"), 120,
                     what="a scheduled markets run")
            alive = status_json(tmp_path)
            table = run_tracker(tmp_path, "status")
            checked_at = datetime.now(timezone.utc)
            assert daemon.terminate() == 0
        stopped = status_json(tmp_path)

    head = alive["daemon"][0]
    assert head["alive"] is True and head["pid"] == daemon.pid and head["plan"] == "keyless"
    assert head["heartbeat_age_s"] < 60 and head["spool_waiting"] == 0
    schedule = {row["job"]: row for row in alive["schedule"]}
    assert sorted(schedule) == sorted(JOBS)
    for job in JOBS:
        row = schedule[job]
        # Interval jobs of seconds run next within seconds of the heartbeat that planned them;
        # history (hourly) within the hour. A busy machine may leave a planned run overdue
        # (the heartbeat is older than the check), so only the daemon's start bounds it below.
        horizon = timedelta(hours=1, seconds=5) if job == "history" else timedelta(seconds=10)
        assert started_at - timedelta(seconds=5) <= _when(row["next_run"]) <= checked_at + horizon, (job, row)
        assert row["last_finished"] is not None
    assert schedule["markets"]["last_status"] == "ok" and schedule["history"]["last_status"] == "ok"
    assert schedule["categories"]["last_status"] == "failed"  # every call is rate-limited
    for job in ("markets", "history"):
        row = schedule[job]
        assert row["writes"] >= 1 and 0 < row["lock_ms_median"] <= row["lock_ms_p95"] <= row["lock_ms_max"]
    # The database's own sections: freshness per table, the last run per job, recent errors.
    tables = {row["table"]: row for row in alive["tables"]}
    assert tables["price_history"]["rows"] > 0 and tables["market_snapshots"]["age"]
    assert {row["job"] for row in alive["jobs"]} == set(JOBS)
    assert [e["job"] for e in alive["recent_errors"]][:1] == ["categories"]
    assert "429" in alive["recent_errors"][0]["error"] or "rate" in alive["recent_errors"][0]["error"].lower()
    assert table.returncode == 0 and "next_run" in table.stdout and "alive" in table.stdout

    assert stopped["daemon"][0]["alive"] is False
    assert all(row["next_run"] is None for row in stopped["schedule"])
    assert {row["job"]: row["last_status"] for row in stopped["schedule"]}["markets"] == "ok"
