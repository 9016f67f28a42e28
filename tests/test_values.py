"""The one value rule (tracker.ingest.values) and the CoinGecko path's use of it (issue 12 item 7)."""
from __future__ import annotations

import math
from datetime import datetime

import numpy as np
import pandas as pd

from tracker.ingest.frames import market_snapshot_rows, price_history_rows
from tracker.ingest.values import AMOUNT, PRICE, SERIES, bad_values, describe


def test_bounds_refuse_non_finite_non_positive_and_absurd_values_and_let_nan_through():
    values = [1.0, 1e-12, 1e9, 0.0, -5.0, math.inf, -math.inf, 1e308, 1e-320, 2e9, 9e-13, math.nan]
    assert bad_values(values, PRICE).tolist() == [False] * 3 + [True] * 8 + [False]
    assert bad_values([0.0, 1e14, 2e14, -1.0, math.inf], AMOUNT).tolist() == [False, False, True, True, True]
    assert bad_values([0.0, 1e15, 4.2, -0.5], SERIES).tolist() == [True, False, False, True]
    assert describe("1e308", PRICE) == "price 1e308 is outside the accepted range 1e-12 to 1e9"
    assert describe("-5", SERIES, "close") == "close -5 is not a positive finite number"
    assert describe("inf", AMOUNT, "volume", quoted=True) == "volume 'inf' is not a non-negative finite number"


def test_absurd_api_values_are_stored_as_null_not_refused():
    """A price of 0, a negative or infinite one from the API is no observation: NULL, the row kept."""
    points = pd.DataFrame({
        "ts": pd.date_range("2024-01-01", periods=6, freq="D"),
        "price": [1.0, 0.0, -2.0, math.inf, 1e308, 3.0],
        "market_cap": [1e6, 0.0, math.inf, 1e15, 5e6, -1.0],
        "total_volume": [1e3, 0.0, -1.0, math.inf, 2e14, 7.0],
        "granularity": "daily", "is_partial": False,
    })
    rows = price_history_rows(points, "fetch-ai", "usd", datetime(2024, 2, 1))
    assert rows["price"].tolist()[0] == 1.0 and rows["price"].tolist()[5] == 3.0
    assert rows["price"].iloc[1:5].isna().all()
    assert np.isnan(rows["market_cap"].to_numpy()[1:4]).all() and rows["market_cap"].tolist()[4] == 5e6
    assert rows["total_volume"].tolist()[:2] == [1e3, 0.0] and rows["total_volume"].iloc[2:5].isna().all()
    markets = pd.DataFrame({
        "coin_id": ["a", "b"], "symbol": ["a", "b"], "name": ["A", "B"], "current_price": [0.0, 2.0],
        "market_cap": [1.0, math.inf], "total_volume": [-3.0, 4.0], "market_cap_rank": [1, 2],
        "circulating_supply": [1.0, 1.0], "total_supply": [1.0, 1.0], "max_supply": [1.0, 1.0],
        "fully_diluted_valuation": [1.0, 1.0], "price_change_percentage_24h": [0.0, 0.0],
        "last_updated": [datetime(2024, 1, 1)] * 2,
    })
    snap = market_snapshot_rows(markets, "usd", datetime(2024, 1, 1))
    assert math.isnan(snap["price"][0]) and snap["price"][1] == 2.0
    assert math.isnan(snap["market_cap"][1]) and math.isnan(snap["total_volume"][0])
