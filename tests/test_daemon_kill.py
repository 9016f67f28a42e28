"""kill -9 at random moments during a history backfill, many times, then a restart that runs
to the end: no duplicate rows, no partial batch, watermarks that match the rows, killed runs
marked abandoned, and a backfill that resumed where it stopped: the final state equals a clean
single run's against the same frozen fake clock."""
from __future__ import annotations

import random
import time
from datetime import timedelta
from urllib.parse import parse_qs

import pytest

from tracker.sources.fakegecko import FakeGeckoProcess

from .daemon_harness import (
    DaemonProcess,
    comparable_since,
    duplicate_counts,
    fake_args,
    frozen_now,
    history_frame,
    history_problems,
    once,
    query,
    table_exists,
    utcnow,
    wait_for,
    watermarks,
    write_config,
)

SEED = 4_2026
KILLS = 20
CHART = "/coins/*/market_chart/range"


def _full_backfill_calls(requests: list[dict], data_now) -> dict[str, int]:
    """Per coin, the chart calls that asked for the whole 30 days (a fresh start, not a top-up)."""
    cutoff = (data_now - timedelta(days=29)).timestamp()
    out: dict[str, int] = {}
    for request in requests:
        if not request["path"].endswith("/market_chart/range"):
            continue
        start = float(parse_qs(request["query"])["from"][0])
        if start < cutoff:
            coin = request["path"].split("/")[2]
            out[coin] = out.get(coin, 0) + 1
    return out


def _stored(db_path) -> int:
    """Coins with a stored batch (a watermark) so far."""
    return len(watermarks(db_path)) if table_exists(db_path) else 0


def _history_ran(daemon: DaemonProcess) -> bool:
    """This life of the daemon has finished a history run (its heartbeat says so)."""
    beat = daemon.heartbeat() or {}
    return beat.get("pid") == daemon.pid and beat.get("jobs", {}).get("history", {}).get("status") in ("ok", "partial")


@pytest.mark.slow
def test_kill9_many_times_then_restart_equals_a_clean_run(tmp_path):
    rng = random.Random(SEED)
    live, clean = tmp_path / "live", tmp_path / "clean"
    data_now = frozen_now()
    with FakeGeckoProcess(fake_args(ai_coins=36, other_coins=8, now=data_now)) as fake:
        write_config(clean, fake.base_url)
        reference = once(clean)
        assert reference.returncode == 0, reference.stderr[-2000:]
        clean_db = clean / "data" / "tracker.duckdb"
        coins = len(watermarks(clean_db))
        fake.control.reset_stats()
        # Slow chart calls stretch the backfill over many lives of the daemon.
        fake.control.add_fault("slow", endpoint=CHART, delay=0.4, times=None)
        write_config(live, fake.base_url, every={"markets": "1s", "categories": "2s", "members": "2s"})
        daemon = DaemonProcess(live)
        db_path = daemon.db_path
        progress, stored = [], 0
        try:
            for life in range(KILLS):
                daemon.start()
                # Each kill waits for a moment in the daemon's life, not a time: its first
                # heartbeat (start-up done) or, every other life and the first, a new batch
                # stored. A random pause of up to one chart call then lands it mid-call.
                wait_for(lambda: (daemon.heartbeat() or {}).get("pid") == daemon.pid, 120,
                         what=f"life {life + 1}'s heartbeat")
                if life == 0 or rng.random() < 0.5:
                    wait_for(lambda before=stored: _stored(db_path) > before, 120, what=f"life {life + 1} to store a batch")
                time.sleep(rng.uniform(0.0, 0.4))
                assert daemon.running(), f"the daemon died on its own:\n{daemon.log()[-3000:]}"
                daemon.kill9()
                # Between lives, what is stored is always whole and consistent.
                if table_exists(db_path):
                    assert not history_problems(db_path), history_problems(db_path)
                    assert set(duplicate_counts(db_path).values()) == {0}
                    stored = len(watermarks(db_path))
                    progress.append(stored)
            # The last life runs until its history run has been through every coin.
            daemon.start()
            wait_for(lambda: _history_ran(daemon) and len(watermarks(db_path)) == coins, 300,
                     what="the backfill to finish")
            assert daemon.terminate() == 0
        finally:
            daemon.cleanup()
        requests = fake.control.stats()["requests"]
    finished = utcnow()

    log = daemon.log()
    assert "Traceback" not in log
    # The kills landed during the backfill: every life stored part of it (the first waited for
    # a batch; about half the lives stored one more), none lost any of it.
    assert len(progress) == KILLS and progress == sorted(progress), progress
    assert all(0 < done < coins for done in progress), progress
    # No duplicates, no partial batch, watermarks that agree with the rows.
    assert set(duplicate_counts(db_path).values()) == {0}
    assert not history_problems(db_path)
    statuses = query(db_path, "SELECT status, count(*) AS n FROM ingest_runs GROUP BY status")
    statuses = dict(zip(statuses["status"], statuses["n"]))
    assert "running" not in statuses and statuses.get("abandoned", 0) >= 1, statuses
    assert not list((live / "data" / "spool").glob(".*.tmp")) and not list((live / "data" / "snapshot").glob(".*.tmp*"))
    # Resumed where it stopped: each coin's whole 30 days were asked for once, plus at most
    # once more for each kill that caught its call in flight.
    full = _full_backfill_calls(requests, data_now)
    assert len(full) == coins
    assert sum(full.values()) <= coins + KILLS, full
    # The final state equals a clean single run's.
    since = comparable_since(finished)  # every life and the clean run reached back from before this
    mine, theirs = history_frame(db_path, since), history_frame(clean_db, since)
    assert len(mine) > 0.9 * len(history_frame(clean_db, data_now - timedelta(days=40)))
    assert mine.equals(theirs)
    assert watermarks(db_path) == watermarks(clean_db)
