"""Connections: path checks, lock retry, one-line lock errors naming the holder."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

import storage
from storage import Database, DatabaseLockedError, DatabaseNotFoundError, DatabasePathError

HOLD = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == 'ro')
print('holding', flush=True)
time.sleep(float(sys.argv[3]))
print(time.monotonic(), flush=True)  # the system-wide monotonic clock, comparable across processes
con.close()
"""


def _hold(path, mode: str, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), mode, str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "holding"
    return proc


def test_missing_database_says_run_init(tmp_path):
    with pytest.raises(DatabaseNotFoundError, match=r"no database at .*run `tracker init`"):
        storage.open_database(tmp_path / "nope.duckdb")
    assert not (tmp_path / "nope.duckdb").exists()


def test_folder_and_foreign_files_are_refused_before_writing(tmp_path):
    with pytest.raises(DatabasePathError, match="is a folder"):
        storage.open_database(tmp_path, create=True)
    foreign = tmp_path / "notes.txt"
    foreign.write_text("my precious notes\n")
    with pytest.raises(DatabasePathError, match="is not a DuckDB database file"):
        storage.open_database(foreign, create=True)
    assert foreign.read_text() == "my precious notes\n"


def test_parent_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "blocker").write_text("x")
    with pytest.raises(DatabasePathError, match="cannot create folder"):
        storage.open_database(tmp_path / "blocker" / "db.duckdb", create=True)


def test_empty_placeholder_file_becomes_a_database(tmp_path):
    path = tmp_path / "touched.duckdb"
    path.touch()
    db = storage.open_database(path, create=True)
    with db.connect(read_only=True) as con:
        assert storage.current_version(con) == storage.latest_version()


def test_writer_waits_for_a_short_reader_then_gets_in(db):
    reader = _hold(db.path, "ro", 0.8)
    with db.transaction() as con:
        con.execute("SELECT 1")
        got_in = time.monotonic()
    reader.wait(timeout=10)
    # The writer got in only after the reader let go (however long the machine took to get
    # here), rather than failing at once.
    assert got_in >= float(reader.stdout.readline())
    reader.stdout.close()


def test_lock_held_too_long_gives_one_line_naming_the_pid(db_path):
    storage.open_database(db_path, create=True)
    holder = _hold(db_path, "rw", 30)
    try:
        db = Database(db_path, lock_timeout=0.5)
        with pytest.raises(DatabaseLockedError) as info:
            with db.connect(read_only=True):
                pass
        message = str(info.value)
        assert "\n" not in message
        assert f"PID {holder.pid}" in message and "is locked by" in message
        assert info.value.pid == holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_connection_is_released_after_each_block(db):
    with db.connect() as con:
        con.execute("SELECT 1")
    # Another process can open it read-write straight away.
    out = subprocess.run(
        [sys.executable, "-c", "import duckdb,sys; duckdb.connect(sys.argv[1]).close(); print('ok')", str(db.path)],
        capture_output=True, text=True, timeout=30,
    )
    assert out.stdout.strip() == "ok", out.stderr
    assert db.last_held_ms is not None and db.last_held_ms >= 0
