"""The locked-down connection a user's SQL runs on (`tracker sql`), and the statement check in front of it.

Two layers, because neither is enough alone:

* DuckDB's own lock-down is the real boundary. The file is opened read-only; with
  ``enable_external_access = false`` the query reaches no file but the database itself (and its
  WAL and spill folder, which DuckDB adds on its own) and no network; extensions are neither
  installed nor loaded automatically; ``lock_configuration`` then stops the query from undoing
  any of it (SET, RESET, PRAGMA and table functions such as ``enable_logging()`` all fail).
* DuckDB's allowed paths grant *every* file operation, writes included, so once the user allows a
  path (``--allow-path``), only the statement check stops ``COPY ... TO``, ``EXPLAIN ANALYZE COPY``
  or ``IMPORT DATABASE`` (which runs the folder's schema.sql and load.sql) inside it. The check
  also gives the friendly one-line refusal before DuckDB is asked.

Measured on duckdb 2.0.1 (see tests/test_sql_sandbox.py):

* ``allowed_directories`` and ``allowed_paths`` cannot be passed to ``duckdb.connect``
  ("cannot set before the database is started") and cannot be SET once external access is
  off, so they are SET on the open connection, before external access is switched off.
* A directory matches itself and everything below it, with or without a trailing slash, but not
  a sibling sharing its prefix (``/x/export`` does not allow ``/x/export2``). DuckDB resolves
  symlinks and ``..`` on both sides, so a link inside an allowed folder that points out of it
  is refused.
* Spilling a large sort still works: DuckDB writes its own temporary files into
  ``<database>.tmp/`` (allowed automatically, not settable by the query) and removes the folder
  when the connection closes.
"""
from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import duckdb

from .connection import Database, _process_lock, check_database_path
from .errors import DatabaseNotFoundError, ReadOnlyQueryError, first_line

# Set when the connection is made: these cannot wait, since DuckDB may load an extension while
# it opens the file, and python replacement scans would let a query read the caller's DataFrames.
_CONNECT_CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "python_enable_replacements": False,
}

READS = "SELECT, WITH, DESCRIBE, SHOW, EXPLAIN"
_REFUSED_TAIL = f"`tracker sql` only reads ({READS})"

# PRAGMAs that only look: everything else (import_database, copy_database, settings) is refused.
READ_PRAGMAS = frozenset({
    "collations", "database_list", "database_size", "functions", "metadata_info", "platform", "show",
    "show_databases", "show_tables", "show_tables_expanded", "storage_info", "table_info", "user_agent",
    "version",
})

# Statement names made of two words, so the refusal names what the user typed.
_TWO_WORDS = {"IMPORT", "EXPORT", "FORCE"}
_EXPLAIN_MODES = {"ANALYZE", "ANALYSE"}


class AllowPathError(ReadOnlyQueryError):
    """A path given to --allow-path (``allow_paths``) does not exist or is not a file or folder."""


@dataclass(frozen=True)
class AllowedPaths:
    """Real, absolute paths a user's query may read: folders (with everything below) and files."""

    directories: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.directories or self.files)


def resolve_allowed_paths(paths: Iterable[str | os.PathLike] | AllowedPaths) -> AllowedPaths:
    """Check each path exists and is a regular file or a folder; return their real absolute paths.

    The real path (symlinks and ``..`` resolved) is what DuckDB compares against, so the grant
    is exactly what the user named, not whatever a link later points to.
    """
    if isinstance(paths, AllowedPaths):
        return paths
    directories: list[str] = []
    files: list[str] = []
    for raw in paths:
        text = os.fspath(raw)
        if not text.strip():
            raise AllowPathError("allowed path is empty; give an existing file or folder")
        path = Path(text).expanduser()
        try:
            mode = path.stat().st_mode  # follows symlinks: a dangling link is "does not exist"
        except FileNotFoundError:
            raise AllowPathError(f"allowed path {text} does not exist; give an existing file or folder") from None
        except OSError as exc:
            raise AllowPathError(f"allowed path {text} cannot be inspected: {exc.strerror}") from None
        real = os.path.realpath(path)
        if stat.S_ISDIR(mode):
            directories.append(real)
        elif stat.S_ISREG(mode):
            files.append(real)
        else:
            raise AllowPathError(f"allowed path {text} is not a regular file or folder; give a file or folder to read")
    return AllowedPaths(tuple(dict.fromkeys(directories)), tuple(dict.fromkeys(files)))


@contextlib.contextmanager
def sandboxed_connection(db: Database, allowed: AllowedPaths = AllowedPaths()) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to ``db`` that reaches nothing else but ``allowed``, with its
    configuration locked; always closed when the block ends."""
    check_database_path(db.path, create=False)
    if not db.exists():
        raise DatabaseNotFoundError(f"database {db.path} is empty; run `tracker init` first")
    with _process_lock(db.path.resolve()):
        con = db._retry_on_lock(lambda: duckdb.connect(str(db.path), read_only=True, config=dict(_CONNECT_CONFIG)))
        try:
            _lock_down(con, allowed)
            yield con
        finally:
            con.close()


def _lock_down(con: duckdb.DuckDBPyConnection, allowed: AllowedPaths) -> None:
    # The session time zone is configuration too: it must be set before the lock.
    con.execute("SET TimeZone = 'UTC'")
    if allowed.directories:
        con.execute("SET allowed_directories = ?", [list(allowed.directories)])
    if allowed.files:
        con.execute("SET allowed_paths = ?", [list(allowed.files)])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


# --- the statement check -------------------------------------------------------------------


def check_statements(con: duckdb.DuckDBPyConnection, sql: str) -> list:
    """Parse ``sql`` and refuse anything but reads, naming the first offending statement."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise ReadOnlyQueryError(f"SQL error: {first_line(exc)}") from None
    if not statements:
        raise ReadOnlyQueryError("no SQL statement given")
    for statement in statements:
        reason = _refusal(con, statement)
        if reason:
            raise ReadOnlyQueryError(reason)
    return statements


