"""SQL readers query the live file while the daemon fills it: `tracker sql` (which retries on
the lock by itself) never fails, and the stock `duckdb` CLI (which does not) succeeds with the
short retry loop docs/daemon.md shows."""
from __future__ import annotations

import subprocess
import threading
import time

import pytest

from tracker.fakegecko import FakeGeckoProcess

from .daemon_harness import (
    TRACKER,
    DaemonProcess,
    duckdb_cli_read,
    fake_args,
    frozen_now,
    history_done,
    table_exists,
    wait_for,
    write_config,
)
from .conftest import subprocess_env

READ_SECONDS = 15.0
SQL = "SELECT count(*) FROM price_history"


@pytest.mark.slow
def test_duckdb_cli_and_tracker_sql_read_throughout_a_backfill(tmp_path):
    with FakeGeckoProcess(fake_args(ai_coins=40, other_coins=10, now=frozen_now())) as fake:
        # Slow chart calls stretch the backfill over the whole reading window.
        fake.control.add_fault("slow", endpoint="/coins/*/market_chart/range", delay=0.5, times=None)
        write_config(tmp_path, fake.base_url, every={"markets": "1s", "categories": "2s", "members": "2s"})
        with DaemonProcess(tmp_path) as daemon:
            wait_for(lambda: table_exists(daemon.db_path), 30, what="the database")
            results = {"tracker": [], "duckdb": []}
            stop = time.monotonic() + READ_SECONDS

            def tracker_sql():
                while time.monotonic() < stop:
                    done = subprocess.run([TRACKER, "sql", SQL, "--format", "csv"], cwd=tmp_path, env=subprocess_env(),
                                          capture_output=True, text=True, timeout=60)
                    ok = done.returncode == 0
                    results["tracker"].append((ok, int(done.stdout.splitlines()[1]) if ok else done.stderr.strip()))

            def duckdb_cli():
                while time.monotonic() < stop:
                    ok, attempts, out = duckdb_cli_read(daemon.db_path, SQL)
                    results["duckdb"].append((ok, int(out.strip()) if ok else out.strip(), attempts))
                    time.sleep(0.02)

            readers = [threading.Thread(target=tracker_sql), threading.Thread(target=duckdb_cli)]
            for reader in readers:
                reader.start()
            for reader in readers:
                reader.join()
            backfilled_while_reading = not history_done(daemon.db_path)
            assert daemon.terminate() == 0
            held = daemon.heartbeat()["lock_held_ms"]

    tracker_ok = [r for r in results["tracker"] if r[0]]
    cli_ok = [r for r in results["duckdb"] if r[0]]
    failures = [r for r in results["tracker"] + results["duckdb"] if not r[0]]
    assert len(results["tracker"]) >= 8 and len(results["duckdb"]) >= 30, {k: len(v) for k, v in results.items()}
    assert len(tracker_ok) == len(results["tracker"]), failures[:3]  # tracker sql: no failure at all
    assert len(cli_ok) >= 0.99 * len(results["duckdb"]), failures[:3]
    # The readers saw the backfill grow (each reader's counts never go down).
    for rows in (tracker_ok, cli_ok):
        counts = [r[1] for r in rows]
        assert counts == sorted(counts) and counts[-1] > counts[0]
    assert backfilled_while_reading  # 42 coins at 0.5 s a call (21 s) outlast the 15 s window
    # The CLI needed its retry now and then (the daemon really was writing), briefly.
    assert max(r[2] for r in cli_ok) > 1
    assert held["history"]["writes"] >= 10 and held["markets"]["writes"] >= 5
