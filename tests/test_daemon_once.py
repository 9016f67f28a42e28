"""`tracker daemon --once`: every job once, exit 0; the banner names plan, database and
schedules with the key masked; the key appears nowhere (output, heartbeat, spool, database)."""
from __future__ import annotations

import json
import re

import pytest

import storage
from tracker.sources.fakegecko import FakeGeckoProcess

from .daemon_harness import (
    DaemonProcess,
    LockHolder,
    fake_args,
    files_text,
    frozen_now,
    once,
    query,
    spool_batches,
    wait_for,
    write_config,
)
from .gecko_helpers import all_text

KEY = "CG-dem0Key-7f3a9c2e5b1d4f60"


@pytest.mark.slow
def test_once_runs_every_job_masks_the_key_and_spools_without_it(tmp_path):
    env = {"COINGECKO_API_KEY": KEY, "COINGECKO_PLAN": "demo"}
    with FakeGeckoProcess(fake_args(now=frozen_now())) as fake:
        write_config(tmp_path, fake.base_url, lock_timeout=1.0)
        first = once(tmp_path, env=env)
        stats = fake.control.stats()
        db_path = tmp_path / "data" / "tracker.duckdb"
        # A reader holds the file through a second run: its batches wait in the spool.
        with LockHolder(db_path, 600):  # released when the block ends, however long the run takes
            second = once(tmp_path, env=env)
            spooled = [json.loads((p / "manifest.json").read_text())["job"] for p in spool_batches(tmp_path)]
            spool_text = files_text(tmp_path / "data" / "spool")
        third = once(tmp_path, env=env)  # the reader is gone: the spool is written first
        outputs = [first, second, third]

    assert [r.returncode for r in outputs] == [0, 0, 0], [r.stderr[-2000:] for r in outputs]
    banner = first.stderr
    assert re.search(rf"plan: demo at {re.escape(fake.base_url)} \(API key set \({len(KEY)} characters, masked\)\)", banner)
    assert "database: data/tracker.duckdb (snapshot: data/snapshot, spool: data/spool)" in banner
    for job, when in (("categories", "every 3s"), ("markets", "every 2s"), ("members", "every 3s"),
                      ("history", "every 3600s, jitter 0s, and at start")):
        assert re.search(rf"job {job}: {when}", banner), job
    assert re.search(r"markets: ok, \d+ calls, \d+ rows", banner)
    # Every call carried the demo key in its header, none in a query string.
    assert stats["key_in_query"] == 0 and stats["calls"] > 0
    assert {r["auth"] for r in stats["requests"]} == {"demo"}

    runs = query(db_path, "SELECT job, status FROM ingest_runs ORDER BY started_at")
    assert list(runs["job"][:4]) == ["categories", "markets", "members", "history"]
    assert set(runs["status"]) == {"ok"}
    assert len(runs) == 12  # three runs of each job; the second's came through the spool
    assert spooled == ["categories", "markets", "members", "history"]
    assert "database not writable" in second.stderr and "spool drained" in third.stderr
    assert not spool_batches(tmp_path)

    everything = "\n".join(
        [r.stdout + r.stderr for r in outputs]
        + [spool_text, files_text(tmp_path), all_text(storage.Database(db_path)),
           all_text(storage.Database(tmp_path / "data" / "snapshot" / "tracker.duckdb"))]
    )
    assert KEY not in everything
    assert KEY[3:15] not in everything  # not even a piece of it
    beat = json.loads((tmp_path / "data" / "tracker.duckdb.daemon.json").read_text())
    assert beat["stopped"] is True and beat["plan"] == "demo"


@pytest.mark.slow
def test_a_second_daemon_on_the_same_database_is_refused(tmp_path):
    with FakeGeckoProcess(fake_args(ai_coins=4, other_coins=2, now=frozen_now())) as fake:
        write_config(tmp_path, fake.base_url)
        with DaemonProcess(tmp_path) as daemon:
            wait_for(daemon.heartbeat, 120, what="the first daemon's heartbeat")
            second = once(tmp_path)
            still_running = daemon.running()
            code = daemon.terminate()
    assert second.returncode == 1
    assert second.stderr.strip().splitlines() == [
        f"error: a tracker daemon (PID {daemon.pid}) is already running against data/tracker.duckdb; "
        "stop it first (its jobs already do this work)"
    ]
    assert still_running and code == 0