def _refusal(con: duckdb.DuckDBPyConnection, statement) -> str | None:
    """Why ``statement`` is refused, or None for a read. Anything not understood is refused."""
    kind = statement.type.name
    if kind == "SELECT":
        return None
    words = _words(statement.query)
    name = _statement_name(words, kind)
    if kind == "PRAGMA":
        if name != "PRAGMA":  # IMPORT DATABASE parses as a PRAGMA
            return f"{name} statements are refused: {_REFUSED_TAIL}"
        pragma = words[1].strip('"').lower() if len(words) > 1 else ""
        if pragma in READ_PRAGMAS:
            return None
        return (f"PRAGMA {pragma or '?'} is refused: `tracker sql` allows only the read pragmas "
                f"({', '.join(sorted(READ_PRAGMAS))})")
    if kind == "EXPLAIN":
        return _explain_refusal(con, statement.query)
    return f"{name} statements are refused: {_REFUSED_TAIL}"


def _explain_refusal(con: duckdb.DuckDBPyConnection, text: str) -> str | None:
    """EXPLAIN is a read only when what it explains is: EXPLAIN ANALYZE runs its statement."""
    tokens = _tokens(text)
    if not tokens or tokens[0][1].upper() != "EXPLAIN":
        return f"this EXPLAIN statement is refused: {_REFUSED_TAIL}"
    index, analyze = 1, False
    if index < len(tokens) and tokens[index][1].upper() in _EXPLAIN_MODES:
        analyze, index = True, index + 1
    elif index < len(tokens) and tokens[index][1] == "(":  # EXPLAIN (ANALYZE, FORMAT json) ...
        depth = 0
        while index < len(tokens):
            word = tokens[index][1]
            depth += word.count("(") - word.count(")")
            analyze = analyze or word.upper().strip(",") in _EXPLAIN_MODES
            index += 1
            if depth <= 0:
                break
    label = "EXPLAIN ANALYZE" if analyze else "EXPLAIN"
    if index >= len(tokens):
        return f"{label} without a statement is refused"
    try:
        inner = con.extract_statements(text[tokens[index][0]:])
    except duckdb.Error:
        inner = []
    if len(inner) != 1:
        return f"this {label} statement is refused: {_REFUSED_TAIL}"
    if _refusal(con, inner[0]) is None:
        return None
    words = _words(inner[0].query)
    name = _statement_name(words, inner[0].type.name)
    if name == "PRAGMA" and len(words) > 1:
        name = f"PRAGMA {words[1].strip(chr(34)).lower()}"
    if analyze:
        return f"{label} {name} is refused: EXPLAIN ANALYZE runs its statement, and {_REFUSED_TAIL}"
    return f"{label} {name} is refused: {_REFUSED_TAIL}"


def _tokens(text: str) -> list[tuple[int, str]]:
    """(offset, text) of each token but comments, as DuckDB's own tokenizer splits them."""
    try:
        raw = duckdb.tokenize(text)
    except Exception:  # an untokenizable statement is refused by the callers
        return []
    found = []
    for number, (offset, kind) in enumerate(raw):
        end = raw[number + 1][0] if number + 1 < len(raw) else len(text)
        if kind != duckdb.token_type.comment:
            found.append((offset, text[offset:end].strip()))
    return found


def _words(text: str) -> list[str]:
    return [word for _, word in _tokens(text)]


def _statement_name(words: list[str], kind: str) -> str:
    """What the user typed (INSTALL, RESET, IMPORT DATABASE, ...), else DuckDB's statement type."""
    first = words[0].upper() if words else ""
    if not re.fullmatch(r"[A-Z_]+", first) or first == "WITH":
        return kind
    if first in _TWO_WORDS and len(words) > 1 and re.fullmatch(r"[A-Za-z_]+", words[1]):
        return f"{first} {words[1].upper()}"
    return first


# --- one-line errors ------------------------------------------------------------------------

_BLOCKED_FILE = re.compile(r'Cannot access (?:file|directory) "(?P<path>[^"]*)"')


def describe_sql_error(exc: duckdb.Error) -> str:
    """One line for a failed user query; says why when the sandbox is what stopped it."""
    line = first_line(exc)
    blocked = _BLOCKED_FILE.search(line)
    if isinstance(exc, duckdb.PermissionException) and blocked:
        target = blocked["path"]
        if re.match(r"[a-z][a-z0-9+.-]*://", target) and not target.startswith("file://"):
            return f"SQL error: {line} (`tracker sql` never reaches the network)"
        if "/.duckdb/" in target:  # the extension or secret folder
            return f"SQL error: {line} (`tracker sql` installs no extensions and stores no secrets)"
        return f"SQL error: {line} (`tracker sql` reads only the database; --allow-path PATH lets it read files under PATH)"
    if isinstance(exc, duckdb.PermissionException):
        return f"SQL error: {line} (`tracker sql` loads no extensions)"
    return f"SQL error: {line}"
