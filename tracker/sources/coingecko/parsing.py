"""Turn CoinGecko JSON into DataFrames with fixed columns and types.

The parsers are tolerant of schema drift: extra fields are ignored, missing or null fields
become NaN/None, and numbers sent as strings are read. What they cannot work around (a row
without an id, a chart point without a number) is either dropped or raised as
:class:`ResponseFormatError`. The client counts the rows dropped from ``/coins/markets`` and
``/coins/categories`` in its call tally (``CallTally.rows_dropped``), and the jobs record it.

Timestamps come back as naive UTC datetimes, whatever unit CoinGecko used: milliseconds in
charts, seconds in ``/global``, ISO strings in ``/coins/markets`` and ``/coins/categories``.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from ... import utc
from .errors import ResponseFormatError

MARKET_COLUMNS = (
    "coin_id",
    "symbol",
    "name",
    "current_price",
    "market_cap",
    "market_cap_rank",
    "fully_diluted_valuation",
    "total_volume",
    "circulating_supply",
    "total_supply",
    "max_supply",
    "price_change_percentage_24h",
    "last_updated",
)
CATEGORY_COLUMNS = ("category_id", "name", "market_cap", "market_cap_change_24h", "volume_24h", "top_3_coins_id", "updated_at")
CATEGORY_LIST_COLUMNS = ("category_id", "name")
COIN_LIST_COLUMNS = ("coin_id", "symbol", "name")
TICKER_COLUMNS = ("coin_id", "exchange", "base", "target", "is_stale", "is_anomaly", "volume_usd")
CHART_COLUMNS = ("ts", "price", "market_cap", "total_volume")
_CHART_ARRAYS = {"prices": "price", "market_caps": "market_cap", "total_volumes": "total_volume"}


def number(value: Any) -> float:
    """A float, or NaN for null, booleans, blanks and anything unreadable."""
    if value is None or isinstance(value, bool):
        return math.nan
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return math.nan


def text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def parse_iso(value: Any) -> datetime | None:
    """An ISO-8601 string as a naive UTC datetime (None when absent or unreadable)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        stamp = utc.parse(value)
    except (ValueError, TypeError):
        return None
    if stamp is pd.NaT:
        return None
    return stamp.to_pydatetime()


def from_unix_seconds(value: Any) -> datetime | None:
    seconds = number(value)
    if math.isnan(seconds):
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc).replace(tzinfo=None)


def _rows(payload: Any, what: str, endpoint: str) -> list:
    if not isinstance(payload, list):
        raise ResponseFormatError(f"{what} should be a JSON array, got {type(payload).__name__}", endpoint=endpoint)
    return payload


