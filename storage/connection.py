"""Short-lived DuckDB connections with lock retry.

DuckDB lets one process hold a file read-write, or any number of processes hold it read-only,
never both. A blocked open fails at once rather than waiting, so every open here retries with
jittered backoff for a bounded time, then names the holder in one line.

Every connection is closed as soon as its block ends: the daemon and the `duckdb` CLI take
turns on the same file.
"""
from __future__ import annotations

import contextlib
import os
import random
import re
import threading
import time
from pathlib import Path
from typing import Iterator

import duckdb

from .errors import (
    DatabaseLockedError,
    DatabaseNotFoundError,
    DatabasePathError,
)

# duckdb 2.x writes storage version 69 by default, which the 1.5.x `duckdb` CLI cannot read.
# Files created with v1.5.0 stay in that format even when written by 2.x later.
STORAGE_COMPATIBILITY = "v1.5.0"

_LOCK_MESSAGE = "Could not set lock"
_HOLDER = re.compile(r"Conflicting lock is held in (?P<holder>.+?) \(PID (?P<pid>\d+)\)")

# One open connection per file per process: DuckDB refuses a second connection to the same
# file with a different configuration (read-only against read-write) inside one process.
_process_locks: dict[Path, threading.RLock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(path: Path) -> threading.RLock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.RLock())


def check_database_path(path: Path, *, create: bool) -> None:
    """Refuse paths that are folders or other files before DuckDB touches them."""
    if path.is_dir():
        raise DatabasePathError(f"database path {path} is a folder; give a file path such as {path / 'tracker.duckdb'}")
    if path.exists():
        if path.stat().st_size == 0:
            return  # an empty placeholder (e.g. from `touch`) is treated as a new database
        with open(path, "rb") as handle:
            header = handle.read(12)
        if header[8:12] != b"DUCK":
            raise DatabasePathError(f"{path} exists and is not a DuckDB database file; choose another path")
        return
    if not create:
        raise DatabaseNotFoundError(f"no database at {path}; run `tracker init` first (or set TRACKER_DB)")
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabasePathError(f"cannot create folder {parent} for the database: {exc.strerror}") from None
    if not parent.is_dir():
        raise DatabasePathError(f"{parent} is not a folder; cannot create the database there")


def _locked_error(path: Path, exc: Exception, waited: float) -> DatabaseLockedError:
    match = _HOLDER.search(str(exc))
    pid = int(match["pid"]) if match else None
    holder = Path(match["holder"]).name if match else None
    who = f"{holder} (PID {pid})" if match else "another process"
    return DatabaseLockedError(
        f"database {path} is locked by {who} after waiting {waited:.1f}s; close that session "
        f"(e.g. an open `duckdb` shell) or query the read-only snapshot instead",
        pid=pid,
        holder=holder,
    )


class Database:
    """A DuckDB file opened briefly for each operation.

    Parameters
    ----------
    path:
        The database file. Created (with its folder) by :meth:`connect` when ``create=True``.
    lock_timeout:
        Seconds to keep retrying when another process holds the file lock.
    """

    def __init__(self, path: str | Path, *, lock_timeout: float = 10.0):
        self.path = Path(path).expanduser()
        self.lock_timeout = lock_timeout
        self.last_held_ms: float | None = None  # how long the last connection held the file

    def __repr__(self) -> str:
        return f"Database({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    @contextlib.contextmanager
    def connect(self, *, read_only: bool = False, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open, yield and always close a connection; retries while another process holds the lock."""
        check_database_path(self.path, create=create and not read_only)
        if self.path.exists() and self.path.stat().st_size == 0 and not read_only:
            self.path.unlink()
        with _process_lock(self.path.resolve()):
            con = self._open(read_only)
            opened = time.perf_counter()
            try:
                con.execute("SET TimeZone = 'UTC'")
                yield con
            finally:
                con.close()
                self.last_held_ms = (time.perf_counter() - opened) * 1000

    @contextlib.contextmanager
    def transaction(self, *, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection inside one transaction: all of the block's writes or none."""
        with self.connect(create=create) as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def copy_to(self, target: str | Path) -> Path:
        """Copy every table and view into a new file at ``target``, atomically replacing it.

        The live file is attached READ_ONLY from an in-memory DuckDB, so other readers are
        never blocked; the copy is written beside ``target`` and moved into place with
        os.replace, so a reader holding the old copy keeps seeing it whole.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
        check_database_path(self.path, create=False)
        with _process_lock(self.path.resolve()):
            con = duckdb.connect()
            try:
                self._retry_on_lock(lambda: con.execute("ATTACH ? AS live (READ_ONLY)", [str(self.path)]))
                con.execute(f"ATTACH ? AS copy (STORAGE_VERSION '{STORAGE_COMPATIBILITY}')", [str(tmp)])
                con.execute("COPY FROM DATABASE live TO copy")
                con.execute("DETACH copy")
                con.execute("DETACH live")
            finally:
                con.close()
        os.replace(tmp, target)
        return target

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        config = {"storage_compatibility_version": STORAGE_COMPATIBILITY}
        return self._retry_on_lock(lambda: duckdb.connect(str(self.path), read_only=read_only, config=config))

    def _retry_on_lock(self, attempt_once):
        """Call ``attempt_once`` until it stops failing on DuckDB's file lock, or time runs out."""
        started = time.monotonic()
        attempt = 0
        while True:
            try:
                return attempt_once()
            except duckdb.IOException as exc:
                waited = time.monotonic() - started
                if _LOCK_MESSAGE not in str(exc):
                    raise DatabasePathError(f"cannot open {self.path}: {str(exc).splitlines()[0]}") from None
                if waited >= self.lock_timeout:
                    raise _locked_error(self.path, exc, waited) from None
                delay = min(1.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0)
                time.sleep(min(delay, max(0.0, self.lock_timeout - waited)) or 0.01)
                attempt += 1
