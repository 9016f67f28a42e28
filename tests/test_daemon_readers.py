"""SQL readers query the live file while the daemon fills it: `tracker sql` (which retries on
the lock by itself) never fails, and the stock `duckdb` CLI (which does not) succeeds with the
retry loop docs/daemon.md shows.

Nothing here depends on the machine's speed: the readers run until each has watched the
backfill grow (a condition, with a generous deadline), and the fake's slow chart calls keep the
backfill going until then, however slowly the readers start."""
from __future__ import annotations

import subprocess
import threading

import pytest

from tracker.sources.fakegecko import FakeGeckoProcess

from .conftest import subprocess_env
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

SQL = "SELECT count(*) FROM price_history"
CHART = "/coins/*/market_chart/range"
COINS = 50  # 40 AI coins and 10 others


def _grew(rows: list[tuple]) -> bool:
    """At least two successful reads that saw different row counts."""
    return len({r[1] for r in rows if r[0]}) >= 2


def _writes(daemon: DaemonProcess, job: str) -> int:
    beat = daemon.heartbeat() or {}
    return int(((beat.get("lock_held_ms") or {}).get(job) or {}).get("writes") or 0)


@pytest.mark.slow
def test_duckdb_cli_and_tracker_sql_read_throughout_a_backfill(tmp_path):
    with FakeGeckoProcess(fake_args(ai_coins=40, other_coins=10, now=frozen_now())) as fake:
        # Slow chart calls keep the backfill going (at least 50 s) while the readers start up.
        fake.control.add_fault("slow", endpoint=CHART, delay=1.0, times=None)
        write_config(tmp_path, fake.base_url, every={"markets": "1s", "categories": "2s", "members": "2s"})
        with DaemonProcess(tmp_path) as daemon:
            wait_for(lambda: table_exists(daemon.db_path), 300, what="the database")
            results: dict[str, list[tuple]] = {"tracker": [], "duckdb": []}
            stop = threading.Event()

            def tracker_sql():
                while not stop.is_set():
                    done = subprocess.run([TRACKER, "sql", SQL, "--format", "csv"], cwd=tmp_path, env=subprocess_env(),
                                          capture_output=True, text=True, timeout=120)
                    ok = done.returncode == 0
                    results["tracker"].append((ok, int(done.stdout.splitlines()[1]) if ok else done.stderr.strip()))

            def duckdb_cli():
                while not stop.is_set():
                    ok, attempts, out = duckdb_cli_read(daemon.db_path, SQL)
                    results["duckdb"].append((ok, int(out.strip()) if ok else out.strip(), attempts))
                    stop.wait(0.2)

            readers = [threading.Thread(target=tracker_sql), threading.Thread(target=duckdb_cli)]
            for reader in readers:
                reader.start()
            try:
                # Both readers watch the backfill grow; then it may finish at full speed.
                wait_for(lambda: all(_grew(rows) for rows in results.values()) or not all(r.is_alive() for r in readers),
                         300, what="both readers to see the backfill grow")
                fake.control.clear_faults()
                wait_for(lambda: history_done(daemon.db_path), 300, what="the backfill to finish")
                wait_for(lambda: _writes(daemon, "markets") >= 1, 120, what="a markets write in the heartbeat")
            finally:
                stop.set()
                for reader in readers:
                    reader.join(180)
            assert daemon.terminate() == 0
            held = daemon.heartbeat()["lock_held_ms"]
            log = daemon.log()

    failures = [r for r in results["tracker"] + results["duckdb"] if not r[0]]
    assert not failures, failures[:3]  # no read failed, with either reader
    for name, rows in results.items():
        counts = [r[1] for r in rows]
        # Each reader saw the backfill grow while it ran, and never saw a count go down.
        assert counts == sorted(counts) and counts[-1] > counts[0], (name, counts)
    assert "Traceback" not in log
    # Every coin's backfill was one write; markets wrote between them.
    assert held["history"]["writes"] >= 10 and held["markets"]["writes"] >= 1, held
