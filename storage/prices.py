"""Price reads: daily and hourly closes from the price views, the quote currency in use, and
which source gave each period's close.

The view and column names come from the fixed tables below, never from input; every value
is a parameter.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from .connection import Database
from .reads import period_bounds, query

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd

# grid -> (view, period column, value columns it serves)
_VIEWS = {
    "daily": ("daily_prices", "day", ("close", "market_cap")),
    "hourly": ("hourly_prices", "hour", ("close",)),
}


def _view(grid: str) -> tuple[str, str, tuple[str, ...]]:
    try:
        return _VIEWS[grid]
    except KeyError:
        raise ValueError(f"grid must be one of {', '.join(_VIEWS)}, not {grid!r}") from None


def most_used_currency(db: Database) -> str | None:
    """The currency most stored prices and snapshots are quoted in (ties by name), or None."""
    frame = query(
        db,
        "SELECT vs_currency FROM (SELECT vs_currency FROM price_history UNION ALL SELECT vs_currency FROM market_snapshots) "
        "GROUP BY vs_currency ORDER BY count(*) DESC, vs_currency LIMIT 1",
    )
    return str(frame["vs_currency"].iloc[0]) if not frame.empty else None


def closes_long(
    db: Database,
    grid: str,
    vs_currency: str,
    *,
    value: str = "close",
    coin_ids: Sequence[str] | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    complete_only: bool = False,
) -> pd.DataFrame:
    """One row per coin and period of the ``daily`` or ``hourly`` grid: ``coin_id``, the period
    (``day`` or ``hour``) and ``value`` (``close``, or ``market_cap`` on the daily grid).

    ``start`` and ``end`` bound the period (inclusive); ``coin_ids`` None means every coin;
    ``complete_only`` (daily grid) leaves out a day whose last point is a partial "now" value.
    """
    view, period, values = _view(grid)
    if value not in values:
        raise ValueError(f"value must be one of {', '.join(values)} on the {grid} grid")
    bounds, bound_params = period_bounds(period, start, end)
    sql = f"SELECT coin_id, {period}, {value} FROM {view} WHERE vs_currency = ?{bounds}"
    params: list = [vs_currency, *bound_params]
    if complete_only and grid == "daily":
        sql += " AND complete"
    if coin_ids is not None:
        sql += " AND list_contains(?, coin_id)"
        params.append(list(coin_ids))
    return query(db, sql, params)


def close_sources(db: Database, grid: str, vs_currency: str, coin_ids: Sequence[str], start: datetime,
                  end: datetime) -> pd.DataFrame:
    """How many closes each source gave each coin from ``start`` to ``end`` (inclusive):
    ``coin_id, source, closes, first_close, last_close``, the most used source first per coin."""
    view, period, _ = _view(grid)
    return query(
        db,
        f"SELECT coin_id, source, count(*) AS closes, min({period}) AS first_close, max({period}) AS last_close "
        f"FROM {view} WHERE vs_currency = ? AND list_contains(?, coin_id) AND {period} BETWEEN ? AND ? "
        "GROUP BY coin_id, source ORDER BY coin_id, closes DESC, source",
        [vs_currency, list(coin_ids), start, end],
    )
