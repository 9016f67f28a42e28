"""Table rows from parsed CoinGecko frames: one function per table, column names as in the schema.

Market caps of 0 or null mean "supply unknown" at CoinGecko; they are stored as NULL so they
never pull an average or a sum down.

Values from the API pass the importers' rule (:mod:`tracker.ingest.values`), but a bad one becomes
NULL rather than failing the batch: one absurd point (a price of 0, a negative or infinite
volume) must not stop a coin's history. A row with a NULL price is no observation for the
views; the rest of the row (its market cap, volume) is kept.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from .values import AMOUNT, PRICE, bad_values

SOURCE = "coingecko"


def cap_or_null(values: pd.Series) -> pd.Series:
    """Market caps with 0, negatives, NaN and values outside the accepted range as missing."""
    caps = amount_or_null(values)
    return caps.where(caps > 0)


def amount_or_null(values: pd.Series) -> pd.Series:
    """Volumes (and caps) outside ``tracker.ingest.values.AMOUNT`` (0..1e14, finite) as missing."""
    amounts = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    return amounts.mask(bad_values(amounts, AMOUNT))


def price_or_null(values: pd.Series) -> pd.Series:
    """Prices outside ``tracker.ingest.values.PRICE`` (1e-12..1e9, finite) as missing."""
    prices = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
    return prices.mask(bad_values(prices, PRICE))


def coins_rows(markets: pd.DataFrame, observed_at: datetime) -> pd.DataFrame:
    """``coins`` rows for every coin seen in ``/coins/markets`` (seen there means active)."""
    frame = markets.drop_duplicates("coin_id", keep="last")
    return pd.DataFrame(
        {
            "coin_id": frame["coin_id"].astype(str).to_numpy(),
            "symbol": frame["symbol"].to_numpy(dtype=object),
            "name": frame["name"].to_numpy(dtype=object),
            "active": True,
            "inactive_reason": pd.Series([None] * len(frame), dtype=object).to_numpy(),
            "updated_at": pd.Timestamp(observed_at),
        }
    )


def market_snapshot_rows(markets: pd.DataFrame, vs_currency: str, observed_at: datetime) -> pd.DataFrame:
    frame = markets.drop_duplicates("coin_id", keep="last")
    return pd.DataFrame(
        {
            "coin_id": frame["coin_id"].astype(str).to_numpy(),
            "vs_currency": vs_currency,
            "observed_at": pd.Timestamp(observed_at),
            "price": price_or_null(frame["current_price"]).to_numpy(),
            "market_cap": cap_or_null(frame["market_cap"]).to_numpy(),
            "total_volume": amount_or_null(frame["total_volume"]).to_numpy(),
            "market_cap_rank": frame["market_cap_rank"].astype("Int32").to_numpy(),
            "circulating_supply": frame["circulating_supply"].astype(float).to_numpy(),
            "total_supply": frame["total_supply"].astype(float).to_numpy(),
            "max_supply": frame["max_supply"].astype(float).to_numpy(),
            "fully_diluted_valuation": frame["fully_diluted_valuation"].astype(float).to_numpy(),
            "price_change_pct_24h": frame["price_change_percentage_24h"].astype(float).to_numpy(),
            "source_updated_at": pd.to_datetime(frame["last_updated"]).to_numpy(),
            "source": SOURCE,
        }
    )


def category_rows(names: pd.DataFrame, observed_at: datetime) -> pd.DataFrame:
    """``categories`` rows from any frame with ``category_id`` and ``name``."""
    frame = names.drop_duplicates("category_id", keep="last")
    return pd.DataFrame(
        {
            "category_id": frame["category_id"].astype(str).to_numpy(),
            "name": frame["name"].to_numpy(dtype=object),
            "updated_at": pd.Timestamp(observed_at),
        }
    )


def category_snapshot_rows(categories: pd.DataFrame, observed_at: datetime) -> pd.DataFrame:
    frame = categories.drop_duplicates("category_id", keep="last")
    top = [list(v) if isinstance(v, (list, tuple, np.ndarray)) else None for v in frame["top_3_coins_id"]]
    return pd.DataFrame(
        {
            "category_id": frame["category_id"].astype(str).to_numpy(),
            "observed_at": pd.Timestamp(observed_at),
            "market_cap": cap_or_null(frame["market_cap"]).to_numpy(),
            "volume_24h": frame["volume_24h"].astype(float).to_numpy(),
            "market_cap_change_24h_pct": frame["market_cap_change_24h"].astype(float).to_numpy(),
            "top_3_coins": pd.Series(top, dtype=object).to_numpy(),
            "source_updated_at": pd.to_datetime(frame["updated_at"]).to_numpy(),
            "source": SOURCE,
        }
    )


def price_history_rows(points: pd.DataFrame, coin_id: str, vs_currency: str, ingested_at: datetime) -> pd.DataFrame:
    """``price_history`` rows from labelled chart points (``ts``, values, ``granularity``, ``is_partial``)."""
    return pd.DataFrame(
        {
            "coin_id": coin_id,
            "vs_currency": vs_currency,
            "ts": pd.to_datetime(points["ts"]).to_numpy(),
            "price": price_or_null(points["price"]).to_numpy(),
            "market_cap": cap_or_null(points["market_cap"]).to_numpy(),
            "total_volume": amount_or_null(points["total_volume"]).to_numpy(),
            "granularity": points["granularity"].astype(str).to_numpy(),
            "is_partial": points["is_partial"].astype(bool).to_numpy(),
            "source": SOURCE,
            "ingested_at": pd.Timestamp(ingested_at),
        }
    )


__all__ = [
    "SOURCE",
    "amount_or_null",
    "cap_or_null",
    "price_or_null",
    "category_rows",
    "category_snapshot_rows",
    "coins_rows",
    "market_snapshot_rows",
    "price_history_rows",
]
