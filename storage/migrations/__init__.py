"""Versioned schema migrations.

Each migration is a file ``NNNN_name.sql`` in this folder. A file is applied once, inside one
transaction together with its row in ``schema_version``, so a crash leaves the database at the
old version or the new one, never between. Files are never edited after they ship: a change
to the schema is a new file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources

import duckdb

from ..errors import MigrationError, first_line

_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def available_migrations() -> list[Migration]:
    found = []
    for entry in resources.files(__name__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if versions != list(range(1, len(found) + 1)):
        raise MigrationError(f"migration files are not numbered 1..n without gaps: {versions}")
    return found


def latest_version() -> int:
    return len(available_migrations())


def current_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version' AND table_schema = 'main'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def migrate(con: duckdb.DuckDBPyConnection, *, target: int | None = None) -> list[Migration]:
    """Bring the schema up to ``target`` (default: the newest). Returns the migrations applied."""
    migrations = available_migrations()
    newest = len(migrations)
    target = newest if target is None else target
    if not 0 <= target <= newest:
        raise MigrationError(f"schema version {target} does not exist; this tracker knows versions 1..{newest}")
    version = current_version(con)
    if version > newest:
        raise MigrationError(
            f"database schema version {version} is newer than this tracker supports ({newest}); upgrade ai-token-tracker"
        )
    applied = []
    for migration in migrations[version:target]:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER NOT NULL, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
            )
            con.execute(migration.sql)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, ?)",
                [migration.version, migration.name, datetime.now(timezone.utc).replace(tzinfo=None)],
            )
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise MigrationError(f"migration {migration.version:04d}_{migration.name} failed: {first_line(exc)}") from None
        applied.append(migration)
    return applied
