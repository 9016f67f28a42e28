"""The batch writer's SQL: set-based steps over registered frames, each idempotent.

``tracker.ingest.write.write_batch`` calls these inside one transaction per batch; they know
nothing of jobs, sources or HTTP. Frames are registered under a temporary name for one
statement group and unregistered again, so nothing outlives the call.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator, Sequence

import duckdb

from .schema import quote_identifier as _quote

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd
    import pyarrow as pa

# Descriptive columns a partial answer (schema drift) must not blank out: a NULL in the batch
# keeps the value already stored.
KEEP_KNOWN = {"coins": ("coin_id", ("symbol", "name")), "categories": ("category_id", ("name",))}


@contextmanager
def _registered(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> Iterator[None]:
    import pyarrow as pa

    con.register(name, pa.Table.from_pandas(frame, preserve_index=False))
    try:
        yield
    finally:
        con.unregister(name)


def keep_known(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> pa.Table | pd.DataFrame:
    """``frame`` with NULL descriptive cells (see :data:`KEEP_KNOWN`) filled from the stored row."""
    if table not in KEEP_KNOWN or frame.empty:
        return frame
    key, columns = KEEP_KNOWN[table]
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    with _registered(con, "__incoming", frame):
        replaced = ", ".join(f"coalesce(i.{_quote(c)}, t.{_quote(c)}) AS {_quote(c)}" for c in present)
        return con.sql(
            f"SELECT i.* REPLACE ({replaced}) FROM __incoming AS i LEFT JOIN {_quote(table)} AS t "
            f"ON t.{_quote(key)} = i.{_quote(key)}"
        ).to_arrow_table()


def replace_partial(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Drop the stored partial ("now") points of these (coin_id, vs_currency, source); returns how many."""
    with _registered(con, "__partial", frame):
        return con.execute(
            "DELETE FROM price_history AS p USING __partial AS r "
            "WHERE p.is_partial AND p.coin_id = r.coin_id AND p.vs_currency = r.vs_currency AND p.source = r.source"
        ).fetchone()[0]


def apply_membership(con: duckdb.DuckDBPyConnection, members: pd.DataFrame, scopes: pd.DataFrame) -> int:
    """Close the stretches of coins that left each observed category; open one for each coin
    that joined (or came back). An observation older than the category's newest change is
    ignored, so a late spooled batch cannot undo a newer one. Returns rows closed plus opened."""
    observed = members[["category_id", "coin_id"]].drop_duplicates()
    latest = scopes[["category_id", "observed_at"]].drop_duplicates("category_id", keep="last")
    with _registered(con, "__observed", observed), _registered(con, "__scopes", latest):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __live_scopes AS SELECT s.category_id, s.observed_at FROM __scopes AS s "
            "WHERE NOT EXISTS (SELECT 1 FROM category_members AS m WHERE m.category_id = s.category_id "
            "AND (m.valid_from > s.observed_at OR m.valid_to > s.observed_at))"
        )
        closed = con.execute(
            "UPDATE category_members AS m SET valid_to = s.observed_at FROM __live_scopes AS s "
            "WHERE m.category_id = s.category_id AND m.valid_to IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM __observed AS o WHERE o.category_id = m.category_id AND o.coin_id = m.coin_id)"
        ).fetchone()[0]
        opened = con.execute(
            "INSERT INTO category_members (category_id, coin_id, valid_from, valid_to, source) "
            "SELECT o.category_id, o.coin_id, s.observed_at, NULL, 'coingecko' FROM __observed AS o "
            "JOIN __live_scopes AS s ON s.category_id = o.category_id "
            "WHERE NOT EXISTS (SELECT 1 FROM category_members AS m WHERE m.category_id = o.category_id "
            "AND m.coin_id = o.coin_id AND m.valid_to IS NULL)"
        ).fetchone()[0]
        con.execute("DROP TABLE __live_scopes")
    return int(closed) + int(opened)


