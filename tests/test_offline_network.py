"""Offline: a host that cannot be reached (DNS, refused, no route) is tried twice, then the run
stops with one line; `tracker ingest all` starts no further job; Ctrl-C and SIGTERM record a
run as `stopped`, not `failed`."""
from __future__ import annotations

import errno
import json
import logging
import socket
import subprocess
import threading
import time

import pytest
import requests
import urllib3

from jobs.backoff import OfflineBackoff
from jobs.daemon import Daemon, describe_outcome
from jobs.executor import IngestExecutor
from tracker.config import load_config
from tracker.ingest import fetch_categories, fetch_markets, ingest_all
from tracker.ingest.run import drive
from tracker.sources.coingecko import CoinGeckoClient, RateLimiter, RetryPolicy, UnreachableError
from tracker.sources.coingecko.errors import CoinGeckoConnectionError, unreachable_reason

from .conftest import subprocess_env, venv_bin
from .gecko_helpers import TRACKING

HINT = "check the network, a proxy, or COINGECKO_BASE_URL"
UNRESOLVABLE = "http://tracker-test.invalid/api/v3"  # RFC 6761: .invalid never resolves
SECRET = "CG-offline-secret-key"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _requests_error(cause: BaseException) -> requests.ConnectionError:
    """The shape requests gives: ConnectionError(MaxRetryError(reason=NewConnectionError ... from cause))."""
    try:
        try:
            raise cause
        except OSError as exc:
            raise urllib3.exceptions.NewConnectionError(None, f"Failed to establish a new connection: {exc}") from exc
    except urllib3.exceptions.NewConnectionError as new:
        wrapped = urllib3.exceptions.MaxRetryError(None, "/ping", new)
    return requests.ConnectionError(wrapped)


@pytest.mark.parametrize("cause, reason", [
    (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "DNS lookup failed"),
    (socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution"), "DNS lookup failed"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "connection refused"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "no route to host"),
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "network unreachable"),
])
def test_each_way_of_not_reaching_the_host_is_named(cause, reason):
    assert unreachable_reason(_requests_error(cause)) == reason


def test_a_reset_or_a_timeout_is_not_unreachable():
    assert unreachable_reason(_requests_error(ConnectionResetError(errno.ECONNRESET, "reset"))) is None
    assert unreachable_reason(requests.ConnectionError("Connection aborted.")) is None


def test_policy_retries_an_unreachable_host_once_briefly():
    policy = RetryPolicy(max_retries=5, backoff_seconds=10)
    error = UnreachableError("cannot reach x (connection refused)")
    assert policy.delay_for(error, 0) == 1.0
    assert policy.delay_for(error, 1) is None
    assert RetryPolicy(max_retries=0).delay_for(error, 0) is None  # never more than max_retries
    assert policy.delay_for(CoinGeckoConnectionError("reset"), 1) is not None  # others keep the full policy


@pytest.mark.parametrize("base_url, shown, reason", [
    ("closed", None, "connection refused"),
    (UNRESOLVABLE + "?x_cg_demo_api_key=" + SECRET, "tracker-test.invalid", "DNS lookup failed"),
])
def test_client_tries_twice_then_says_it_in_one_line(base_url, shown, reason):
    if base_url == "closed":
        port = closed_port()
        base_url, shown = f"http://127.0.0.1:{port}/api/v3", f"127.0.0.1:{port}"
    client = CoinGeckoClient(base_url, plan="demo", api_key=SECRET, limiter=RateLimiter(None), timeout=5,
                             retry=RetryPolicy(max_retries=5, unreachable_backoff_seconds=0.01))
    with client.track_calls() as tally, pytest.raises(UnreachableError) as caught:
        client.markets("usd", ids=["bitcoin"])
    message = str(caught.value)
    assert message == f"cannot reach {shown} ({reason}): {HINT}"
    assert client.calls == 2 and tally.halted is caught.value
    assert SECRET not in message and "?" not in message and "/coins" not in message


