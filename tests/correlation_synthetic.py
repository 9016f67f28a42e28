"""Synthetic prices with planted relationships, and a writer that stores them like real data.

Shared by the tests/test_correlation_*.py files and the docs example test.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

import storage


def prices_from_returns(log_returns: pd.DataFrame, start: float = 100.0) -> pd.DataFrame:
    """Closes whose log returns are ``log_returns`` (the first row is the starting close).

    The result has one more row than the returns: the close before the first return.
    """
    step = log_returns.index[1] - log_returns.index[0]
    first = pd.DataFrame(0.0, index=[log_returns.index[0] - step], columns=log_returns.columns)
    path = pd.concat([first, log_returns.fillna(0.0)]).cumsum()
    prices = start * np.exp(path)
    prices.index.name = log_returns.index.name
    return prices


def market(days: int = 400, *, seed: int = 7, start: str = "2023-06-01", freq: str = "D") -> pd.DataFrame:
    """Log returns of a small crypto market with known structure.

    * bitcoin: the market factor; ethereum = 0.8 * bitcoin + noise (corr about 0.8);
    * fetch-ai = 0.6 * bitcoin + noise (corr about 0.6); render-token about 0.3 with bitcoin;
    * worldcoin-wld leads fetch-ai by 2 periods: fetch-ai also gets 0.7 * worldcoin-wld two
      periods earlier;
    * from the 'event' (period 250 on) fetch-ai and render-token stop following bitcoin.
    """
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq=freq, name="day" if freq == "D" else "hour")
    scale = 0.02
    btc = rng.normal(0, scale, days)
    eth = 0.8 * btc + rng.normal(0, scale * 0.6, days)
    wld = rng.normal(0, scale * 1.5, days)
    shock = np.r_[np.zeros(2), wld[:-2]]
    regime = (np.arange(days) < 250).astype(float)
    fet = 0.9 * btc * regime + 0.7 * shock + rng.normal(0, scale * 0.8, days)
    rndr = 0.5 * btc * regime + rng.normal(0, scale * 1.2, days)
    return pd.DataFrame(
        {"bitcoin": btc, "ethereum": eth, "fetch-ai": fet, "render-token": rndr, "worldcoin-wld": wld}, index=index
    )


def store_prices(db: storage.Database, prices: pd.DataFrame, *, hourly: bool = False, caps: pd.DataFrame | None = None,
                 source: str = "synthetic") -> int:
    """Write wide closes to price_history as observed at each period's end (label + 1 period)."""
    step = pd.Timedelta(hours=1) if hourly else pd.Timedelta(days=1)
    long = prices.rename_axis("label").reset_index().melt(id_vars="label", var_name="coin_id", value_name="price")
    long = long.dropna(subset=["price"])
    if caps is not None:
        cap_long = caps.rename_axis("label").reset_index().melt(id_vars="label", var_name="coin_id", value_name="market_cap")
        long = long.merge(cap_long, on=["label", "coin_id"], how="left")
    else:
        long["market_cap"] = np.nan
    rows = pd.DataFrame(
        {
            "coin_id": long["coin_id"],
            "vs_currency": "usd",
            "ts": (pd.DatetimeIndex(long["label"]) + step).astype("datetime64[us]"),
            "price": long["price"].astype(float),
            "market_cap": long["market_cap"].astype(float),
            "total_volume": np.nan,
            "granularity": "hourly" if hourly else "daily",
            "is_partial": False,
            "source": source,
            "ingested_at": datetime(2025, 1, 1),
        }
    )
    with db.transaction() as con:
        return storage.upsert(con, "price_history", rows).written


def store_member(db: storage.Database, category: str, coin_id: str, valid_from: str, valid_to: str | None = None) -> None:
    row = pd.DataFrame(
        [{"category_id": category, "coin_id": coin_id, "valid_from": pd.Timestamp(valid_from).to_pydatetime(),
          "valid_to": None if valid_to is None else pd.Timestamp(valid_to).to_pydatetime(), "source": "synthetic"}]
    )
    row["valid_to"] = pd.to_datetime(row["valid_to"])
    with db.transaction() as con:
        storage.upsert(con, "category_members", row)
