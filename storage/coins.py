"""Coin reads: which coin ids the database knows, and their symbols and names."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from .connection import Database
from .reads import query

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd


def known_coin_ids(db: Database, coin_ids: Sequence[str]) -> set[str]:
    """The ids among ``coin_ids`` that are in ``coins`` or have prices."""
    frame = query(
        db,
        "SELECT coin_id FROM coins WHERE list_contains(?, coin_id) "
        "UNION SELECT DISTINCT coin_id FROM price_history WHERE list_contains(?, coin_id)",
        [list(coin_ids), list(coin_ids)],
    )
    return set(frame["coin_id"].tolist())


def coin_labels(db: Database, coin_ids: Sequence[str]) -> pd.DataFrame:
    """``coin_id, symbol, name`` of the coins among ``coin_ids`` that ``coins`` holds."""
    return query(db, "SELECT coin_id, symbol, name FROM coins WHERE list_contains(?, coin_id)", [list(coin_ids)])


def priced_coin_ids(db: Database, limit: int = 5) -> list[str]:
    """Up to ``limit`` coin ids that have prices, the most prices first (empty: no prices at all)."""
    frame = query(db, "SELECT coin_id FROM price_history GROUP BY coin_id ORDER BY count(*) DESC, coin_id LIMIT ?",
                  [int(limit)])
    return frame["coin_id"].tolist()