def test_a_call_that_never_left_gives_its_rate_limit_slot_back():
    now = [0.0]
    limiter = RateLimiter(5, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert limiter.acquire() == 0.0
    limiter.refund()
    assert limiter.acquire() == 0.0  # no 12 s wait: the first call spent nothing
    assert limiter.acquire() == 12.0  # a call that was made still spaces the next one


@pytest.fixture
def offline_client():
    client = CoinGeckoClient(f"http://127.0.0.1:{closed_port()}/api/v3", limiter=RateLimiter(None), timeout=5,
                             retry=RetryPolicy(unreachable_backoff_seconds=0.01))
    yield client
    client.close()


def test_ingest_all_stops_after_the_first_job_finds_the_host_unreachable(db, offline_client):
    summaries = ingest_all(db, offline_client, TRACKING)
    assert [(s.job, s.status) for s in summaries] == [("categories", "failed")]
    assert summaries[0].unreachable == summaries[0].error
    assert summaries[0].error.startswith("cannot reach 127.0.0.1:") and summaries[0].error.endswith(HINT)
    assert offline_client.calls == 2


def test_markets_stops_at_the_first_unreachable_call(db, offline_client):
    summary = drive(db, fetch_markets(offline_client, TRACKING))
    assert summary.status == "failed" and summary.unreachable and offline_client.calls == 2


def _ingest(args: list[str], base_url: str, folder) -> tuple[subprocess.CompletedProcess, float]:
    env = subprocess_env(TRACKER_DB=str(folder / "t.duckdb"), COINGECKO_BASE_URL=base_url)
    subprocess.run([venv_bin("tracker"), "init"], env=env, cwd=folder, check=True, capture_output=True)
    started = time.monotonic()
    done = subprocess.run([venv_bin("tracker"), *args], env=env, cwd=folder, capture_output=True, text=True, timeout=300)
    return done, time.monotonic() - started


@pytest.mark.parametrize("where", ["closed port", "unresolvable host"])
def test_tracker_ingest_all_offline_ends_fast_in_two_lines(tmp_path, where):
    port = closed_port()
    base_url = f"http://127.0.0.1:{port}/api/v3" if where == "closed port" else UNRESOLVABLE
    host, reason = (f"127.0.0.1:{port}", "connection refused") if where == "closed port" else ("tracker-test.invalid", "DNS lookup failed")
    done, seconds = _ingest(["ingest", "all"], base_url, tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 1, done.stderr
    assert len(lines) == 2, done.stderr  # the issue allows 3
    assert lines[0].startswith("note: ingest categories stopped (run ") and "the 3 job(s) after it were not run" in lines[0]
    assert lines[1] == f"error: cannot reach {host} ({reason}): {HINT}"
    assert done.stdout == ""
    # The bound is 20 s (measured: about 5 s with start-up on a loaded machine, see
    # docs/benchmarks.md); only a generous deadline here, so a busy machine cannot fail it.
    assert seconds < 60, f"took {seconds:.1f}s"
    status = subprocess.run([venv_bin("tracker"), "status", "--format", "json"], capture_output=True, text=True,
                            env=subprocess_env(TRACKER_DB=str(tmp_path / "t.duckdb")), cwd=tmp_path, check=True)
    jobs = json.loads(status.stdout)["jobs"]
    assert [(j["job"], j["status"]) for j in jobs] == [("categories", "failed")]


def test_stop_event_records_the_run_as_stopped(db, offline_client):
    offline_client.stop_event = threading.Event()
    offline_client.stop_event.set()
    summary = drive(db, fetch_categories(offline_client, TRACKING))
    assert summary.status == "stopped" and "stopped" in summary.error and offline_client.calls == 0


class _InterruptedSession:
    def request(self, *args, **kwargs):
        raise KeyboardInterrupt

    def close(self):
        pass


def test_ctrl_c_in_a_call_records_the_run_as_stopped(db, cli_runner):
    client = CoinGeckoClient("http://127.0.0.1:1/api/v3", session=_InterruptedSession(), limiter=RateLimiter(None))
    with pytest.raises(KeyboardInterrupt):
        drive(db, fetch_categories(client, TRACKING))
    with db.connect(read_only=True) as con:
        rows = con.execute("SELECT status, error FROM ingest_runs").fetchall()
    assert rows == [("stopped", "interrupted (Ctrl-C)")]
    status = json.loads(cli_runner("status", "--format", "json").stdout)
    assert [(j["job"], j["status"]) for j in status["jobs"]] == [("categories", "stopped")]
    assert status["recent_errors"] == []  # stopping on request is no error


def test_backoff_doubles_per_job_up_to_its_bound():
    backoff = OfflineBackoff(first=30, most=300)
    assert [backoff.failed("markets") for _ in range(6)] == [30, 60, 120, 240, 300, 300]
    assert backoff.failed("history") == 30  # per job
    backoff.reached("markets")
    assert backoff.failed("markets") == 30
    assert describe_outcome({"calls": 2, "rows": 0, "seconds": 1.0, "backoff_seconds": 60}).endswith("; backing off 60s")


def test_daemon_once_offline_logs_one_line_and_starts_no_further_job(tmp_path, caplog):
    (tmp_path / "t.toml").write_text(f'[database]\npath = "{tmp_path / "t.duckdb"}"\nspool_dir = "{tmp_path / "spool"}"\n'
                                     f'snapshot_dir = "{tmp_path / "snap"}"\n')
    config = load_config(tmp_path / "t.toml", env={"COINGECKO_BASE_URL": f"http://127.0.0.1:{closed_port()}/api/v3"})
    executor = IngestExecutor(config, publish_snapshots=False)
    executor.client.limiter = RateLimiter(None)
    executor.client.retry = RetryPolicy(unreachable_backoff_seconds=0.01)
    try:
        with caplog.at_level(logging.INFO):
            outcomes = Daemon(config, executor).run_once()
    finally:
        executor.close()
    assert list(outcomes) == ["categories"] and outcomes["categories"]["unreachable"]
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    failures = [line for line in lines if "cannot reach" in line]
    assert len(failures) == 1, lines
    assert failures[0].startswith("categories failed: cannot reach 127.0.0.1:")
    assert "backing off" not in failures[0]  # --once has no next run to put off
    assert not [r for r in caplog.records if r.name in ("tracker.coingecko", "tracker.ingest") and r.levelno >= logging.INFO]


def test_backoff_moves_a_frequent_job_later_and_leaves_a_daily_one(tmp_path):
    from datetime import datetime, timedelta, timezone

    from apscheduler.schedulers.background import BackgroundScheduler

    class Idle:
        stop_event = threading.Event()

        def execute(self, job):  # pragma: no cover - not called here
            raise AssertionError(job)

    (tmp_path / "t.toml").write_text(f'[database]\npath = "{tmp_path / "t.duckdb"}"\n')
    daemon = Daemon(load_config(tmp_path / "t.toml", env={}), Idle())
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)
    try:
        scheduler.add_job(lambda: None, "interval", seconds=1, id="markets")
        scheduler.add_job(lambda: None, "interval", hours=24, id="history")
        daemon.scheduler = scheduler
        daily = scheduler.get_job("history").next_run_time
        offline = {"status": "failed", "unreachable": "cannot reach x (connection refused)"}
        for wait in (30, 60, 120):
            outcome = dict(offline)
            daemon._back_off("markets", outcome)
            now = datetime.now(timezone.utc)
            assert outcome["backoff_seconds"] == wait
            assert scheduler.get_job("markets").next_run_time >= now + timedelta(seconds=wait - 5)
        daemon._back_off("history", dict(offline))
        assert scheduler.get_job("history").next_run_time == daily  # never brought forward
        daemon._back_off("markets", {"status": "ok"})
        assert daemon.offline.in_a_row("markets") == 0
    finally:
        scheduler.shutdown(wait=False)
