"""A database holding the same coins from several sources, with the conventions every source
follows: exchange candles are stored at their close instant (open + interval), quoted in the
lower-cased quote ('usdt'), with no market cap and source = the exchange id; CoinGecko rows
have source 'coingecko' and vs 'usd'; CSV imports 'csv:<file>'."""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

import storage
from tracker.analysis.events import add_events, event_from_mapping

DAYS = pd.date_range("2023-06-01", "2024-03-31", freq="D")  # period starts (candle open times)
RECENT = pd.Timestamp("2023-12-01")  # CoinGecko's keyless history starts here in this fixture
SORA = "2024-02-15T18:00:00Z"


def walk(n: int, seed: int, level: float = 100.0, sd: float = 0.03) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return level * np.exp(np.cumsum(rng.normal(0, sd, n)))


def rows(coin: str, opens, prices, *, source: str, vs: str, granularity: str = "daily",
         step: pd.Timedelta | None = None, caps=None) -> pd.DataFrame:
    """price_history rows: each price stored at its period's close instant (open + ``step``, a day by default)."""
    opens = pd.DatetimeIndex(opens)
    step = pd.Timedelta(days=1) if step is None else step
    return pd.DataFrame({
        "coin_id": coin, "vs_currency": vs, "ts": opens + step, "price": np.asarray(prices, dtype=float),
        "market_cap": caps if caps is not None else None, "total_volume": None, "granularity": granularity,
        "is_partial": False, "source": source, "ingested_at": datetime(2024, 6, 1),
    })


def series() -> dict[str, pd.Series]:
    """The true daily closes of each coin (every source below is a copy, scaled so a mix shows)."""
    return {
        "bitcoin": pd.Series(walk(len(DAYS), 1, 30000, 0.02), DAYS),
        "fetch-ai": pd.Series(walk(len(DAYS), 2, 0.5), DAYS),
        "worldcoin-wld": pd.Series(walk(len(DAYS), 3, 2.0), DAYS),
        "render-token": pd.Series(walk(len(DAYS), 4, 3.0), DAYS),
    }


# What each source stores, as a multiple of the true close, so a test can tell them apart.
SCALE = {"coingecko": 1.0, "binance": 1.001, "okx": 0.999, "csv:fet.csv": 1.002}


def build(path) -> storage.Database:
    """bitcoin: coingecko (all days) and binance (all days). fetch-ai: coingecko (from RECENT),
    binance usdt (all days), csv:fet.csv (all days). worldcoin-wld: okx usdc only. render-token:
    binance usdt and okx usdt (all days)."""
    db = storage.open_database(path, create=True)
    s = series()
    recent = DAYS[DAYS >= RECENT]
    frames = [
        rows("bitcoin", DAYS, s["bitcoin"], source="coingecko", vs="usd", caps=s["bitcoin"] * 2e7),
        rows("bitcoin", DAYS, s["bitcoin"] * SCALE["binance"], source="binance", vs="usdt"),
        rows("fetch-ai", recent, s["fetch-ai"][recent] * SCALE["coingecko"], source="coingecko", vs="usd",
             caps=s["fetch-ai"][recent] * 1e9),
        rows("fetch-ai", DAYS, s["fetch-ai"] * SCALE["binance"], source="binance", vs="usdt"),
        rows("fetch-ai", DAYS, s["fetch-ai"] * SCALE["csv:fet.csv"], source="csv:fet.csv", vs="usd"),
        rows("worldcoin-wld", DAYS, s["worldcoin-wld"] * SCALE["okx"], source="okx", vs="usdc"),
        rows("render-token", DAYS, s["render-token"] * SCALE["binance"], source="binance", vs="usdt"),
        rows("render-token", DAYS, s["render-token"] * SCALE["okx"], source="okx", vs="usdt"),
    ]
    with db.transaction() as con:
        for frame in frames:
            storage.upsert(con, "price_history", frame)
    add_events(db, [event_from_mapping({"id": "sora-demo", "name": "Sora", "timestamp": SORA})])
    return db