def _frame(records: list[dict], columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame.from_records(records, columns=list(columns))


def _keyed_rows(payload: Any, what: str, endpoint: str, key: str, columns: Iterable[str],
                record: Callable[[dict, str], dict]) -> pd.DataFrame:
    """A JSON array of objects as a frame of ``columns``: ``record(row, id)`` for each row whose
    ``key`` holds an id; a row without one (or not an object) is dropped."""
    records = []
    for row in _rows(payload, what, endpoint):
        row_id = text(row.get(key)) if isinstance(row, dict) else None
        if not row_id:
            continue
        records.append(record(row, row_id))
    return _frame(records, columns)


def _market_record(row: dict, coin_id: str) -> dict:
    rank = number(row.get("market_cap_rank"))
    return {
        "coin_id": coin_id,
        "symbol": text(row.get("symbol")),
        "name": text(row.get("name")),
        "current_price": number(row.get("current_price")),
        "market_cap": number(row.get("market_cap")),
        "market_cap_rank": None if math.isnan(rank) else int(rank),
        "fully_diluted_valuation": number(row.get("fully_diluted_valuation")),
        "total_volume": number(row.get("total_volume")),
        "circulating_supply": number(row.get("circulating_supply")),
        "total_supply": number(row.get("total_supply")),
        "max_supply": number(row.get("max_supply")),
        "price_change_percentage_24h": number(row.get("price_change_percentage_24h")),
        "last_updated": parse_iso(row.get("last_updated")),
    }


def _category_record(row: dict, category_id: str) -> dict:
    top = row.get("top_3_coins_id")
    return {
        "category_id": category_id,
        "name": text(row.get("name")),
        "market_cap": number(row.get("market_cap")),
        "market_cap_change_24h": number(row.get("market_cap_change_24h")),
        "volume_24h": number(row.get("volume_24h")),
        "top_3_coins_id": [str(c) for c in top if isinstance(c, str)] if isinstance(top, list) else None,
        "updated_at": parse_iso(row.get("updated_at")),
    }


def parse_markets(payload: Any, endpoint: str = "/coins/markets") -> pd.DataFrame:
    """Rows of ``/coins/markets`` with :data:`MARKET_COLUMNS`; rows without an id are dropped."""
    frame = _keyed_rows(payload, "a markets page", endpoint, "id", MARKET_COLUMNS, _market_record)
    frame["market_cap_rank"] = frame["market_cap_rank"].astype("Int64")
    frame["last_updated"] = pd.to_datetime(frame["last_updated"])
    return frame


def parse_categories(payload: Any, endpoint: str = "/coins/categories") -> pd.DataFrame:
    """Rows of ``/coins/categories`` with :data:`CATEGORY_COLUMNS` (``market_cap_change_24h`` is a percentage)."""
    frame = _keyed_rows(payload, "the categories list", endpoint, "id", CATEGORY_COLUMNS, _category_record)
    frame["updated_at"] = pd.to_datetime(frame["updated_at"])
    return frame


def parse_categories_list(payload: Any, endpoint: str = "/coins/categories/list") -> pd.DataFrame:
    return _keyed_rows(payload, "the category list", endpoint, "category_id", CATEGORY_LIST_COLUMNS,
                       lambda row, category_id: {"category_id": category_id, "name": text(row.get("name"))})


def parse_coins_list(payload: Any, endpoint: str = "/coins/list") -> pd.DataFrame:
    return _keyed_rows(payload, "the coin list", endpoint, "id", COIN_LIST_COLUMNS,
                       lambda row, coin_id: {"coin_id": coin_id, "symbol": text(row.get("symbol")), "name": text(row.get("name"))})


def _pairs(points: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """``[[ms, value], ...]`` as (int64 ms, float values), dropping malformed points."""
    stamps, values, dropped = [], [], 0
    if not isinstance(points, list):
        return np.empty(0, dtype=np.int64), np.empty(0), 0
    for point in points:
        if not isinstance(point, (list, tuple)) or len(point) < 2:
            dropped += 1
            continue
        ms = number(point[0])
        if math.isnan(ms):
            dropped += 1
            continue
        stamps.append(int(ms))
        values.append(number(point[1]))
    return np.asarray(stamps, dtype=np.int64), np.asarray(values, dtype=float), dropped


def parse_chart(payload: Any, endpoint: str = "/coins/{id}/market_chart/range") -> pd.DataFrame:
    """A market chart as one row per timestamp with :data:`CHART_COLUMNS`.

    The three arrays are joined on their timestamps, not zipped by position: CoinGecko does not
    promise they line up. Points whose value is null keep the row with NaN. A missing array is
    a retryable :class:`ResponseFormatError`: history can be asked for again, so an incomplete
    answer is refetched rather than stored with holes.
    """
    if not isinstance(payload, dict):
        raise ResponseFormatError(f"market chart should be a JSON object, got {type(payload).__name__}", endpoint=endpoint)
    missing = [key for key in _CHART_ARRAYS if not isinstance(payload.get(key), list)]
    if missing:
        raise ResponseFormatError(f"market chart has no {', '.join(missing)} array", retryable=True, endpoint=endpoint)
    series = []
    for key, column in _CHART_ARRAYS.items():
        stamps, values, _ = _pairs(payload.get(key))
        # The last value for a timestamp wins, as in the upsert.
        s = pd.Series(values, index=stamps, name=column)
        series.append(s[~s.index.duplicated(keep="last")])
    joined = pd.concat(series, axis=1, join="outer").sort_index()
    joined = joined.dropna(how="all")
    frame = pd.DataFrame(
        {
            "ts": pd.to_datetime(joined.index.to_numpy(dtype=np.int64), unit="ms"),
            "price": joined["price"].to_numpy(dtype=float),
            "market_cap": joined["market_cap"].to_numpy(dtype=float),
            "total_volume": joined["total_volume"].to_numpy(dtype=float),
        }
    )
    return frame


def parse_tickers(payload: Any, coin_id: str, endpoint: str = "/coins/{id}/tickers") -> pd.DataFrame:
    """``/coins/{id}/tickers``: one row per market with :data:`TICKER_COLUMNS`.

    ``exchange`` is the ticker's ``market.identifier`` (CoinGecko's exchange id, e.g. ``binance``),
    ``base``/``target`` the symbols upper-cased; a ticker without them is dropped.
    """
    tickers = payload.get("tickers") if isinstance(payload, dict) else None
    if not isinstance(tickers, list):
        raise ResponseFormatError("coin tickers have no tickers array", endpoint=endpoint)
    records = []
    for row in tickers:
        market = row.get("market") if isinstance(row, dict) else None
        exchange = text(market.get("identifier")) if isinstance(market, dict) else None
        base, target = (text(row.get(k)) for k in ("base", "target")) if isinstance(row, dict) else (None, None)
        if not exchange or not base or not target:
            continue
        volume = row.get("converted_volume")
        records.append({
            "coin_id": text(row.get("coin_id")) or coin_id, "exchange": exchange, "base": base.upper(), "target": target.upper(),
            "is_stale": bool(row.get("is_stale")), "is_anomaly": bool(row.get("is_anomaly")),
            "volume_usd": number(volume.get("usd")) if isinstance(volume, dict) else math.nan,
        })
    return _frame(records, TICKER_COLUMNS)


def parse_global(payload: Any, endpoint: str = "/global") -> dict[str, Any]:
    """``/global``'s ``data`` object, with ``updated_at`` (seconds) as a naive UTC datetime."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        raise ResponseFormatError("global data has no data object", endpoint=endpoint)
    out = dict(data)
    out["updated_at"] = from_unix_seconds(data.get("updated_at"))
    return out


__all__ = [
    "CATEGORY_COLUMNS",
    "CATEGORY_LIST_COLUMNS",
    "CHART_COLUMNS",
    "COIN_LIST_COLUMNS",
    "MARKET_COLUMNS",
    "from_unix_seconds",
    "number",
    "parse_categories",
    "parse_categories_list",
    "parse_chart",
    "parse_coins_list",
    "parse_global",
    "parse_iso",
    "parse_markets",
    "parse_tickers",
    "TICKER_COLUMNS",
    "text",
]
