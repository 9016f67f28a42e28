"""hourly_prices takes every sub-daily granularity (hourly, 15m, 5m), never daily points."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

import storage


def test_15_minute_bars_give_hourly_closes_and_daily_points_do_not(db):
    start = datetime(2024, 2, 15)
    bars = pd.DataFrame(
        {
            "coin_id": "fetch-ai",
            "vs_currency": "usd",
            "ts": [start + timedelta(minutes=15 * (i + 1)) for i in range(8)],  # 00:15 .. 02:00
            "price": [float(i) for i in range(8)],
            "granularity": "15m",
            "is_partial": False,
            "source": "csv:hyperliquid",
            "ingested_at": start,
        }
    )
    daily = bars.iloc[:1].assign(coin_id="bitcoin", granularity="daily", ts=start + timedelta(days=1))
    with db.transaction() as con:
        storage.upsert(con, "price_history", pd.concat([bars, daily]))
    got = storage.query(db, "SELECT coin_id, hour, close FROM hourly_prices ORDER BY coin_id, hour")
    assert got["coin_id"].unique().tolist() == ["fetch-ai"]
    # The close of 00:00-01:00 is the 01:00 bar (index 3); of 01:00-02:00 the 02:00 bar (index 7).
    assert got["close"].tolist() == [3.0, 7.0]
