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


# ------------------------------------------------------------------ one source per coin
# A coin's series comes from one source (docs/eventstudy.md, "Sources"). The source of a price
# is its provider: a market snapshot ('snapshot:coingecko') belongs to the provider that gave it
# and fills the periods that provider's history lacks, as the close views always did. Within a
# provider, the close views' rule holds (history before snapshots, then the later observation).
_PROVIDER = "CASE WHEN starts_with(source, 'snapshot:') THEN substr(source, 10) ELSE source END"


def _source_closes_sql(grid: str, coin_filter: bool) -> str:
    """Per coin, currency, provider and period: the close (and market cap, complete on the
    daily grid). Parameters: the currencies, then the coin ids if ``coin_filter``, then start, end."""
    _view(grid)
    coins = " AND list_contains(?, coin_id)" if coin_filter else ""
    if grid == "daily":
        return (
            f"SELECT coin_id, vs_currency, {_PROVIDER} AS series_source, day AS period, "
            "arg_min(price, day_pick) AS close, arg_min_null(market_cap, day_pick) AS market_cap, "
            "arg_min(source, day_pick) AS picked_source, (NOT arg_min(is_partial, day_pick) AND arg_min(ts, day_pick) >= "
            "CAST(day AS TIMESTAMP) + INTERVAL '22 hours 55 minutes') AS complete "
            f"FROM price_observations WHERE list_contains(?, vs_currency){coins} AND day BETWEEN ? AND ? "
            "GROUP BY coin_id, vs_currency, series_source, day"
        )
    return (
        "SELECT coin_id, vs_currency, series_source, hour AS period, arg_min(price, hour_pick) AS close, "
        "CAST(NULL AS DOUBLE) AS market_cap, arg_min(source, hour_pick) AS picked_source, true AS complete "
        f"FROM (SELECT *, {_PROVIDER} AS series_source, "
        "source_rank * 1000000000000 - (epoch_us(ts) - epoch_us(hour)) AS hour_pick FROM price_observations "
        f"WHERE granularity <> 'daily' AND NOT is_partial AND list_contains(?, vs_currency){coins} "
        "AND hour BETWEEN ? AND ?) GROUP BY coin_id, vs_currency, series_source, hour"
    )


_FAR_PAST, _FAR_FUTURE = datetime(1900, 1, 1), datetime(2999, 12, 31)


def price_sources(db: Database) -> list[str]:
    """Every provider with stored prices (history sources, and the providers of snapshots), by name."""
    frame = query(
        db,
        "SELECT DISTINCT source FROM price_history WHERE price > 0 "
        "UNION SELECT DISTINCT source FROM market_snapshots WHERE price > 0 ORDER BY source",
    )
    return frame["source"].tolist()


def source_coverage(db: Database, grid: str, vs_currencies: Sequence[str], coin_ids: Sequence[str] | None,
                    start: datetime | None, end: datetime | None, *, value: str = "close",
                    complete_only: bool = False) -> pd.DataFrame:
    """How many periods each provider covers per coin and currency from ``start`` to ``end``
    (inclusive): ``coin_id, source, vs_currency, closes, first_close, last_close, snapshots_only``.
    With ``value="market_cap"`` only periods with a market cap count; with ``complete_only``
    (daily grid) only full-day closes. ``snapshots_only``: every close counted is a snapshot."""
    if value not in ("close", "market_cap"):
        raise ValueError("value must be 'close' or 'market_cap'")
    params: list = [list(vs_currencies)]
    if coin_ids is not None:
        params.append(list(coin_ids))
    params += [start or _FAR_PAST, end or _FAR_FUTURE]
    complete = " FILTER (WHERE complete)" if complete_only else ""
    return query(
        db,
        f"SELECT coin_id, series_source AS source, vs_currency, count({value}){complete} AS closes, "
        "min(period) AS first_close, max(period) AS last_close, "
        "bool_and(starts_with(picked_source, 'snapshot:')) AS snapshots_only "
        f"FROM ({_source_closes_sql(grid, coin_ids is not None)}) GROUP BY ALL "
        "ORDER BY coin_id, source, vs_currency",
        params,
    )


