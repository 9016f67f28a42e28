"""A reader holding the database (like an open `duckdb -readonly` shell) longer than the
daemon's lock timeout: the daemon spools what it fetched, `tracker status` says so, and once
the reader goes the spool is written in order, with nothing lost against a clean run."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tracker.sources.fakegecko import FakeGeckoProcess

from .daemon_harness import (
    DaemonProcess,
    LockHolder,
    comparable_since,
    duplicate_counts,
    fake_args,
    frozen_now,
    history_frame,
    history_problems,
    once,
    query,
    run_tracker,
    spool_batches,
    status_json,
    utcnow,
    wait_for,
    watermarks,
    write_config,
)

HOLD_SECONDS = 600.0  # at most: the test releases the reader once every job has spooled
JOBS = {"categories", "markets", "members", "history"}


def _spooled_jobs(folder) -> list[str]:
    return [json.loads((p / "manifest.json").read_text())["job"] for p in spool_batches(folder)]


def _every_job_spooled(folder) -> bool:
    jobs = _spooled_jobs(folder)
    return JOBS <= set(jobs) and jobs.count("markets") >= 2


def _all_coins_covered(db_path, expected: int) -> bool:
    if spool_batches(db_path.parents[1]):
        return False
    return len(watermarks(db_path)) >= expected


@pytest.mark.slow
def test_a_held_lock_spools_batches_then_catches_up_with_nothing_lost(tmp_path):
    live, clean = tmp_path / "live", tmp_path / "clean"
    every = {"markets": "1s", "categories": "2s", "members": "2s", "history": "3s"}
    with FakeGeckoProcess(fake_args(now=frozen_now())) as fake:
        write_config(live, fake.base_url, every=every, lock_timeout=0.5)
        assert run_tracker(live, "init").returncode == 0
        db_path = live / "data" / "tracker.duckdb"
        with DaemonProcess(live) as daemon:
            with LockHolder(db_path, HOLD_SECONDS) as holder:
                # The reader holds on until every job (markets twice) has spooled a batch.
                wait_for(lambda: _every_job_spooled(live), 300, what="every job's batches in the spool")
                during = status_json(live)  # reads alongside the holder: readers share the file
                runs_while_held = len(query(db_path, "SELECT * FROM ingest_runs"))
                spooled_jobs = set(_spooled_jobs(live))
                holder.release()
            released = utcnow()
            wait_for(lambda: not spool_batches(live), 300, what="the spool to drain")
            clean_started = utcnow()
            write_config(clean, fake.base_url, every=every)
            reference = once(clean)
            assert reference.returncode == 0, reference.stderr[-2000:]
            expected = len(watermarks(clean / "data" / "tracker.duckdb"))
            wait_for(lambda: _all_coins_covered(db_path, expected), 300, what="the backfill to catch up")
            assert daemon.terminate() == 0
            log = daemon.log()

    assert runs_while_held == 0  # nothing was written while the reader held the file
    assert during["daemon"][0]["spool_waiting"] > 0 and during["daemon"][0]["alive"] is True
    assert JOBS <= spooled_jobs
    assert "database not writable" in log and "spool drained" in log and "Traceback" not in log

    # Nothing lost: every markets run (spooled ones included) stored its snapshot.
    markets = query(db_path, "SELECT run_id, status, rows, started_at, error FROM ingest_runs WHERE job = 'markets'")
    # Markets runs every second, so one may be in flight when the test stops the daemon: it ends
    # with the client's "stopped ..." note, having stored what it had (perhaps nothing).
    stopped = markets["error"].fillna("").str.contains("stopped (?:before|while waiting to) call", regex=True)
    assert stopped.sum() <= 1, markets.loc[stopped].to_dict("records")
    finished = markets[~stopped]
    assert set(finished["status"]) == {"ok"} and (finished["rows"] > 0).all(), markets.to_dict("records")
    held_runs = markets[markets["started_at"] < released]
    assert len(held_runs) >= 2 and not stopped[held_runs.index].any()
    observed = query(db_path, "SELECT count(DISTINCT observed_at) AS n FROM market_snapshots")["n"][0]
    assert observed == (markets["rows"] > 0).sum()
    # The history equals a clean single run's, watermarks included.
    clean_db = clean / "data" / "tracker.duckdb"
    since = comparable_since(clean_started)
    assert history_frame(db_path, since).equals(history_frame(clean_db, since))
    assert watermarks(db_path) == watermarks(clean_db)
    assert not history_problems(db_path)
    assert set(duplicate_counts(db_path).values()) == {0}
    assert "running" not in set(query(db_path, "SELECT status FROM ingest_runs")["status"])


@pytest.mark.slow
def test_killed_while_batches_wait_in_the_spool_then_restarted(tmp_path):
    """kill -9 while a reader holds the file and a history run's batches wait in the spool:
    the next start writes them (in order) and only then marks the killed run abandoned, so no
    run is left 'running'; the history ends equal to a clean run's."""
    live, clean = tmp_path / "live", tmp_path / "clean"
    with FakeGeckoProcess(fake_args(now=frozen_now())) as fake:
        write_config(live, fake.base_url, history_days=20)
        assert once(live).returncode == 0  # 20 days stored; the daemon below reaches back 30
        write_config(live, fake.base_url, lock_timeout=0.5)
        fake.control.add_fault("slow", endpoint="/coins/*/market_chart/range", delay=0.3, times=None)
        db_path = live / "data" / "tracker.duckdb"
        daemon = DaemonProcess(live)
        try:
            with LockHolder(db_path, HOLD_SECONDS):
                daemon.start()
                wait_for(lambda: sum(json.loads((p / "manifest.json").read_text())["job"] == "history"
                                     for p in spool_batches(live)) >= 3, 300, what="history batches in the spool")
                daemon.kill9()
                waiting = len(spool_batches(live))
            daemon.start()
            wait_for(lambda: not spool_batches(live), 300, what="the spool to drain")
            fake.control.clear_faults()
            write_config(clean, fake.base_url)
            clean_ok = once(clean).returncode == 0
            expected = watermarks(clean / "data" / "tracker.duckdb")
            wait_for(lambda: _history_ran(daemon), 300, what="a history run in the new life")
            assert daemon.terminate() == 0
        finally:
            daemon.cleanup()

    assert clean_ok and waiting >= 3
    runs = query(db_path, "SELECT job, status, rows FROM ingest_runs WHERE job = 'history' ORDER BY started_at")
    assert "running" not in set(query(db_path, "SELECT status FROM ingest_runs")["status"])
    # The killed run: its spooled batches were written (rows), then it was marked abandoned.
    killed = runs[runs["status"] == "abandoned"]
    assert len(killed) == 1 and killed["rows"].iloc[0] > 0, runs
    since = comparable_since(utcnow())
    clean_db = clean / "data" / "tracker.duckdb"
    assert history_frame(db_path, since).equals(history_frame(clean_db, since))
    assert watermarks(db_path) == expected
    assert not history_problems(db_path) and set(duplicate_counts(db_path).values()) == {0}
    starts = query(db_path, "SELECT scope, detail FROM ingest_state WHERE job = 'history' AND scope <> '*'")
    reach = [json.loads(d)["start"] for d in starts["detail"]]
    assert max(reach) < (utcnow() - timedelta(days=29)).isoformat()  # every coin reaches back 30 days


def _history_ran(daemon: DaemonProcess) -> bool:
    beat = daemon.heartbeat() or {}
    return beat.get("pid") == daemon.pid and beat.get("jobs", {}).get("history", {}).get("status") in ("ok", "partial")
