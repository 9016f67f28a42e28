"""The client against the fake built from the shared real Binance hourly closes (skips without ../shared)."""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from . import exchange_helpers
from .exchange_helpers import DAILY_CSV, HOURLY_DIR, candles, make_client

real_fake = exchange_helpers.real_fake  # fixture


@pytest.fixture(autouse=True)
def _clean(real_fake):
    real_fake.clear_faults()
    real_fake.reset_stats()


def test_daily_closes_equal_the_shared_file_with_a_429_on_the_way(real_fake):
    waits: list[float] = []
    client = make_client(real_fake, waits=waits)
    real_fake.add_fault("rate_limit", endpoint="/api/v3/klines", retry_after=2, times=1)
    got = candles(client, "FET/USDT", "1d", datetime(2023, 8, 1), datetime(2024, 3, 31)).set_index("open_time")["close"]
    want = pd.read_csv(DAILY_CSV, parse_dates=["date_utc"]).set_index("date_utc")["FET"].loc["2023-08-01":"2024-03-31"]
    assert got.index.equals(want.index) and (got.to_numpy() == want.to_numpy()).all()
    assert waits == [2.0] and real_fake.calls("/api/v3/klines") == 2 and client.calls == 3


def test_hourly_closes_equal_the_shared_hourly_file(real_fake):
    client = make_client(real_fake)
    got = candles(client, "TAO/USDT", "1h", None)
    raw = pd.read_csv(HOURLY_DIR / "TAOUSDT_1h_close.csv", parse_dates=["open_time"])
    assert (got["open_time"].to_numpy() == raw["open_time"].to_numpy()).all()
    assert (got["close"].to_numpy() == raw["close"].to_numpy()).all()
    assert real_fake.calls("/api/v3/klines") == -(-len(raw) // 1000)


def test_the_clock_stands_where_the_data_ends(real_fake):
    client = make_client(real_fake)
    daily = candles(client, "BTC/USDT", "1d", datetime(2025, 6, 1))
    assert daily["open_time"].iloc[-1] == pd.Timestamp("2025-06-12")  # 2025-06-13 is a partial, still open day
    assert real_fake.calls("/api/v3/klines") == 1


def test_minutes_around_the_sora_demo_end_at_each_real_hourly_close(real_fake):
    client = make_client(real_fake)
    minutes = candles(client, "FET/USDT", "1m", datetime(2024, 2, 15), datetime(2024, 2, 16, 23, 59))
    assert len(minutes) == 2 * 1440 and real_fake.calls("/api/v3/klines") == 3
    raw = pd.read_csv(HOURLY_DIR / "FETUSDT_1h_close.csv", parse_dates=["open_time"]).set_index("open_time")["close"]
    last_minutes = minutes[minutes["open_time"].dt.minute == 59].set_index("open_time")["close"]
    assert (last_minutes.to_numpy() == raw.loc[last_minutes.index - pd.Timedelta(minutes=59)].to_numpy()).all()


def test_the_renamed_market_hands_over_to_render(real_fake):
    client = make_client(real_fake)
    old = candles(client, "RNDR/USDT", "1d", datetime(2024, 7, 1))
    new = candles(client, "RENDER/USDT", "1d", None)
    assert old["open_time"].iloc[-1] == pd.Timestamp("2024-07-22") and old["close"].iloc[-1] == 6.472
    assert new["open_time"].iloc[0] == pd.Timestamp("2024-07-26")
    assert not client.market("RNDRUSDT").active and client.market("RENDERUSDT").active