def coverage_by_source(db: Database, coin_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """The ``coverage`` view's first/last point, points, expected and missing, per coin, provider,
    currency and grid: ``daily`` and ``hourly`` closes (the close views' rule within one provider)
    and ``minute`` candles (stored ``granularity = 'minute'`` rows)."""
    currencies = query(db, "SELECT DISTINCT vs_currency FROM price_observations")["vs_currency"].tolist()
    if not currencies:
        return pd.DataFrame(columns=["coin_id", "source", "vs_currency", "granularity", "first_point", "last_point",
                                     "points", "expected", "missing"])
    coin_filter = coin_ids is not None
    params: list = []
    parts = []
    for grid, unit in (("daily", "day"), ("hourly", "hour")):
        parts.append(
            f"SELECT coin_id, series_source AS source, vs_currency, '{grid}' AS granularity, "
            "CAST(min(period) AS TIMESTAMP) AS first_point, CAST(max(period) AS TIMESTAMP) AS last_point, "
            f"count(*) AS points, datediff('{unit}', min(period), max(period)) + 1 AS expected "
            f"FROM ({_source_closes_sql(grid, coin_filter)}) GROUP BY ALL"
        )
        params += [currencies] + ([list(coin_ids)] if coin_filter else []) + [_FAR_PAST, _FAR_FUTURE]
    minute_coins = " AND list_contains(?, coin_id)" if coin_filter else ""
    parts.append(
        "SELECT coin_id, source, vs_currency, 'minute', min(ts), max(ts), count(DISTINCT ts), "
        "datediff('minute', min(ts), max(ts)) + 1 FROM price_history "
        f"WHERE granularity = 'minute' AND price > 0 AND isfinite(price){minute_coins} GROUP BY ALL"
    )
    params += [list(coin_ids)] if coin_filter else []
    sql = (
        "SELECT *, expected - points AS missing FROM (" + " UNION ALL ".join(parts) + ") "
        "ORDER BY coin_id, CASE granularity WHEN 'daily' THEN 0 WHEN 'hourly' THEN 1 ELSE 2 END, source, vs_currency"
    )
    return query(db, sql, params)


def minute_prices(db: Database, coin_ids: Sequence[str], vs_currencies: Sequence[str], start: datetime,
                  end: datetime) -> pd.DataFrame:
    """Stored minute candles (``granularity = 'minute'``) of ``coin_ids`` from ``start`` to ``end``
    (inclusive, by close instant): ``coin_id, source, vs_currency, ts, price``."""
    return query(
        db,
        "SELECT coin_id, source, vs_currency, ts, price FROM price_history "
        "WHERE granularity = 'minute' AND price > 0 AND isfinite(price) AND list_contains(?, coin_id) "
        "AND list_contains(?, vs_currency) AND ts BETWEEN ? AND ? ORDER BY coin_id, source, vs_currency, ts",
        [list(coin_ids), list(vs_currencies), start, end],
    )


def source_closes_all(db: Database, grid: str, vs_currencies: Sequence[str], coin_ids: Sequence[str] | None,
                      start: datetime | None, end: datetime | None) -> pd.DataFrame:
    """Every provider's closes per coin and period in one scan, for the caller to choose from:
    ``coin_id, source, vs_currency, period, close, market_cap, complete, snapshot`` (``snapshot``:
    the close is a market snapshot's)."""
    params: list = [list(vs_currencies)] + ([list(coin_ids)] if coin_ids is not None else [])
    return query(
        db,
        "SELECT coin_id, series_source AS source, vs_currency, period, close, market_cap, complete, "
        f"starts_with(picked_source, 'snapshot:') AS snapshot FROM ({_source_closes_sql(grid, coin_ids is not None)})",
        params + [start or _FAR_PAST, end or _FAR_FUTURE],
    )
