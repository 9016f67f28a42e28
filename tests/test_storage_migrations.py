"""Migrations: from an empty file, from each older version, and refusing a newer one."""
from __future__ import annotations

from datetime import datetime

import pytest

import storage
from storage import Database, MigrationError, current_version, latest_version, migrate


def _tables_and_views(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}


def test_fresh_database_reaches_latest_version(db_path):
    db = storage.open_database(db_path, create=True)
    with db.connect(read_only=True) as con:
        assert current_version(con) == latest_version() >= 3
        names = _tables_and_views(con)
        rows = con.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert set(storage.TABLES) <= names
    assert {"daily_prices", "hourly_prices"} <= names
    assert [r[0] for r in rows] == list(range(1, latest_version() + 1))


@pytest.mark.parametrize("start", range(0, latest_version()))
def test_upgrade_from_each_older_version_keeps_data(db_path, start):
    db = Database(db_path)
    with db.connect(create=True) as con:
        migrate(con, target=start)
        assert current_version(con) == start
        if start >= 1:  # the core tables exist from version 1: put a row in to see it survive
            con.execute(
                "INSERT INTO events VALUES ('x-event', 'X', ?, true, 'test', NULL, NULL, ?)",
                [datetime(2024, 2, 15, 18), datetime(2024, 3, 1)],
            )
    upgraded = storage.open_database(db_path)  # every command upgrades in place
    with upgraded.connect(read_only=True) as con:
        assert current_version(con) == latest_version()
        if start >= 1:
            assert con.execute("SELECT name FROM events WHERE event_id = 'x-event'").fetchone() == ("X",)
        applied = con.execute("SELECT count(*) FROM schema_version").fetchone()[0]
    assert applied == latest_version()


def test_migrate_twice_is_a_no_op(db):
    with db.connect() as con:
        assert migrate(con) == []
        assert current_version(con) == latest_version()


def test_newer_database_is_refused_in_one_line(db_path):
    db = storage.open_database(db_path, create=True)
    with db.connect() as con:
        con.execute("INSERT INTO schema_version VALUES (?, 'from_the_future', ?)", [latest_version() + 1, datetime(2030, 1, 1)])
    with pytest.raises(MigrationError, match=r"newer than this tracker supports") as info:
        storage.open_database(db_path)
    assert "\n" not in str(info.value)


def test_a_failing_migration_leaves_the_old_version(db_path, monkeypatch):
    from storage import migrations

    real = migrations.available_migrations()
    broken = real + [migrations.Migration(len(real) + 1, "broken", "CREATE TABLE half_done(x INT); SELECT * FROM no_such_table;")]
    monkeypatch.setattr(migrations, "available_migrations", lambda: broken)
    db = Database(db_path)
    with db.connect(create=True) as con:
        with pytest.raises(MigrationError, match=r"migration 000\d_broken failed"):
            migrate(con)
        assert current_version(con) == len(real)
        assert "half_done" not in _tables_and_views(con)


def test_files_are_created_readable_by_the_1_5_cli_format(db):
    with db.connect(read_only=True) as con:
        tags = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    assert tags["storage_version"].startswith("v1.5.0")
