"""`tracker ingest` tells cron and CI apart from success: a partial run exits 3, and when the
database stays locked the fetched batches are kept in the spool (exit 4) and written, in order,
by the next ingest, never thrown away."""
from __future__ import annotations

import json

import pandas as pd
import pytest

import storage
from tracker.sources.fakegecko import FakeGecko

from .daemon_harness import LockHolder, run_tracker, spool_batches

CONFIG = ("[database]\nlock_timeout_seconds = 0.5\n"
          "[coingecko]\ncalls_per_minute = 3000\nbackoff_seconds = 0.01\nbackoff_max_seconds = 0.05\n"
          "[tracking]\nhistory_days = 3\n")


def _runs(folder) -> pd.DataFrame:
    db = storage.open_database(folder / "data" / "tracker.duckdb")
    return storage.query(db, "SELECT job, status, rows FROM ingest_runs ORDER BY started_at")


def _setup(folder):
    (folder / "tracker.toml").write_text(CONFIG)
    assert run_tracker(folder, "init").returncode == 0


def test_a_partial_ingest_exits_3(tmp_path):
    _setup(tmp_path)
    with FakeGecko(ai_coins=2, other_coins=2) as server:
        server.add_fault("not_found", endpoint="/coins/ethereum/market_chart/range", times=None)
        done = run_tracker(tmp_path, "ingest", "history", "--format", "json", env={"COINGECKO_BASE_URL": server.base_url})
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)[0]["status"] == "partial"
    assert "warning: history finished partial" in done.stderr and "unexpected" not in done.stderr


@pytest.mark.slow  # over 3 s on a quiet machine
def test_a_locked_database_keeps_the_fetched_batches_in_the_spool_and_the_next_ingest_writes_them(tmp_path):
    _setup(tmp_path)
    db_path = tmp_path / "data" / "tracker.duckdb"
    with FakeGecko(ai_coins=3, other_coins=2) as server:
        env = {"COINGECKO_BASE_URL": server.base_url}
        with LockHolder(db_path, 300):  # another process holds the file past the 0.5 s lock timeout
            held = run_tracker(tmp_path, "ingest", "all", "--format", "json", env=env)
            fetched = server.stats()["calls"]
            waiting = spool_batches(tmp_path)
        assert held.returncode == 4, held.stderr
        assert {r["status"] for r in json.loads(held.stdout)} == {"spooled"}
        notice = [line for line in held.stderr.splitlines() if line.startswith("warning: database not writable")]
        assert len(notice) == 1, held.stderr
        assert f"{len(waiting)} fetched batch(es) kept in the spool data/spool" in notice[0]
        assert "the next `tracker ingest` or daemon run writes them" in notice[0]
        assert fetched > 0 and len(waiting) >= 4  # one batch per job at least, none dropped
        assert {json.loads((p / "manifest.json").read_text())["job"] for p in waiting} == {"categories", "markets", "members", "history"}
        assert _runs(tmp_path).empty  # nothing was written while the file was held

        # The holder has gone: the next ingest writes the waiting batches first, then its own.
        after = run_tracker(tmp_path, "ingest", "categories", env=env)
    assert after.returncode == 0, after.stderr
    assert f"note: wrote {len(waiting)} batch(es) an earlier run left in the spool" in after.stderr
    assert spool_batches(tmp_path) == []
    runs = _runs(tmp_path)
    assert list(runs["job"]) == ["categories", "markets", "members", "history", "categories"]
    assert set(runs["status"]) == {"ok"} and (runs["rows"] > 0).all()


@pytest.mark.slow  # over 4 s on a quiet machine
def test_while_a_daemon_owns_the_spool_a_cli_ingest_queues_behind_its_batches(tmp_path):
    from jobs.instance import InstanceLock

    _setup(tmp_path)
    db_path = tmp_path / "data" / "tracker.duckdb"
    with FakeGecko(ai_coins=2, other_coins=2) as server:
        env = {"COINGECKO_BASE_URL": server.base_url}
        with LockHolder(db_path, 300):
            assert run_tracker(tmp_path, "ingest", "markets", env=env).returncode == 4
        first = spool_batches(tmp_path)
        with InstanceLock(db_path):  # as a running daemon holds it: the spool is the daemon's to write
            queued = run_tracker(tmp_path, "ingest", "categories", env=env)
            assert queued.returncode == 4, queued.stderr
            assert "written first, by the running daemon" in queued.stderr
            assert spool_batches(tmp_path)[: len(first)] == first and len(spool_batches(tmp_path)) == len(first) + 1
            assert _runs(tmp_path).empty
        done = run_tracker(tmp_path, "ingest", "members", env=env)
    assert done.returncode == 0, done.stderr
    assert list(_runs(tmp_path)["job"]) == ["markets", "categories", "members"]  # in the order fetched
