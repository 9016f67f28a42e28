"""Batches: fetched without the database, written in one transaction, and spooled to disk and back unchanged."""
from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pytest

import storage
from tracker.errors import InputError
from tracker.ingest import (
    Batch,
    MarketsCache,
    fetch_categories,
    fetch_history,
    fetch_markets,
    fetch_members,
    read_history_state,
    write_batch,
)
from tracker.ingest.batch import UPSERT_TABLES
from tracker.ingest.runs import RunRecord
from tracker.sources.fakegecko import FakeGecko

from .gecko_helpers import NOW, TRACKING, assert_no_duplicates, count, frame, make_client


@pytest.fixture
def fake():
    """Three coins in the category: enough for every kind of batch, few writes."""
    with FakeGecko(ai_coins=3, other_coins=3, now=NOW) as server:
        yield server


@pytest.fixture
def client(fake):
    with make_client(fake) as c:
        yield c

SNAPSHOT_SQL = {
    "coins": "SELECT * FROM coins ORDER BY coin_id",
    "categories": "SELECT * FROM categories ORDER BY category_id",
    "category_snapshots": "SELECT * FROM category_snapshots ORDER BY category_id",
    "category_members": "SELECT * FROM category_members ORDER BY category_id, coin_id, valid_from",
    "market_snapshots": "SELECT * FROM market_snapshots ORDER BY coin_id",
    "price_history": "SELECT * FROM price_history ORDER BY coin_id, ts",
    "ingest_state": "SELECT job, scope, watermark, detail FROM ingest_state ORDER BY job, scope",
    "ingest_runs": "SELECT run_id, job, status, calls, rows, error FROM ingest_runs ORDER BY run_id",
}


def _all_batches(client, db):
    cache = MarketsCache()
    batches = list(fetch_categories(client, TRACKING, now=NOW))
    batches += list(fetch_markets(client, TRACKING, now=NOW, cache=cache))
    batches += list(fetch_members(client, TRACKING, now=NOW, cache=cache))
    for batch in batches:
        write_batch(db, batch)
    state = read_history_state(db, TRACKING)
    history = list(fetch_history(client, TRACKING, state, now=NOW))
    return batches, history


def _snapshot(db):
    return {name: storage.query(db, sql) for name, sql in SNAPSHOT_SQL.items()}


def test_spooled_batches_write_exactly_what_direct_ones_do(fake, client, tmp_path):
    direct = storage.open_database(tmp_path / "direct.duckdb", create=True)
    spooled = storage.open_database(tmp_path / "spooled.duckdb", create=True)
    batches, history = _all_batches(client, direct)
    for batch in history:
        write_batch(direct, batch)

    for i, batch in enumerate(batches + history):
        batch.save(tmp_path / "spool" / f"{i:04d}")
    assert len(list((tmp_path / "spool").iterdir())) == len(batches + history)
    for folder in sorted((tmp_path / "spool").iterdir()):
        write_batch(spooled, Batch.load(folder))

    a, b = _snapshot(direct), _snapshot(spooled)
    for name in SNAPSHOT_SQL:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)
    assert count(spooled, "price_history", "WHERE is_partial") == count(direct, "price_history", "WHERE is_partial") > 0


def test_round_trip_keeps_every_part(fake, client, tmp_path):
    db = storage.open_database(tmp_path / "t.duckdb", create=True)
    batches, history = _all_batches(client, db)
    members = batches[-1]
    coin = history[0]
    for original in (members, coin, batches[0]):
        loaded = Batch.load(original.save(tmp_path / original.run.run_id / "b"))
        assert (loaded.job, loaded.final, loaded.watermarks, loaded.watermark_details) == (
            original.job, original.final, original.watermarks, original.watermark_details)
        assert vars(loaded.run) == vars(original.run)
        assert set(loaded.frames) == set(original.frames) and set(loaded.operations) == set(original.operations)
        for name, f in original.frames.items():
            pd.testing.assert_frame_equal(loaded.frames[name].reset_index(drop=True), f.reset_index(drop=True), check_dtype=False)
    snap = Batch.load(batches[0].save(tmp_path / "cats")).frames["category_snapshots"]
    assert list(snap["top_3_coins"].iloc[0]) == list(batches[0].frames["category_snapshots"]["top_3_coins"].iloc[0])


