"""Set-based upserts: idempotent, deterministic within a batch, all-or-nothing per transaction."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa
import pytest

import storage
from storage import WriteError


def _prices(values, ts_hours, source="coingecko", coin="fetch-ai"):
    return pd.DataFrame(
        {
            "coin_id": coin,
            "vs_currency": "usd",
            "ts": [datetime(2024, 2, 15, h) for h in ts_hours],
            "price": values,
            "granularity": "hourly",
            "is_partial": False,
            "source": source,
            "ingested_at": datetime(2024, 3, 1),
        }
    )


def _count(db, table="price_history"):
    return int(storage.query(db, f"SELECT count(*) AS n FROM {table}")["n"][0])


def test_rerunning_a_write_adds_no_rows(db):
    frame = _prices([1.0, 2.0, 3.0], [0, 1, 2])
    for _ in range(3):
        with db.transaction() as con:
            result = storage.upsert(con, "price_history", frame)
    assert _count(db) == 3
    assert (result.written, result.replaced, result.inserted) == (3, 3, 0)


def test_duplicates_in_a_batch_last_row_wins(db):
    frame = _prices([1.0, 2.0, 9.0, 3.0], [0, 1, 1, 2])
    with db.transaction() as con:
        result = storage.upsert(con, "price_history", frame)
    assert result.duplicates_in_batch == 1
    got = storage.query(db, "SELECT hour(ts) AS h, price FROM price_history ORDER BY ts")
    assert got["price"].tolist() == [1.0, 9.0, 3.0]


def test_update_replaces_values_and_other_keys_stay(db):
    with db.transaction() as con:
        storage.upsert(con, "price_history", _prices([1.0, 2.0], [0, 1]))
        storage.upsert(con, "price_history", _prices([5.0], [0], source="csv:binance.csv"))
    with db.transaction() as con:
        storage.upsert(con, "price_history", _prices([1.5], [0]))
    got = storage.query(db, "SELECT source, hour(ts) AS h, price FROM price_history ORDER BY source, ts")
    assert got.values.tolist() == [["coingecko", 0, 1.5], ["coingecko", 1, 2.0], ["csv:binance.csv", 0, 5.0]]


def test_arrow_input_is_accepted(db):
    table = pa.Table.from_pandas(_prices([1.0, 2.0], [0, 1]), preserve_index=False)
    with db.transaction() as con:
        assert storage.upsert(con, "price_history", table).written == 2
    assert _count(db) == 2


def test_a_failure_inside_the_transaction_leaves_nothing(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as con:
            storage.upsert(con, "price_history", _prices([1.0, 2.0], [0, 1]))
            raise RuntimeError("crash between writes")
    assert _count(db) == 0


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda f: f.assign(colour="red"), r"price_history has no column\(s\) colour"),
        (lambda f: f.drop(columns=["source"]), r"lack key column\(s\) source"),
        (lambda f: f.assign(coin_id=[None, "x"]), r"1 row\(s\) for price_history have no coin_id"),
    ],
)
def test_bad_batches_are_refused_in_one_line(db, mutate, message):
    with pytest.raises(WriteError, match=message) as info:
        with db.transaction() as con:
            storage.upsert(con, "price_history", mutate(_prices([1.0, 2.0], [0, 1])))
    assert "\n" not in str(info.value)
    assert _count(db) == 0


def test_unknown_table_is_refused(db):
    with pytest.raises(KeyError, match="unknown table"):
        with db.transaction() as con:
            storage.upsert(con, "no_such_table", _prices([1.0], [0]))


def test_empty_batch_is_fine(db):
    with db.transaction() as con:
        assert storage.upsert(con, "price_history", _prices([], [])).written == 0
