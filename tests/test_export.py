"""tracker export parquet: Hive-partitioned Parquet that reads back whole, and a careful target check."""
from __future__ import annotations

import hashlib
import json

import duckdb
import pyarrow.dataset as ds
import pytest

import storage
from tracker.errors import InputError
from tracker.report import parquet_export as export_module
from tracker.report.parquet_export import PARTITIONED, export_parquet

from .sqlfixture import build_fixture


@pytest.fixture(scope="module")
def source_db(tmp_path_factory):
    return build_fixture(tmp_path_factory.mktemp("export") / "fixture.duckdb")


def _types(con, sql: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {sql}").fetchall()]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_keeps_rows_columns_and_types(source_db, tmp_path):
    before = _digest(source_db.path)
    target = tmp_path / "export"
    result = export_parquet(source_db, target)
    assert _digest(source_db.path) == before, "the export must not write to the database"
    assert target.is_dir() and not list(tmp_path.glob(".export.partial-*"))
    assert {t.table for t in result.tables} == set(storage.TABLES)

    with source_db.connect(read_only=True) as src:
        for table in result.tables:
            name = table.table
            expected_rows = src.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            assert table.rows == expected_rows
            source_types = _types(src, f"SELECT * FROM {name}")
            if table.rows == 0 and name in PARTITIONED:
                assert table.files == 0 and list((target / name).iterdir()) == []
                continue
            glob = str(target / name / "**" / "*.parquet")
            with duckdb.connect() as reader:
                read = f"SELECT * FROM read_parquet('{glob}', hive_partitioning = true)"
                assert reader.execute(f"SELECT count(*) FROM ({read})").fetchall()[0][0] == expected_rows, name
                read_types = _types(reader, read)
            if name in PARTITIONED:
                assert read_types == source_types + [("month", "VARCHAR")], name
            else:
                assert read_types == source_types, name


def test_partitions_hold_their_month_and_values_survive(source_db, tmp_path):
    target = tmp_path / "export"
    export_parquet(source_db, target, tables=["price_history"])
    months = sorted(p.name for p in (target / "price_history").iterdir())
    assert months[0] == "month=2023-10" and months[-1] == "month=2024-05"
    glob = str(target / "price_history" / "**" / "*.parquet")
    with duckdb.connect() as reader:
        reader.execute(f"CREATE VIEW exported AS SELECT * FROM read_parquet('{glob}', hive_partitioning = true)")
        assert reader.execute("SELECT count(*) FROM exported WHERE month <> strftime(ts, '%Y-%m')").fetchall() == [(0,)]
        exported = reader.execute(
            "SELECT coin_id, vs_currency, ts, price, market_cap, source FROM exported ORDER BY ALL").fetchall()
    with source_db.connect(read_only=True) as src:
        original = src.execute(
            "SELECT coin_id, vs_currency, ts, price, market_cap, source FROM price_history ORDER BY ALL").fetchall()
    assert exported == original


def test_other_readers_take_the_folders_as_they_are(source_db, tmp_path):
    target = tmp_path / "export"
    export_parquet(source_db, target, include_views=True)
    table = ds.dataset(target / "price_history", format="parquet", partitioning="hive").to_table()
    daily = ds.dataset(target / "daily_prices", format="parquet", partitioning="hive").to_table()
    with source_db.connect(read_only=True) as src:
        assert table.num_rows == src.execute("SELECT count(*) FROM price_history").fetchall()[0][0]
        assert daily.num_rows == src.execute("SELECT count(*) FROM daily_prices").fetchall()[0][0]
    assert str(table.schema.field("ts").type) == "timestamp[us]"
    assert str(table.schema.field("month").type) == "string"
    manifest = json.loads((target / "_manifest.json").read_text())
    assert manifest["tables"]["daily_prices"]["partitioned_by"] == "day"
    assert manifest["schema_version"] == storage.latest_version()


def test_refuses_a_file_and_a_non_empty_folder(source_db, tmp_path):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("keep me")
    with pytest.raises(InputError, match="is not a folder"):
        export_parquet(source_db, a_file)
    assert a_file.read_text() == "keep me"

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="not empty; .* pass `overwrite`") as info:
        export_parquet(source_db, busy)
    assert "\n" not in str(info.value)
    assert [p.name for p in busy.iterdir()] == ["mine.csv"]
    assert not list(tmp_path.glob(".busy.partial-*"))


def test_overwrite_replaces_only_what_the_export_writes(source_db, tmp_path):
    target = tmp_path / "export"
    export_parquet(source_db, target, tables=["coins", "events"])
    stale = target / "coins" / "stale.parquet"
    stale.write_bytes(b"old")
    (target / "README.txt").write_text("mine")
    export_parquet(source_db, target, overwrite=True, tables=["coins"])
    assert not stale.exists(), "the coins folder is replaced whole"
    assert (target / "README.txt").read_text() == "mine"
    assert (target / "events" / "data_0.parquet").exists(), "a table not exported this time is left alone"
    assert json.loads((target / "_manifest.json").read_text())["tables"].keys() == {"coins"}
    assert not list(tmp_path.glob(".export.partial-*"))


def test_a_failed_export_leaves_no_trace(source_db, tmp_path, monkeypatch):
    real = export_module._write_one
    written = []

    def failing(con, name, column, folder):
        if len(written) == 2:
            raise OSError("disk full")
        written.append(name)
        return real(con, name, column, folder)

    monkeypatch.setattr(export_module, "_write_one", failing)
    with pytest.raises(OSError):
        export_parquet(source_db, tmp_path / "export")
    assert list(tmp_path.iterdir()) == []


def test_unknown_table_is_refused_before_anything_lands(source_db, tmp_path):
    with pytest.raises(InputError, match="no table 'prices'"):
        export_parquet(source_db, tmp_path / "new" / "export", tables=["prices"])
    assert list(tmp_path.iterdir()) == []


def test_cli_exports_and_reports_in_every_format(source_db, tmp_path, cli_runner):
    result = cli_runner("--db", str(source_db.path), "export", "parquet", str(tmp_path / "out"), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {row["table"] for row in report} == set(storage.TABLES)
    assert "exporting price_history" in result.stderr
    again = cli_runner("--db", str(source_db.path), "export", "parquet", str(tmp_path / "out"))
    assert again.exit_code == 1
    assert again.stderr.startswith("error: ") and "--overwrite" in again.stderr and again.stderr.count("\n") == 1
    csv = cli_runner("--db", str(source_db.path), "export", "parquet", str(tmp_path / "out"), "--overwrite",
                     "--table", "events", "--format", "csv")
    assert csv.exit_code == 0 and csv.stdout.splitlines()[0] == "table,rows,files,partitioned_by,path"
    bad = cli_runner("--db", str(source_db.path), "export", "parquet", str(tmp_path / "x"), "--table", "nope")
    assert bad.exit_code == 1 and "no table 'nope'" in bad.stderr
