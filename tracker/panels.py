"""Panels from the database as plain DataFrames, for the analysis modules.

Prices in ``price_history`` are instants: ``ts`` is when the price was observed. A UTC day's
close is the last price observed before the next midnight (allowing 5 minutes of timestamp
jitter, so CoinGecko's 00:00:04 point still closes the day before). The views ``daily_prices``
and ``hourly_prices`` hold the same rule in SQL.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

import pandas as pd

import storage
from storage import Database


def _range_filter(column: str, start, end) -> tuple[str, list]:
    clauses, params = [], []
    if start is not None:
        clauses.append(f"{column} >= ?")
        params.append(pd.Timestamp(start).to_pydatetime())
    if end is not None:
        clauses.append(f"{column} <= ?")
        params.append(pd.Timestamp(end).to_pydatetime())
    return (" AND " + " AND ".join(clauses)) if clauses else "", params


def _wide(frame: pd.DataFrame, index: str, value: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(dtype=float)
    wide = frame.pivot(index=index, columns="coin_id", values=value).sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name=index)
    wide.columns.name = None
    return wide.astype(float)


def quote_currency(db: Database, vs_currency: str | None = None) -> str:
    """``vs_currency`` if given, else the currency most prices in the database are quoted in
    (``tracking.vs_currency`` of whoever filled it), else ``usd``."""
    if vs_currency:
        return vs_currency
    frame = storage.query(
        db,
        "SELECT vs_currency FROM (SELECT vs_currency FROM price_history UNION ALL SELECT vs_currency FROM market_snapshots) "
        "GROUP BY vs_currency ORDER BY count(*) DESC, vs_currency LIMIT 1",
    )
    return str(frame["vs_currency"].iloc[0]) if not frame.empty else "usd"


def _closes(db: Database, view: str, period: str, value: str, coin_ids, start, end, vs_currency: str | None,
            extra: str = "") -> pd.DataFrame:
    """Wide frame of ``value`` from a price view (names from the fixed calls below, never input)."""
    vs_currency = quote_currency(db, vs_currency)
    where, params = _range_filter(period, start, end)
    sql = f"SELECT coin_id, {period}, {value} FROM {view} WHERE vs_currency = ?{where}{extra}"
    params = [vs_currency, *params]
    if coin_ids is not None:
        sql += " AND list_contains(?, coin_id)"
        params.append(list(coin_ids))
    return _wide(storage.query(db, sql, params), period, value)


def daily_closes(
    db: Database,
    coin_ids: Sequence[str] | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    *,
    vs_currency: str | None = None,
    value: str = "close",
    complete_only: bool = True,
) -> pd.DataFrame:
    """Wide frame of daily closes: index = UTC day, one column per coin id.

    ``vs_currency`` defaults to the database's quote currency (:func:`quote_currency`).

    ``value`` may be ``close`` or ``market_cap``. Days whose last point is a partial "now"
    value are left out unless ``complete_only`` is false.
    """
    if value not in {"close", "market_cap"}:
        raise ValueError("value must be 'close' or 'market_cap'")
    return _closes(db, "daily_prices", "day", value, coin_ids, start, end, vs_currency,
                   " AND complete" if complete_only else "")


def hourly_closes(
    db: Database,
    coin_ids: Sequence[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    vs_currency: str | None = None,
) -> pd.DataFrame:
    """Wide frame of hourly prices: index = the UTC hour the price closes, one column per coin."""
    return _closes(db, "hourly_prices", "hour", "close", coin_ids, start, end, vs_currency)


def category_members_at(db: Database, category_id: str, at: datetime | date | str) -> list[str]:
    """Coin ids that were in the category at instant ``at`` (point-in-time membership)."""
    frame = storage.query(
        db,
        "SELECT DISTINCT coin_id FROM category_members WHERE category_id = ? AND valid_from <= ? "
        "AND (valid_to IS NULL OR valid_to > ?) ORDER BY coin_id",
        [category_id, pd.Timestamp(at).to_pydatetime(), pd.Timestamp(at).to_pydatetime()],
    )
    return frame["coin_id"].tolist()


def category_members_first_known(db: Database, category_id: str) -> tuple[list[str], datetime | None]:
    """The category's earliest recorded membership and when it was observed.

    CoinGecko has no history of category membership, so for events before the first sync the
    only sample on record is this one. It suffers survivorship bias (coins that left or died
    before the first sync are missing): callers must say so when they use it.
    """
    frame = storage.query(
        db,
        "SELECT min(valid_from) AS first FROM category_members WHERE category_id = ?",
        [category_id],
    )
    first = frame["first"].iloc[0] if not frame.empty else None
    if first is None or pd.isna(first):
        return [], None
    first = pd.Timestamp(first).to_pydatetime()
    return category_members_at(db, category_id, first), first
