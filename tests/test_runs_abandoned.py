"""Runs left 'running' by a killed process are marked abandoned by the next writer of any kind,
while a run whose process still works (the daemon's, a CLI ingest's) is left alone."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from datetime import timedelta

import pytest

import storage
from tracker.ingest.runs import RunRecord, current_owner, mark_abandoned, owner_alive, record_run, utcnow


@pytest.fixture
def live_process():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _owner(pid: int) -> dict:
    from tracker.ingest.runs import _process_start

    owner = {"pid": pid, "host": socket.gethostname()}
    since = _process_start(pid)
    if since is not None:
        owner["since"] = since
    return owner


def _running(db, job: str, owner: dict | None, *, minutes_ago: int = 5) -> str:
    run = RunRecord(job=job, started_at=utcnow() - timedelta(minutes=minutes_ago), owner=owner or {})
    with db.transaction() as con:
        record_run(con, run)
    return run.run_id


def _status(db, run_id: str) -> str:
    return storage.query(db, "SELECT status FROM ingest_runs WHERE run_id = ?", [run_id])["status"][0]


def test_a_run_records_the_process_that_owns_it(db):
    run_id = _running(db, "markets", current_owner())
    details = json.loads(storage.query(db, "SELECT details FROM ingest_runs WHERE run_id = ?", [run_id])["details"][0])
    assert details["owner"]["pid"] > 0 and details["owner"]["host"] == socket.gethostname()
    assert owner_alive(details["owner"]) is True


def test_owner_liveness(live_process, dead_pid):
    assert owner_alive(_owner(live_process.pid)) is True
    assert owner_alive(_owner(dead_pid)) is False
    assert owner_alive({"pid": live_process.pid, "host": socket.gethostname(), "since": "1"}) is False  # pid reused
    assert owner_alive({"pid": 1, "host": "another-host.example"}) is None
    assert owner_alive(None) is False and owner_alive({}) is False  # rows from before owners were recorded


@pytest.mark.parametrize("command", [
    ["events", "add", "x-event", "--name", "X", "--date", "2024-02-15"],
    ["import", "csv", "prices.csv", "--layout", "series", "--coin", "fetch-ai", "--granularity", "daily"],
    ["correlate", "series", "import", "nvda.csv", "--id", "nvda"],
    ["init"],
])
def test_any_writer_abandons_dead_runs_and_spares_live_ones(db, tmp_path, live_process, dead_pid, cli_runner, command):
    (tmp_path / "prices.csv").write_text("timestamp,price\n2024-01-01,1.5\n2024-01-02,1.6\n")
    (tmp_path / "nvda.csv").write_text("date,close\n2024-01-02,48.2\n2024-01-03,47.6\n")
    dead = _running(db, "history", _owner(dead_pid))
    legacy = _running(db, "markets", None)
    live = _running(db, "categories", _owner(live_process.pid))
    elsewhere = _running(db, "members", {"pid": 4242, "host": "another-host.example"})
    result = cli_runner("--db", str(db.path), *command)
    assert result.exit_code == 0, result.output
    assert _status(db, dead) == "abandoned" and _status(db, legacy) == "abandoned"
    assert _status(db, live) == "running" and _status(db, elsewhere) == "running"
    error = storage.query(db, "SELECT error FROM ingest_runs WHERE run_id = ?", [dead])["error"][0]
    assert error == "process ended before the run finished"


def test_a_read_command_marks_nothing(db, dead_pid, cli_runner):
    dead = _running(db, "history", _owner(dead_pid))
    assert cli_runner("--db", str(db.path), "status").exit_code == 0
    assert _status(db, dead) == "running"


def test_a_cli_writer_leaves_runs_whose_batches_wait_in_the_spool(db, tmp_path, dead_pid):
    """The daemon writes spooled batches first and only then tidies; a CLI writer must not
    abandon a run the spool will still add to."""
    from jobs.spool import Spool
    from tracker.config import load_config
    from tracker.ingest import Batch

    config = load_config(None, env={}).with_database(str(db.path))
    spooled = RunRecord(job="history", started_at=utcnow() - timedelta(minutes=5), owner=_owner(dead_pid))
    with db.transaction() as con:
        record_run(con, spooled)
    Spool(config.database.spool_dir).put(Batch(job="history", run=spooled, final=False))
    assert Spool(config.database.spool_dir).run_ids() == {spooled.run_id}
    from tracker.cli._context import AppContext

    app = AppContext(db_path=str(db.path))
    app.writable_database()
    assert _status(db, spooled.run_id) == "running"


def test_the_daemon_tidies_after_draining_and_spares_a_live_cli_run(db, live_process, dead_pid):
    from jobs.executor import IngestExecutor
    from tracker.config import load_config

    dead = _running(db, "history", _owner(dead_pid))
    cli_run = _running(db, "markets", _owner(live_process.pid))  # a `tracker ingest` at work
    config = load_config(None, env={}).with_database(str(db.path))

    class NoClient:
        calls = 0

        def close(self):
            pass

    executor = IngestExecutor(config, client_factory=lambda config, stop_event: NoClient(), publish_snapshots=False)
    executor.close()
    assert _status(db, dead) == "abandoned"
    assert _status(db, cli_run) == "running"


def test_own_runs_from_before_this_process_started_count_as_gone(db):
    """A spooled batch saved before owners were recorded is loaded with this process as owner;
    the daemon (which passes started_before) still tidies it."""
    mine_old = _running(db, "history", current_owner(), minutes_ago=10)
    with db.transaction() as con:
        assert mark_abandoned(con) == 0  # a plain writer: this process is alive
        assert mark_abandoned(con, started_before=utcnow() - timedelta(minutes=1)) == 1
    assert _status(db, mine_old) == "abandoned"


def test_tidying_gives_way_to_a_busy_file(db, dead_pid):
    """A long reader holds the file: the tidy is skipped (the next writer does it) instead of
    failing the command before it has even fetched anything."""
    from tracker.ingest.runs import tidy_abandoned

    dead = _running(db, "history", _owner(dead_pid))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, duckdb; c = duckdb.connect(sys.argv[1], read_only=True); "
         "print('holding', flush=True); time.sleep(60)", str(db.path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        busy = storage.Database(db.path, lock_timeout=0.3)
        assert tidy_abandoned(busy) == 0
    finally:
        holder.kill()
        holder.wait()
    assert _status(db, dead) == "running"
    assert tidy_abandoned(db) == 1 and _status(db, dead) == "abandoned"
