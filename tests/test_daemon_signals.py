"""`tracker daemon` as a real process: SIGTERM and SIGINT stop it cleanly, even with a call hanging."""
from __future__ import annotations

import signal
import time

import pytest

from tracker.sources.fakegecko import FakeGeckoProcess

from .daemon_harness import (
    DaemonProcess,
    duplicate_counts,
    fake_args,
    frozen_now,
    history_problems,
    query,
    scalar,
    table_exists,
    wait_for,
    write_config,
)

CALL_TIMEOUT = 4.0  # coingecko.timeout_seconds in these tests
CHART = "/coins/*/market_chart/range"
SLOW = {"kind": "slow", "endpoint": CHART, "delay": 0.2, "times": None}
HANG = 300.0  # how long the hanging call would hold: the daemon must stop long before
QUIET = {"markets": "1h", "categories": "1h", "members": "1h"}  # only history calls during the test


def _coins_done(db_path) -> int:
    if not table_exists(db_path):
        return 0
    return int(scalar(db_path, "SELECT count(*) FROM ingest_state WHERE job = 'history' AND scope <> '*'"))


def _timeouts_fired(fake) -> int:
    return fake.control.stats()["faults_fired"].get("timeout", 0)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_backfill_abandons_the_hanging_call_and_exits_0(tmp_path, signum):
    """A signal while a history call hangs: the call is abandoned at its timeout, the run is
    recorded (never left 'running'), nothing partial is written, the heartbeat says stopped,
    and the exit code is 0, long before the hanging call would have ended."""
    with FakeGeckoProcess(fake_args(now=frozen_now())) as fake:
        fake.control.add_faults([SLOW])
        write_config(tmp_path, fake.base_url, timeout=CALL_TIMEOUT, every=QUIET)
        with DaemonProcess(tmp_path) as daemon:
            wait_for(lambda: _coins_done(daemon.db_path) >= 2, 300, what="two coins backfilled")
            # The next chart call hangs (the fake holds the connection open).
            # (Rules apply first match first: the hang goes before the slowness.)
            fake.control.add_faults([{"kind": "timeout", "endpoint": CHART, "delay": HANG, "times": 1}, SLOW], replace=True)
            wait_for(lambda: _timeouts_fired(fake), 120, what="a call hanging")
            calls_at_signal = fake.control.stats()["calls"]
            sent = time.monotonic()
            daemon.process.send_signal(signum)
            code = daemon.wait(HANG / 2)
            took = time.monotonic() - sent
            log = daemon.log()
            beat = daemon.heartbeat()
        calls_after = fake.control.stats()["calls"]

    assert code == 0, log[-3000:]
    # The call was abandoned at its timeout, not waited out (a busy machine may add seconds).
    assert took < HANG / 2, f"took {took:.1f}s to stop"
    assert f"received {signum.name}" in log and "daemon stopped" in log
    assert "Traceback" not in log
    assert beat["stopped"] is True
    assert all("next_run" not in entry for entry in beat["jobs"].values())
    runs = query(daemon.db_path, "SELECT job, status FROM ingest_runs")
    assert "running" not in set(runs["status"]), runs
    assert not history_problems(daemon.db_path)
    assert set(duplicate_counts(daemon.db_path).values()) == {0}
    # No new call after the signal (only history was calling; at most one already sent).
    assert calls_after - calls_at_signal <= 1


@pytest.mark.slow
def test_sigterm_during_once_stops_after_the_call_in_flight(tmp_path):
    """`tracker daemon --once` handles SIGTERM too: the history run in progress stops at the
    next call, records itself, and the process exits 0 with nothing left 'running'."""
    with FakeGeckoProcess(fake_args(now=frozen_now())) as fake:
        # A second a coin: the 18-coin run is still going when the signal lands, however
        # long the test takes to notice the first two coins.
        fake.control.add_faults([dict(SLOW, delay=1.0)])
        write_config(tmp_path, fake.base_url, timeout=CALL_TIMEOUT)
        with DaemonProcess(tmp_path, args=("--once",)) as daemon:
            wait_for(lambda: _coins_done(daemon.db_path) >= 2, 300, what="two coins backfilled")
            daemon.process.send_signal(signal.SIGTERM)
            code = daemon.wait(120)
            log = daemon.log()
    assert code == 0, log[-3000:]
    assert "received SIGTERM" in log and "history: stopped for shutdown" in log and "Traceback" not in log
    runs = query(daemon.db_path, "SELECT job, status FROM ingest_runs")
    # Issue 17: a run cut short by SIGTERM is 'stopped' (it was 'partial', read as a failure).
    assert dict(zip(runs["job"], runs["status"]))["history"] == "stopped"
    assert "running" not in set(runs["status"])
    # 'stopped' above says it ended before the last coin.
    assert 2 <= _coins_done(daemon.db_path) and not history_problems(daemon.db_path)
