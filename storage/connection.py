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
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Iterator

import duckdb

from .errors import (
    DatabaseDamagedError,
    DatabaseLockedError,
    DatabaseNotFoundError,
    DatabasePathError,
    first_line,
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


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (symlinks followed), else None."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        if os.path.islink(path):
            return "a symlink to a missing file"
        return None
    except OSError as exc:
        raise DatabasePathError(f"cannot inspect database path {path}: {exc.strerror}") from None
    if stat.S_ISREG(mode):
        return None
    for test, kind in _KINDS:
        if test(mode):
            return kind
    return "not a regular file"


def check_database_path(path: Path, *, create: bool, write: bool = False) -> None:
    """Refuse, in one line and before anything is opened or written, a path that is not a
    regular DuckDB file: a folder, device, FIFO, socket (or a symlink to one), a foreign file.

    Nothing is ever removed or replaced here; an empty regular file is left for the caller
    (``tracker init`` initialises it in place, readers say to run it).
    ``write``: the file and its folder must be writable, since DuckDB keeps its write-ahead
    log (``<file>.wal``) beside the file.
    """
    kind = _not_regular(path)
    if kind == "a folder":
        raise DatabasePathError(f"database path {path} is a folder; give a file path such as {path / 'tracker.duckdb'}")
    if kind is not None:
        raise DatabasePathError(f"database path {path} is {kind}, not a database file; give the path of a regular file")
    wal = wal_path(path)
    wal_kind = _not_regular(wal)
    if wal_kind is not None:
        raise DatabasePathError(f"{wal} (the database's write-ahead log) is {wal_kind}; move it away, it must be a regular file")
    if path.exists():
        if path.stat().st_size > 0:
            header = _first_bytes(path, 12)
            if header[8:12] != b"DUCK":
                raise DatabasePathError(f"{path} exists and is not a DuckDB database file; choose another path")
        if write:
            _check_writable(path)
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
    _check_writable(path)


def _first_bytes(path: Path, count: int) -> bytes:
    # O_NONBLOCK: a FIFO swapped in after the check above must not hang the open.
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise DatabasePathError(f"cannot read database file {path}: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DatabasePathError(f"database path {path} is not a regular file; give the path of a regular file")
        return os.read(fd, count)
    finally:
        os.close(fd)


def _check_writable(path: Path) -> None:
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        raise DatabasePathError(
            f"cannot write in folder {folder}: DuckDB needs it for {path.name} and its write-ahead log "
            f"{wal_path(path).name}; make the folder writable or choose another `db` path", parameters=["db"]
        )
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        raise DatabasePathError(f"cannot write database file {path} (permission denied); make it writable or choose another "
                                "`db` path", parameters=["db"])
    wal = wal_path(path)
    if wal.exists() and not os.access(wal, os.R_OK | os.W_OK):
        raise DatabasePathError(f"cannot write the write-ahead log {wal} (permission denied); make it writable")


def wal_path(path: Path) -> Path:
    """DuckDB's write-ahead log for ``path``."""
    return path.with_name(path.name + ".wal")


def is_damage(exc: BaseException) -> bool:
    """Whether a DuckDB error means the file itself is damaged (bad checksum, cut short, ...)."""
    text = str(exc)
    return any(marker in text for marker in _DAMAGE_MARKERS)


_DAMAGE_MARKERS = (
    "Corrupt database file",
    "Could not read enough bytes",
    "Failed to read block",
    "Serialization Error",
)


def damaged_error(path: Path, exc: BaseException) -> DatabaseDamagedError:
    reason = first_line(exc)[:160]
    return DatabaseDamagedError(
        f"database {path} is damaged ({reason}); nothing was written. "
        f"Run `tracker check` for what is damaged and how to restore it",
        reason=reason,
    )


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
        """A regular, non-empty file is at the path (an empty one is not a database yet)."""
        return self.path.is_file() and self.path.stat().st_size > 0

    def is_empty_file(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size == 0

    @contextlib.contextmanager
    def connect(self, *, read_only: bool = False, create: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """Open, yield and always close a connection; retries while another process holds the lock.

        The path is checked first and never removed: an empty file is refused here (DuckDB
        cannot open one; `tracker init` initialises it in place). An error that shows the file
        is damaged, raised while opening or inside the block, becomes one
        :class:`DatabaseDamagedError` pointing to `tracker check`.
        """
        check_database_path(self.path, create=create and not read_only, write=not read_only)
        if self.is_empty_file():
            raise DatabaseNotFoundError(f"database file {self.path} is empty; run `tracker init` to initialise it")
        with _process_lock(self.path.resolve()):
            con = self._open(read_only)
            opened = time.perf_counter()
            try:
                con.execute("SET TimeZone = 'UTC'")
                yield con
            except duckdb.Error as exc:
                if is_damage(exc):
                    raise damaged_error(self.path, exc) from None
                if isinstance(exc, duckdb.IOException) and "Permission denied" in str(exc):
                    verb = "read" if read_only else "write"
                    raise DatabasePathError(
                        f"cannot {verb} {self.path} or its write-ahead log {wal_path(self.path).name}: permission denied; "
                        f"fix the permissions of the file and its folder or choose another `db` path", parameters=["db"]
                    ) from None
                raise
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

    def initialise_empty_file(self, prepare) -> None:
        """Turn the empty regular file at the path into a database, in place.

        DuckDB refuses a 0-byte file, and the file is the user's (its owner, mode and links
        stay), so it is never removed or replaced: a new database is built beside it by
        ``prepare(con)``, then its bytes are written into the empty file.
        """
        check_database_path(self.path, create=False, write=True)
        staging = self.path.with_name(f".{self.path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.init")
        try:
            con = duckdb.connect(str(staging), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})
            try:
                prepare(con)
                con.execute("CHECKPOINT")
            finally:
                con.close()
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)  # never blocks on a FIFO swapped in
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode) or info.st_size != 0:
                    raise DatabasePathError(f"{self.path} changed while it was being initialised; run `tracker init` again")
                with open(staging, "rb") as source:
                    while chunk := source.read(1 << 20):
                        os.write(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
        finally:
            for own in (staging, wal_path(staging)):  # the staging copy is ours alone
                if own.is_file():
                    own.unlink()

    def copy_to(self, target: str | Path) -> Path:
        """Copy every table and view into a new file at ``target``, atomically replacing it.

        The live file is attached READ_ONLY from an in-memory DuckDB, so other readers are
        never blocked; the copy is written beside ``target`` under a name of its own and moved
        into place with os.replace, so a reader holding the old copy keeps seeing it whole.
        """
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        kind = _not_regular(target)
        if kind is not None:
            raise DatabasePathError(f"snapshot path {target} is {kind}; it must be a regular file")
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        check_database_path(self.path, create=False)
        try:
            with _process_lock(self.path.resolve()):
                con = duckdb.connect()
                try:
                    self._retry_on_lock(lambda: con.execute("ATTACH ? AS live (READ_ONLY)", [str(self.path)]))
                    con.execute(f"ATTACH ? AS copy (STORAGE_VERSION '{STORAGE_COMPATIBILITY}')", [str(tmp)])
                    con.execute("COPY FROM DATABASE live TO copy")
                    con.execute("DETACH copy")
                    con.execute("DETACH live")
                except duckdb.Error as exc:
                    if is_damage(exc):
                        raise damaged_error(self.path, exc) from None
                    raise
                finally:
                    con.close()
            os.replace(tmp, target)
        finally:
            for own in (tmp, wal_path(tmp)):  # a copy left half-written by this call (its own name)
                if own.is_file():
                    own.unlink()
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
            except duckdb.Error as exc:
                waited = time.monotonic() - started
                if is_damage(exc):
                    raise damaged_error(self.path, exc) from None
                if not isinstance(exc, duckdb.IOException):
                    raise
                if _LOCK_MESSAGE not in str(exc):
                    raise DatabasePathError(f"cannot open {self.path}: {first_line(exc)}") from None
                if waited >= self.lock_timeout:
                    raise _locked_error(self.path, exc, waited) from None
                delay = min(1.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0)
                time.sleep(min(delay, max(0.0, self.lock_timeout - waited)) or 0.01)
                attempt += 1