@pytest.mark.slow
def test_writing_a_batch_twice_changes_nothing(fake, client, db):
    batches, history = _all_batches(client, db)
    for batch in history:
        write_batch(db, batch)
    before = _snapshot(db)
    for batch in batches + history:
        write_batch(db, batch)
    after = _snapshot(db)
    for name in SNAPSHOT_SQL:
        if name == "ingest_runs":
            continue  # the run's row count adds what each write wrote
        pd.testing.assert_frame_equal(before[name], after[name], check_dtype=False, obj=name)
    assert_no_duplicates(db)


def test_a_run_spans_batches_and_only_the_final_one_decides(fake, client, db):
    state = read_history_state(db, TRACKING)
    history = list(fetch_history(client, TRACKING, state, now=NOW))
    assert [b.final for b in history] == [False, False, True]
    assert len({b.run.run_id for b in history}) == 1
    write_batch(db, history[0])
    row = frame(db, "SELECT status, calls, rows FROM ingest_runs").iloc[0]
    assert row["status"] == "running" and row["calls"] == 2 and row["rows"] == len(history[0].frames["price_history"])
    write_batch(db, history[2])  # the final batch arrives before the middle one (spooled)
    write_batch(db, history[1])
    row = frame(db, "SELECT status, calls, rows, finished_at FROM ingest_runs").iloc[0]
    assert row["status"] == "ok" and row["calls"] == 4 and row["finished_at"] is not None
    assert row["rows"] == sum(len(b.frames.get("price_history", [])) for b in history)


def test_spool_refuses_to_overwrite_and_leaves_no_temporary_folder(fake, client, tmp_path):
    (batch,) = list(fetch_categories(client, TRACKING, now=NOW))
    target = batch.save(tmp_path / "spool" / "one")
    with pytest.raises(InputError, match="already exists"):
        batch.save(target)
    assert sorted(p.name for p in (tmp_path / "spool").iterdir()) == ["one"]


def test_damaged_spool_folders_are_refused_in_one_line(fake, client, tmp_path):
    (batch,) = list(fetch_markets(client, TRACKING, now=NOW))
    good = batch.save(tmp_path / "good")
    with pytest.raises(InputError, match="no manifest.json"):
        Batch.load(tmp_path)
    manifest = json.loads((good / "manifest.json").read_text())

    def variant(name, change):
        folder = tmp_path / name
        folder.mkdir()
        for f in good.iterdir():
            (folder / f.name).write_bytes(f.read_bytes())
        data = json.loads(json.dumps(manifest))
        change(folder, data)
        (folder / "manifest.json").write_text(json.dumps(data))
        return folder

    cases = {
        "rows": (lambda f, d: d["frames"]["coins"].update(rows=999), "manifest says 999"),
        "missing": (lambda f, d: (f / "coins.parquet").unlink(), "cannot read coins.parquet"),
        "table": (lambda f, d: d["frames"].update(events={"file": "coins.parquet", "rows": 1}), "not one a batch may carry"),
        "version": (lambda f, d: d.update(version=99), "version 99"),
        "foreign": (lambda f, d: d.update(format="zip"), "not a tracker batch"),
    }
    for name, (change, message) in cases.items():
        with pytest.raises(InputError, match=message) as caught:
            Batch.load(variant(name, change))
        assert "\n" not in str(caught.value)


def test_batches_only_write_known_tables():
    with pytest.raises(ValueError):
        Batch("markets", RunRecord(job="markets"), frames={"events": pd.DataFrame()})
    with pytest.raises(ValueError):
        Batch("markets", RunRecord(job="markets"), operations={"drop_everything": pd.DataFrame()})
    assert UPSERT_TABLES == ("coins", "categories", "category_snapshots", "market_snapshots", "price_history")


def test_a_failed_write_leaves_nothing_behind(fake, client, db):
    (batch,) = list(fetch_markets(client, TRACKING, now=NOW))
    bad = batch.frames["market_snapshots"].copy()
    bad.loc[0, "coin_id"] = None  # a NULL key makes the second upsert fail
    batch.frames["market_snapshots"] = bad
    with pytest.raises(storage.WriteError):
        write_batch(db, batch)
    for table in ("coins", "market_snapshots", "ingest_runs", "ingest_state"):
        assert count(db, table) == 0, table


def test_write_reports_rows_and_lock_time(fake, client, db):
    from tracker.ingest import fetch_categories as fc

    (batch,) = list(fc(client, TRACKING, now=NOW + timedelta(seconds=1)))
    result = write_batch(db, batch)
    n = len(fake.universe.categories)
    assert result.rows == 2 * n and result.by_table == {"categories": n, "category_snapshots": n}
    assert 0 < result.lock_ms < 10_000 and result.run.status == "ok"