def add_new_coins(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Add ``coins`` rows (coin_id, symbol, at) for coins not stored yet; returns how many.

    A new coin is active, its symbol lower-cased, ``updated_at`` = ``at``; a coin already stored
    is left exactly as it is. The last row per coin wins.
    """
    rows = frame[["coin_id", "symbol", "at"]].drop_duplicates("coin_id", keep="last")
    with _registered(con, "__named", rows):
        return int(con.execute(
            "INSERT INTO coins (coin_id, symbol, updated_at) SELECT n.coin_id, lower(n.symbol), n.at FROM __named AS n "
            "WHERE NOT EXISTS (SELECT 1 FROM coins AS c WHERE c.coin_id = n.coin_id)"
        ).fetchone()[0])


def deactivate_coins(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Mark coins (coin_id, reason, at) inactive with their reason; returns how many rows changed."""
    gone = frame[["coin_id", "reason", "at"]].drop_duplicates("coin_id", keep="last")
    with _registered(con, "__gone", gone):
        return int(con.execute(
            "UPDATE coins SET active = false, inactive_reason = g.reason, updated_at = g.at "
            "FROM __gone AS g WHERE coins.coin_id = g.coin_id"
        ).fetchone()[0])


def replaced_prices_per_coin(con: duckdb.DuckDBPyConnection, keys: pd.DataFrame) -> dict[str, int]:
    """Per coin, how many ``price_history`` rows already hold these keys (coin_id, vs_currency, source, ts)."""
    with _registered(con, "__price_keys", keys[["coin_id", "vs_currency", "source", "ts"]]):
        rows = con.execute(
            "SELECT k.coin_id, count(*) FROM __price_keys k JOIN price_history p "
            "ON p.coin_id = k.coin_id AND p.vs_currency = k.vs_currency AND p.source = k.source AND p.ts = k.ts "
            "GROUP BY k.coin_id"
        ).fetchall()
    return {str(coin): int(count) for coin, count in rows}


def inactive_coins(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Ids of the coins marked inactive."""
    return {r[0] for r in con.execute("SELECT coin_id FROM coins WHERE NOT active").fetchall()}


def open_members(con: duckdb.DuckDBPyConnection, categories: Sequence[str]) -> list[str]:
    """The coins whose membership of any of ``categories`` is open now, sorted."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT coin_id FROM category_members WHERE valid_to IS NULL AND list_contains(?, category_id) ORDER BY coin_id",
        [list(categories)],
    ).fetchall()]


_SUSPECTS_SQL = """
WITH points AS (
    SELECT coin_id, ts, price, market_cap, total_volume, granularity,
           count(market_cap) OVER (PARTITION BY coin_id) AS caps,
           count(total_volume) OVER (PARTITION BY coin_id) AS volumes
    FROM price_history
    WHERE source = ? AND vs_currency = ? AND NOT is_partial AND price IS NOT NULL AND list_contains(?, coin_id)
)
SELECT coin_id, ts, price, market_cap, total_volume, granularity,
       market_cap IS NULL AND caps > 0 AS cap_suspect,
       total_volume IS NULL AND volumes > 0 AS volume_suspect
FROM points
WHERE (market_cap IS NULL AND caps > 0) OR (total_volume IS NULL AND volumes > 0)
ORDER BY coin_id, ts
"""


def null_amount_points(con: duckdb.DuckDBPyConnection, source: str, vs_currency: str, coins: Sequence[str]) -> pd.DataFrame:
    """Priced, final points of ``coins`` with a NULL market cap (or volume) where the coin has
    that value elsewhere: coin_id, ts, price, market_cap, total_volume, granularity,
    cap_suspect, volume_suspect; ordered by coin and time."""
    return con.execute(_SUSPECTS_SQL, [source, vs_currency, list(coins)]).df()


__all__ = [
    "KEEP_KNOWN",
    "add_new_coins",
    "apply_membership",
    "deactivate_coins",
    "inactive_coins",
    "keep_known",
    "null_amount_points",
    "open_members",
    "replace_partial",
    "replaced_prices_per_coin",
]
