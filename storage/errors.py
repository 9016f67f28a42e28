"""Errors raised by the storage layer.

Hierarchy::

    StorageError
    ├── DatabaseNotFoundError    the file does not exist (run `tracker init`)
    ├── DatabasePathError        the path is a folder, device, FIFO, not a DuckDB file, or cannot be written
    ├── DatabaseDamagedError     the file fails its integrity check (see `tracker check`)
    ├── SchemaError              the file is older than this tracker, or misses one of its tables
    ├── DatabaseLockedError      another process holds the file lock; carries the PID when DuckDB names it
    ├── MigrationError           the schema could not be brought up to date
    ├── ReadOnlyQueryError       a write or DDL statement was sent to a read-only query
    └── WriteError               a batch could not be written (bad columns, NULL keys, ...)

Every message is one line, written for the person at the terminal. As the tracker's errors, a
message names the caller's parameters in backticks (`db`) and lists them in ``parameters``; the
CLI shows each as its flag (--db).
"""
from __future__ import annotations

from typing import Iterable


def first_line(exc: BaseException | str, default: str = "") -> str:
    """The first line of an error's message (``default`` when it has none), for one-line errors.

    ``tracker.errors.first_line`` is the services' twin: storage cannot import the tracker,
    and the CoinGecko client must not load DuckDB by importing storage.
    """
    text = str(exc).strip()
    return text.splitlines()[0] if text else default


class StorageError(Exception):
    """Base class for every storage failure."""

    def __init__(self, *args: object, parameters: Iterable[str] = ()):
        super().__init__(*args)
        self.parameters = tuple(parameters)  # named in the message as `name`


class DatabaseNotFoundError(StorageError):
    pass


class DatabasePathError(StorageError):
    pass


class DatabaseDamagedError(StorageError):
    def __init__(self, message: str, *, reason: str = ""):
        super().__init__(message)
        self.reason = reason  # what DuckDB (or the length check) found, without the advice


class SchemaError(StorageError):
    pass


class DatabaseLockedError(StorageError):
    def __init__(self, message: str, *, pid: int | None = None, holder: str | None = None):
        super().__init__(message)
        self.pid = pid
        self.holder = holder


class MigrationError(StorageError):
    pass


class ReadOnlyQueryError(StorageError):
    pass


class WriteError(StorageError):
    pass
