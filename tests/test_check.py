"""A damaged file: writers refuse it (pointing to `tracker check`), `tracker check` finds the damage.

The damaged files are made as the issue made them: a database with data, checkpointed, copied,
then cut to half its size; and, separately, with bytes overwritten inside a data block.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import storage
from storage import DatabaseDamagedError

PRICE_ROWS = 400_000  # several 256 KiB blocks of price_history, so half the file cuts into data


def _build(path: Path) -> None:
    db = storage.open_database(path, create=True)
    with db.transaction() as con:
        con.execute(
            "INSERT INTO price_history SELECT 'coin-' || (i % 40), 'usd', TIMESTAMP '2021-01-01' + INTERVAL (i // 40) HOUR, "
            "1 + (i % 997) / 10.0, 1e9 + i, 1e6 + i, 'hourly', false, 'coingecko', TIMESTAMP '2024-01-01' FROM range(?) r(i)",
            [PRICE_ROWS],
        )
        con.execute("INSERT INTO events VALUES ('sora-demo', 'Sora', TIMESTAMP '2024-02-15 18:00', true, 'x', NULL, NULL, TIMESTAMP '2024-03-01')")
    with db.connect() as con:
        con.execute("CHECKPOINT")


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("whole") / "tracker.duckdb"
    _build(path)
    return path


@pytest.fixture
def truncated(whole, tmp_path) -> Path:
    path = tmp_path / "truncated.duckdb"
    shutil.copy(whole, path)
    os.truncate(path, path.stat().st_size // 2)
    return path


@pytest.fixture
def corrupted(whole, tmp_path) -> Path:
    """Bytes overwritten in the middle of a block of price_history's price column."""
    path = tmp_path / "corrupted.duckdb"
    shutil.copy(whole, path)
    with storage.Database(path).connect(read_only=True) as con:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
        block, offset = con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info('price_history') WHERE column_name = 'price' "
            "AND block_id >= 0 ORDER BY row_group_id LIMIT 1 OFFSET 1").fetchone()
    with open(path, "r+b") as handle:  # inside the price values (a block's unused tail is never read)
        handle.seek(3 * 4096 + block * block_size + 8 + offset + 64)
        handle.write(bytes(range(256)))
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _invoke(*args: str):
    from click.testing import CliRunner

    from tracker.cli import cli

    return CliRunner().invoke(cli, list(args))


