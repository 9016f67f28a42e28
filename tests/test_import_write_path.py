"""One write path: a CSV import is a Batch written by the same writer as the ingest jobs, with
the same new-coins rule and run record, in one transaction, and it waits in the spool while the
database is locked."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

import storage
from jobs.spool import Spool
from tracker.ingest import Batch, write, write_batch
from tracker.ingest.runs import RunRecord
from tracker.sources.csvimport import ImportOptions, import_batch, import_csv, prepare_import

from .daemon_harness import LockHolder, run_tracker, spool_batches

HOURLY = "open_time,close\n" + "".join(f"2024-02-12 {h:02d}:00:00,{1 + h / 100}\n" for h in range(24))
COINS = "SELECT coin_id, symbol, name, active, inactive_reason FROM coins ORDER BY coin_id"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def _count(db, table: str) -> int:
    return int(storage.query(db, f"SELECT count(*) AS n FROM {table}")["n"][0])


def test_an_import_is_one_batch_of_job_import(tmp_path):
    prepared = prepare_import(_write(tmp_path, "fet.csv", HOURLY), ImportOptions(coin_id="fetch-ai", symbol="FET"))
    batch = import_batch(prepared)
    assert (batch.job, batch.final, batch.tally, batch.run.job, batch.run.status) == ("import", True, True, "import", "running")
    assert list(batch.frames) == ["price_history"] and len(batch.frames["price_history"]) == 24
    assert batch.operations["new_coins"][["coin_id", "symbol"]].values.tolist() == [["fetch-ai", "FET"]]


def test_the_import_run_record_is_written_by_the_batch_writer(db, tmp_path, monkeypatch):
    recorded = []
    real = write.record_run

    def spy(con, run):
        recorded.append((run.job, run.status, run.rows))
        real(con, run)

    monkeypatch.setattr(write, "record_run", spy)
    result = import_csv(db, _write(tmp_path, "fet.csv", HOURLY), ImportOptions(coin_id="fetch-ai"))
    assert recorded == [("import", "ok", 24)]
    runs = storage.query(db, "SELECT run_id, job, status, rows FROM ingest_runs")
    assert runs.values.tolist() == [[result.run_id, "import", "ok", 24]]


def test_a_failure_in_the_middle_of_the_group_writes_nothing(db, tmp_path, monkeypatch):
    path = _write(tmp_path, "fet.csv", HOURLY)
    import_csv(db, path, ImportOptions(coin_id="fetch-ai"))
    before = storage.query(db, "SELECT * FROM price_history ORDER BY ts")
    changed = _write(tmp_path, "fet2.csv", HOURLY.replace(",1.", ",7.") + "2024-02-13 00:00:00,9\n")

    def broken(con, frame):  # after the price rows were upserted, before the coins and the run
        raise RuntimeError("disk full")

    monkeypatch.setattr(storage, "add_new_coins", broken)
    with pytest.raises(RuntimeError):
        import_csv(db, changed, ImportOptions(coin_id="worldcoin-wld", source="csv:fet.csv"))
    with pytest.raises(RuntimeError):
        import_csv(db, changed, ImportOptions(coin_id="fetch-ai", source="csv:fet.csv"))
    pd.testing.assert_frame_equal(storage.query(db, "SELECT * FROM price_history ORDER BY ts"), before)
    assert _count(db, "coins") == 1 and _count(db, "ingest_runs") == 1


def test_a_spooled_import_batch_writes_the_same_as_a_direct_one(db, tmp_path):
    path = _write(tmp_path, "w.csv", "date,FET,WLD\n2024-02-12,0.6675,2.617\n2024-02-13,0.6673,2.7\n")
    options = ImportOptions(mapping={"FET": "fetch-ai", "WLD": "worldcoin-wld"})
    spool = Spool(tmp_path / "spool")
    spool.put(import_batch(prepare_import(path, options)))
    assert spool.drain(db).written == 1
    first = storage.query(db, "SELECT rows, details FROM ingest_runs")
    assert json.loads(first["details"][0])["new_coins"] == 2 and first["rows"][0] == 4
    again = import_csv(db, path, options)  # idempotent, whichever way the first one came
    assert (again.written, again.replaced, again.new_coins) == (4, 4, 0)
    assert _count(db, "price_history") == 4 and _count(db, "coins") == 2


def test_one_new_coins_rule_for_imports_and_ingest_jobs(db, tmp_path):
    import_csv(db, _write(tmp_path, "fet.csv", HOURLY), ImportOptions(coin_id="fetch-ai", symbol="FET"))
    # An ingest batch that names a coin new to `coins` gets the same row from the same rule.
    at = datetime(2024, 2, 12)
    named = pd.DataFrame({"coin_id": ["worldcoin-wld"], "symbol": ["WLD"], "at": [at]}).astype({"symbol": object})
    write_batch(db, Batch(job="history", run=RunRecord(job="history"), operations={"new_coins": named}))
    coins = storage.query(db, COINS)
    assert coins.values.tolist() == [["fetch-ai", "fet", None, True, None], ["worldcoin-wld", "wld", None, True, None]]

    # A delisted coin not stored yet gets its row by that rule too, then is marked (counted once).
    gone = pd.DataFrame({"coin_id": ["gone-coin", "fetch-ai"], "reason": ["HTTP 404", "HTTP 404"], "at": [at, at]})
    result = write_batch(db, Batch(job="history", run=RunRecord(job="history"), operations={"deactivate": gone}))
    assert result.by_table["coins"] == 2 and result.rows == 2 and result.new_coins == 0
    rows = storage.query(db, "SELECT coin_id, coalesce(symbol, '-') AS symbol, active, inactive_reason, updated_at "
                             "FROM coins ORDER BY coin_id")
    assert rows.values.tolist()[:2] == [["fetch-ai", "fet", False, "HTTP 404", pd.Timestamp(at)],
                                        ["gone-coin", "-", False, "HTTP 404", pd.Timestamp(at)]]

    # A markets observation replaces what an import knew; a later import leaves it alone.
    markets = pd.DataFrame({"coin_id": ["worldcoin-wld"], "symbol": ["wld"], "name": ["Worldcoin"], "active": [True],
                            "inactive_reason": [None], "updated_at": [at]}).astype({"inactive_reason": object})
    write_batch(db, Batch(job="markets", run=RunRecord(job="markets"), frames={"coins": markets}))
    wide = _write(tmp_path, "w.csv", "date,WLD\n2024-02-12,2.617\n2024-02-13,2.7\n")
    assert import_csv(db, wide, ImportOptions(mapping={"WLD": "worldcoin-wld"})).new_coins == 0
    assert storage.query(db, "SELECT name FROM coins WHERE coin_id = 'worldcoin-wld'")["name"][0] == "Worldcoin"


@pytest.mark.slow  # over 3 s on a quiet machine
def test_a_locked_database_keeps_the_checked_file_in_the_spool_and_the_next_import_writes_it(tmp_path):
    (tmp_path / "tracker.toml").write_text("[database]\nlock_timeout_seconds = 0.5\n")
    assert run_tracker(tmp_path, "init").returncode == 0
    db_path = tmp_path / "data" / "tracker.duckdb"
    first = _write(tmp_path, "fet.csv", HOURLY)
    second = _write(tmp_path, "wld.csv", HOURLY)
    with LockHolder(db_path, 300):  # another process holds the file past the 0.5 s lock timeout
        held = run_tracker(tmp_path, "import", "csv", str(first), "--coin", "fetch-ai", "--format", "json")
        waiting = spool_batches(tmp_path)
    assert held.returncode == 4, held.stderr
    summary = json.loads(held.stdout)["import"]
    assert (summary["prices"], summary["written"], summary["dry_run"]) == (24, 0, False)
    notice = [line for line in held.stderr.splitlines() if line.startswith("warning: database not writable")]
    assert len(notice) == 1 and "the checked file waits as one batch in the spool data/spool" in notice[0], held.stderr
    assert [json.loads((p / "manifest.json").read_text())["job"] for p in waiting] == ["import"]

    after = run_tracker(tmp_path, "import", "csv", str(second), "--coin", "worldcoin-wld", "--format", "json")
    assert after.returncode == 0, after.stderr
    assert "note: wrote 1 batch(es) an earlier run left in the spool" in after.stderr
    assert spool_batches(tmp_path) == []
    db = storage.open_for_reading(db_path)
    runs = storage.query(db, "SELECT run_id, job, status, rows FROM ingest_runs ORDER BY started_at")
    assert runs[["job", "status", "rows"]].values.tolist() == [["import", "ok", 24], ["import", "ok", 24]]
    assert runs["run_id"][0] == summary["run_id"]
    assert _count(db, "price_history") == 48 and _count(db, "coins") == 2
