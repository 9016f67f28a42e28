"""Is the file whole? The verify before every write, and the full check (`tracker check`).

DuckDB keeps a checksum on every block and verifies it when the block is read, but it reads a
block only when a query needs it: a file cut short, or with bad bytes in the middle, opens and
even accepts writes, and fails later. So:

* :func:`verify_on` (before the first write of a command, and at daemon start) reads the file's
  metadata, checks the file is long enough for every block its tables point to (a truncated
  file fails here), and checks every table and view of the schema is there. Then it reads
  every block of every table when the file is at most :data:`FULL_VERIFY_MAX_BYTES` (256 MiB:
  under a second; 0.26 s for 3 million price rows, docs/benchmarks.md), and of the small tables
  only above that, so the check before a write stays under a second on a big file too.
* :func:`full_check` (`tracker check`) reads every block of every table, so bad bytes anywhere
  in the data are found too; per damaged table it names the damaged columns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .connection import Database, is_damage
from .errors import DatabaseDamagedError, SchemaError, StorageError, first_line
from .migrations import available_migrations, current_version, latest_version
from .schema import quote_identifier

_HEADER_BYTES = 3 * 4096  # DuckDB's main header and its two alternating database headers
SMALL_TABLE_ROWS = 100_000  # above FULL_VERIFY_MAX_BYTES, the verify still reads tables this small in full
FULL_VERIFY_MAX_BYTES = 256 * 2**20  # up to this size, the verify before a write reads every block

_CREATED = re.compile(r"\bCREATE\s+(?:OR\s+REPLACE\s+)?(TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.I)
_DROPPED = re.compile(r"\bDROP\s+(TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)", re.I)


def expected_objects(version: int | None = None) -> dict[str, str]:
    """name -> 'table' or 'view', for every object the migrations up to ``version`` leave."""
    objects: dict[str, str] = {} if version == 0 else {"schema_version": "table"}
    for migration in available_migrations()[: version if version is not None else None]:
        sql = re.sub(r"--[^\n]*", "", migration.sql)
        events = [(m.start(), "create", m[1].lower(), m[2].lower()) for m in _CREATED.finditer(sql)]
        events += [(m.start(), "drop", m[1].lower(), m[2].lower()) for m in _DROPPED.finditer(sql)]
        for _, what, kind, name in sorted(events):
            if what == "create":
                objects[name] = kind
            else:
                objects.pop(name, None)
    return objects


def present_objects(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute(
        "SELECT table_name, CASE WHEN table_type = 'VIEW' THEN 'view' ELSE 'table' END "
        "FROM information_schema.tables WHERE table_schema = 'main' AND table_catalog = current_database()"
    ).fetchall()
    return {name.lower(): kind for name, kind in rows}


def missing_objects(con: duckdb.DuckDBPyConnection, version: int) -> list[str]:
    present = present_objects(con)
    return [f"{kind} {name}" for name, kind in expected_objects(version).items() if name not in present]


def missing_error(path: Path, version: int, missing: list[str]) -> SchemaError:
    listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return SchemaError(
        f"database {path} has no {listed}, which its schema version {version} should have; restore the file "
        f"from the snapshot or a backup (`tracker check` shows what is missing) or point `db` at another file",
        parameters=["db"],
    )


def _tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int]]:
    return con.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() "
        "WHERE database_name = current_database() AND schema_name = 'main' ORDER BY table_name"
    ).fetchall()


def _length_problem(con: duckdb.DuckDBPyConnection, path: Path, tables: list[tuple[str, int]]) -> str | None:
    """Why the file is too short for the blocks its tables and metadata point to, or None."""
    block_size = con.execute("SELECT block_size FROM pragma_database_size() WHERE database_name = current_database()").fetchone()[0]
    highest = con.execute("SELECT coalesce(max(block_id), -1) FROM pragma_metadata_info()").fetchone()[0]
    for name, _ in tables:
        top = con.execute("SELECT max(block_id) FROM pragma_storage_info(?) WHERE block_id >= 0", [name]).fetchone()[0]
        if top is not None:
            highest = max(highest, top)
    needed = _HEADER_BYTES + (highest + 1) * block_size
    size = path.stat().st_size
    if size < needed:
        return f"the file is {size} bytes but its blocks reach byte {needed}: it was cut short"
    return None


def _read_all(con: duckdb.DuckDBPyConnection, table: str, columns: list[str] | None = None) -> int:
    """Read every block of ``table`` (every value of every column is hashed); returns rows."""
    quoted = quote_identifier(table)
    if columns is None:
        return con.execute(f"SELECT count(*), bit_xor(hash(COLUMNS(*))) FROM {quoted}").fetchone()[0]
    (column,) = columns
    return con.execute(f"SELECT count(*), bit_xor(hash({quote_identifier(column)})) FROM {quoted}").fetchone()[0]


def verify_on(con: duckdb.DuckDBPyConnection, path: Path, *, full: bool | None = None) -> int:
    """The verify before a write, on an open read-only connection. Returns the schema version.

    ``full``: read every block of every table (True), of the small tables only (False), or
    decide by the file's size (None: full up to :data:`FULL_VERIFY_MAX_BYTES`).

    Raises
    ------
    DatabaseDamagedError
        The file is cut short, or a block read fails its checksum.
    """
    if full is None:
        full = path.stat().st_size <= FULL_VERIFY_MAX_BYTES
    try:
        tables = _tables(con)
        problem = _length_problem(con, path, tables)
        if problem is None:
            for name, rows in tables:
                if full or rows <= SMALL_TABLE_ROWS:
                    _read_all(con, name)
        version = current_version(con)
    except duckdb.Error as exc:
        if not is_damage(exc):
            raise
        problem = first_line(exc)[:160]
    if problem is not None:
        raise DatabaseDamagedError(
            f"database {path} is damaged ({problem}); refusing to write to it. "
            f"Run `tracker check` for what is damaged and how to restore it",
            reason=problem,
        )
    return version


def verify(db: Database, *, full: bool | None = None) -> int:
    """Open the file read-only and run :func:`verify_on`. Returns the schema version."""
    with db.connect(read_only=True) as con:
        return verify_on(con, db.path, full=full)


@dataclass
class CheckResult:
    """What `tracker check` found: one row per object, and whether anything is wrong."""

    path: Path
    rows: list[dict] = field(default_factory=list)

    @property
    def damaged(self) -> bool:
        return any(row["status"] != "ok" for row in self.rows)

    def add(self, object_: str, kind: str, status: str, rows: int | None = None, detail: str = "") -> None:
        self.rows.append({"object": object_, "kind": kind, "status": status, "rows": rows, "detail": detail})


def full_check(db: Database) -> CheckResult:
    """Read every block of every table of ``db`` read-only and report what is damaged or missing.

    Never writes. A file that cannot even be opened gives one 'file' row with the reason.
    """
    result = CheckResult(db.path)
    try:
        with db.connect(read_only=True) as con:
            _check_on(con, db.path, result)
    except DatabaseDamagedError as exc:
        result.add("file", "file", "damaged", detail=f"cannot be opened: {exc.reason or exc}")
    except StorageError:
        raise
    except duckdb.Error as exc:
        result.add("file", "file", "damaged", detail=first_line(exc)[:200])
    return result


def _check_on(con: duckdb.DuckDBPyConnection, path: Path, result: CheckResult) -> None:
    try:
        tables = _tables(con)
        problem = _length_problem(con, path, tables)
    except duckdb.Error as exc:
        result.add("file", "file", "damaged", detail=f"metadata unreadable: {first_line(exc)[:160]}")
        return
    size = path.stat().st_size
    result.add("file", "file", "damaged" if problem else "ok", detail=problem or f"{size} bytes")
    for name, _ in tables:
        try:
            rows = _read_all(con, name)
            result.add(name, "table", "ok", rows)
        except duckdb.Error as exc:
            result.add(name, "table", "damaged", detail=_damaged_columns(con, name, exc))
    try:
        version = current_version(con)
    except duckdb.Error as exc:
        result.add("schema_version", "table", "damaged", detail=first_line(exc)[:160])
        return
    newest = latest_version()
    note = "" if version == newest else (
        f"older than this tracker's {newest}: `tracker init` upgrades it" if version < newest
        else f"newer than this tracker's {newest}: upgrade ai-token-tracker")
    result.add("schema", "version", "ok" if version <= newest else "newer", version, note)
    present = present_objects(con)
    for name, kind in expected_objects(min(version, newest)).items():
        if name not in present:
            result.add(name, kind, "missing", detail=f"schema version {version} should have it")
        elif kind == "view":
            try:
                con.execute(f"SELECT * FROM {quote_identifier(name)} LIMIT 0").fetchall()
                result.add(name, "view", "ok")
            except duckdb.Error as exc:
                result.add(name, "view", "broken", detail=first_line(exc)[:160])


def _damaged_columns(con: duckdb.DuckDBPyConnection, table: str, exc: duckdb.Error) -> str:
    first = first_line(exc)[:160]
    try:
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND table_name = ? ORDER BY column_index", [table]).fetchall()]
    except duckdb.Error:
        return first
    bad = []
    for column in columns:
        try:
            _read_all(con, table, [column])
        except duckdb.Error:
            bad.append(column)
    return f"columns {', '.join(bad)}: {first}" if bad else first
