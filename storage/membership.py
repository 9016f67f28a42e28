"""Category membership reads.

``category_members`` holds spans: a coin is a member of a category from ``valid_from`` until
``valid_to`` (exclusive; NULL while it still is). :func:`members_at` is THE point-in-time rule;
every reader of membership at an instant goes through it.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from .connection import Database
from .reads import query

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd


def members_at(db: Database, category_id: str, at: datetime, coin_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Members of ``category_id`` at instant ``at``: ``coin_id`` (sorted) and ``since``, when the
    membership covering ``at`` began. ``coin_ids`` limits the answer to those coins."""
    sql = (
        "SELECT coin_id, min(valid_from) AS since FROM category_members WHERE category_id = ? "
        "AND valid_from <= ? AND (valid_to IS NULL OR valid_to > ?)"
    )
    params: list = [category_id, at, at]
    if coin_ids is not None:
        sql += " AND list_contains(?, coin_id)"
        params.append(list(coin_ids))
    return query(db, sql + " GROUP BY coin_id ORDER BY coin_id", params)


def first_membership_instant(db: Database, category_id: str) -> pd.Timestamp | None:
    """When the category's earliest recorded membership began, or None when none is recorded."""
    frame = query(db, "SELECT min(valid_from) AS first FROM category_members WHERE category_id = ?", [category_id])
    first = frame["first"].iloc[0] if not frame.empty else None
    import pandas as pd

    return None if first is None or pd.isna(first) else pd.Timestamp(first)


def membership_changes(db: Database, category_id: str) -> pd.Series:
    """Every instant at which the category's membership may change (a ``valid_from`` or a
    ``valid_to``), unordered."""
    return query(
        db,
        "SELECT valid_from AS instant FROM category_members WHERE category_id = ? "
        "UNION SELECT valid_to FROM category_members WHERE category_id = ? AND valid_to IS NOT NULL",
        [category_id, category_id],
    )["instant"]
