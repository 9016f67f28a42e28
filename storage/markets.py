"""``coin_markets``: which exchange market carries which coin, and the candles' watermarks.

The candles service (tracker/ingest/candles.py) reads the stored mapping before a run and
writes what it learnt through the batch writer (operation ``coin_markets``); every statement
is here, as a named function.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb

from .connection import Database

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd

COIN_MARKET_COLUMNS = ("coin_id", "exchange", "symbol", "exchange_symbol", "base", "quote", "mapped_by", "active",
                       "first_seen", "last_seen", "updated_at")


def upsert_coin_markets(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Insert or update markets by (exchange, symbol); returns the rows written.

    The coin, ids, mapping and ``active`` come from the newer row; ``first_seen`` only moves
    earlier and ``last_seen`` only later, so a late (spooled) batch cannot shrink what is known.
    The last row per market in ``frame`` wins.
    """
    import pyarrow as pa

    rows = frame[list(COIN_MARKET_COLUMNS)].drop_duplicates(["exchange", "symbol"], keep="last")
    if rows.empty:
        return 0
    con.register("__markets", pa.Table.from_pandas(rows, preserve_index=False))
    try:
        con.execute(
            "UPDATE coin_markets AS t SET coin_id = m.coin_id, exchange_symbol = coalesce(m.exchange_symbol, t.exchange_symbol), "
            "base = m.base, quote = m.quote, mapped_by = m.mapped_by, active = coalesce(m.active, t.active), "
            "first_seen = CASE WHEN t.first_seen IS NULL THEN m.first_seen WHEN m.first_seen IS NULL THEN t.first_seen "
            "ELSE least(t.first_seen, m.first_seen) END, "
            "last_seen = CASE WHEN t.last_seen IS NULL THEN m.last_seen WHEN m.last_seen IS NULL THEN t.last_seen "
            "ELSE greatest(t.last_seen, m.last_seen) END, "
            "updated_at = m.updated_at FROM __markets AS m WHERE t.exchange = m.exchange AND t.symbol = m.symbol"
        )
        con.execute(
            "INSERT INTO coin_markets SELECT m.coin_id, m.exchange, m.symbol, m.exchange_symbol, m.base, m.quote, "
            "m.mapped_by, m.active, m.first_seen, m.last_seen, m.updated_at FROM __markets AS m "
            "WHERE NOT EXISTS (SELECT 1 FROM coin_markets AS t WHERE t.exchange = m.exchange AND t.symbol = m.symbol)"
        )
    finally:
        con.unregister("__markets")
    return len(rows)


def coin_markets(db: Database, exchange: str | None = None) -> pd.DataFrame:
    """The stored markets (all columns), of one ``exchange`` or all, ordered by exchange, coin, symbol."""
    with db.connect(read_only=True) as con:
        return stored_coin_markets(con, exchange)


def stored_coin_markets(con: duckdb.DuckDBPyConnection, exchange: str | None = None) -> pd.DataFrame:
    """:func:`coin_markets` on an open connection."""
    columns = ", ".join(COIN_MARKET_COLUMNS)
    return con.execute(
        f"SELECT {columns} FROM coin_markets WHERE ? IS NULL OR exchange = ? ORDER BY exchange, coin_id, symbol",
        [exchange, exchange],
    ).df()




def coins_by_symbol(con: duckdb.DuckDBPyConnection, symbols: list[str]) -> pd.DataFrame:
    """``coin_id, symbol`` (lower case) of every stored coin whose symbol is one of ``symbols``."""
    return con.execute(
        "SELECT coin_id, lower(symbol) AS symbol FROM coins WHERE list_contains(?, lower(symbol)) ORDER BY coin_id",
        [[s.lower() for s in symbols]],
    ).df()


def coin_symbols(con: duckdb.DuckDBPyConnection, coin_ids: list[str]) -> dict[str, str]:
    """``coin_id -> symbol`` (lower case) of the stored coins among ``coin_ids`` that have one."""
    rows = con.execute(
        "SELECT coin_id, lower(symbol) FROM coins WHERE list_contains(?, coin_id) AND symbol IS NOT NULL", [list(coin_ids)]
    ).fetchall()
    return {str(c): str(s) for c, s in rows}


__all__ = ["COIN_MARKET_COLUMNS", "coin_markets", "coin_symbols", "coins_by_symbol", "stored_coin_markets", "upsert_coin_markets"]
