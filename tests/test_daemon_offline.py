"""Offline (nothing listens at the configured URL): the daemon stays up, says once per job
when it will try again, backs off, does not flood its log, records the failed runs, and stops cleanly."""
from __future__ import annotations

import re
import socket
import time

import pytest

from .daemon_harness import DaemonProcess, log_lines, query, status_json, wait_for, write_config

JOBS = ("categories", "markets", "members", "history")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _failed_runs(db_path, job: str) -> int:
    if not db_path.exists():
        return 0
    return int(query(db_path, "SELECT count(*) AS n FROM ingest_runs WHERE job = ? AND status = 'failed'", [job])["n"][0])


@pytest.mark.slow
def test_offline_daemon_stays_up_and_logs_each_failure_once(tmp_path):
    write_config(tmp_path, f"http://127.0.0.1:{closed_port()}/api/v3",
                 every={"markets": "1s", "categories": "2s", "members": "2s", "history": "2s"})
    with DaemonProcess(tmp_path) as daemon:
        # Several failed runs of every job.
        wait_for(lambda: all(_failed_runs(daemon.db_path, job) >= 3 for job in JOBS), 300, what="three failed runs per job")
        time.sleep(1.0)
        assert daemon.running(), daemon.log()[-3000:]
        status = status_json(tmp_path)
        code = daemon.terminate()
        log = daemon.log()

    assert code == 0
    assert "Traceback" not in log
    lines = log_lines(log)
    runs = query(daemon.db_path, "SELECT job, status, error FROM ingest_runs")
    # A run in flight when SIGTERM arrives is recorded as stopped, with the client's "stopped ...".
    assert set(runs["status"]) <= {"failed", "stopped"} and "failed" in set(runs["status"])
    refused = "(connection refused): check the network, a proxy, or COINGECKO_BASE_URL"
    assert all(refused in e for e in runs[runs["status"] == "failed"]["error"]), sorted(set(runs["error"]))
    assert all("stopped" in e for e in runs[runs["status"] == "stopped"]["error"])
    assert sum(refused in e for e in runs["error"]) >= 3 * len(JOBS)
    for job in JOBS:
        failures = [line for line in lines if re.search(rf"ERROR +{job} failed: ", line)]
        # The first failure in full, with when the next try is; the repeats are silent.
        assert len(failures) == 1, (job, failures)
        assert re.search(r"; next try at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$", failures[0]), failures[0]
        # Backing off: the schedule says every 1-2 s, the next try is 30 s away.
        assert "; backing off 30s; next try at" in failures[0], failures[0]
    # Bounded: the banner (8), the start lines, one line per kind of library message (a retry,
    # a call given up, a coin failed, a note), the stop lines, and per job at most one failure
    # line and one note of each kind a busy machine can add (a run skipped because the last
    # one was still running, a run missed, a run stopped for shutdown), however many runs
    # failed (at least 12 here, each with several retried calls).
    total_failed = len(runs)
    assert total_failed >= 12
    for job in JOBS:
        for note in ("still running from the last time", "a run was missed", "stopped for shutdown"):
            assert sum(f"{job}: {note}" in line for line in lines) <= 1, (job, note)
    assert len(lines) <= 8 + 2 + 6 + 2 + 4 * len(JOBS), "\n".join(lines)
    # `tracker status` tells the story while it runs: alive, the errors, when each job runs next.
    daemon_row = status["daemon"][0]
    assert daemon_row["alive"] is True
    assert {e["job"] for e in status["recent_errors"]} & set(JOBS)
    assert all(row["next_run"] for row in status["schedule"])
    assert {row["last_status"] for row in status["schedule"]} == {"failed"}
    # No retry, give-up or per-coin lines: one line per failed run at most (repeats are silent).
    assert not [line for line in lines if "retry" in line or "failed after" in line], "\n".join(lines)