def test_the_whole_file_passes_both_checks(whole):
    assert storage.verify(storage.Database(whole)) == storage.latest_version()
    assert storage.verify(storage.Database(whole), full=False) == storage.latest_version()
    result = _invoke("--db", str(whole), "check", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {(r["kind"], r["object"]): r for r in json.loads(result.stdout)}
    assert rows[("table", "price_history")]["rows"] == PRICE_ROWS and rows[("table", "price_history")]["status"] == "ok"
    assert rows[("file", "file")]["status"] == "ok"
    assert {r["status"] for r in rows.values()} == {"ok"}


def test_a_truncated_file_is_refused_by_every_writer(truncated, tmp_path, monkeypatch):
    (tmp_path / "prices.csv").write_text("timestamp,price\n2024-01-01,1.5\n2024-01-02,1.6\n")
    (tmp_path / "nvda.csv").write_text("date,close\n2024-01-02,48.2\n2024-01-03,47.6\n")
    digest = _digest(truncated)
    monkeypatch.setenv("COINGECKO_BASE_URL", "http://127.0.0.1:9/api/v3")  # os.environ directly would leak into later tests
    for args in (
        ["events", "add", "x-event", "--name", "X", "--date", "2024-02-15"],
        ["import", "csv", str(tmp_path / "prices.csv"), "--layout", "series", "--coin", "fetch-ai", "--granularity", "daily"],
        ["correlate", "series", "import", str(tmp_path / "nvda.csv"), "--id", "nvda"],
        ["ingest", "categories"],  # refused before any call: the port below has no server
        ["init"],
    ):
        result = _invoke("--db", str(truncated), *args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert "is damaged (the file is" in lines[0] and "cut short" in lines[0] and "Run `tracker check`" in lines[0], lines[0]
    assert _digest(truncated) == digest  # nothing was written, nothing replayed
    assert not storage.wal_path(truncated).exists()


def test_the_daemon_verifies_at_start(truncated):
    from jobs.executor import IngestExecutor
    from tracker.config import load_config

    config = load_config(None, env={}).with_database(str(truncated))
    with pytest.raises(DatabaseDamagedError, match="cut short.*tracker check"):
        IngestExecutor(config, publish_snapshots=False)


def test_check_reports_the_truncation_and_how_to_restore(truncated):
    result = _invoke("--db", str(truncated), "check", "--format", "json")
    assert result.exit_code == 1
    rows = json.loads(result.stdout)
    file_row = next(r for r in rows if r["kind"] == "file")
    assert file_row["status"] == "damaged" and "cut short" in file_row["detail"]
    assert any(r["object"] == "price_history" and r["status"] == "damaged" for r in rows)
    err = result.stderr
    assert "snapshot" in err and "backup" in err and "tracker export parquet" in err
    assert err.strip().splitlines()[-1].startswith(f"error: {truncated} is damaged: file file (damaged)")


def test_check_finds_bad_bytes_inside_a_table_and_names_the_column(corrupted):
    digest = _digest(corrupted)
    result = _invoke("--db", str(corrupted), "check", "--format", "json")
    assert result.exit_code == 1, result.output
    rows = json.loads(result.stdout)
    damaged = [r for r in rows if r["status"] != "ok"]
    assert [(r["kind"], r["object"]) for r in damaged] == [("table", "price_history")]
    named, _, why = damaged[0]["detail"].partition(": ")
    assert named.startswith("columns ") and "price" in named.split(" ", 1)[1].split(", ") and "checksum" in why
    events = next(r for r in rows if r["object"] == "events")
    assert events["status"] == "ok" and events["rows"] == 1
    assert _digest(corrupted) == digest  # the check only reads


def test_reads_of_a_damaged_block_are_one_line_pointing_to_check(corrupted, tmp_path):
    result = _invoke("--db", str(corrupted), "export", "parquet", str(tmp_path / "export"))
    assert result.exit_code == 1, result.output
    errors = [line for line in result.stderr.splitlines() if not line.startswith("exporting ")]  # progress lines
    assert len(errors) == 1 and "is damaged" in errors[0] and "tracker check" in errors[0] and "unexpected" not in errors[0]
    assert not (tmp_path / "export").exists()


def test_writers_refuse_bad_bytes_inside_a_table(corrupted):
    digest = _digest(corrupted)
    result = _invoke("--db", str(corrupted), "events", "add", "x-event", "--name", "X", "--date", "2024-02-15")
    assert result.exit_code == 1
    assert "is damaged (Corrupt database file" in result.stderr and "Run `tracker check`" in result.stderr
    assert result.stderr.count("\n") == 1
    assert _digest(corrupted) == digest


def test_on_a_big_file_a_writer_touching_a_damaged_block_fails_cleanly(corrupted, monkeypatch):
    """Above FULL_VERIFY_MAX_BYTES the verify reads only the small tables, so bad bytes deep in
    price_history pass it; a write that reads them then fails with the same one line and rolls back."""
    import pandas as pd

    from storage import integrity

    monkeypatch.setattr(integrity, "FULL_VERIFY_MAX_BYTES", 0)  # as if the file were big
    db = storage.open_database(corrupted)
    frame = pd.DataFrame({"coin_id": ["coin-1"], "vs_currency": ["usd"], "ts": [pd.Timestamp("2021-02-01")], "price": [2.0],
                          "market_cap": [None], "total_volume": [None], "granularity": ["hourly"], "is_partial": [False],
                          "source": ["coingecko"], "ingested_at": [pd.Timestamp("2024-05-01")]})
    with pytest.raises(DatabaseDamagedError, match="tracker check"):
        with db.transaction() as con:
            con.execute("SELECT sum(price) FROM price_history").fetchall()
            storage.upsert(con, "price_history", frame)


def test_check_of_a_missing_table_and_a_missing_file(tmp_path, db):
    with db.connect() as con:
        con.execute("DROP TABLE ingest_state")
    result = _invoke("--db", str(db.path), "check", "--format", "csv")
    assert result.exit_code == 1
    assert "ingest_state,table,missing" in result.stdout
    missing = _invoke("--db", str(tmp_path / "none.duckdb"), "check")
    assert missing.exit_code == 1 and "run `tracker init`" in missing.stderr
    assert not (tmp_path / "none.duckdb").exists()


def test_check_is_a_console_command(whole, tmp_path):
    from .conftest import subprocess_env, venv_bin

    out = subprocess.run([venv_bin("tracker"), "--db", str(whole), "check"], capture_output=True, text=True, timeout=120,
                         env=subprocess_env(), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "price_history" in out.stdout and "damaged" not in out.stdout
