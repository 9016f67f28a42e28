"""The client against the fake's OKX shapes: instruments, windows of 300 candles, newest first, faults."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
import requests

from tracker.cli.flags import with_flags
from tracker.sources.exchange import GeoBlocked

from . import exchange_helpers
from .exchange_helpers import KEY_HEADERS, candles, make_client, sent_headers

fake = exchange_helpers.fake  # fixture
CANDLE_PATHS = ("/api/v5/market/candles", "/api/v5/market/history-candles")


def candle_calls(fake) -> int:
    return sum(fake.calls(path) for path in CANDLE_PATHS)


@pytest.fixture
def okx(fake):
    return make_client(fake, "okx")


def test_markets_come_from_the_instruments_list(fake, okx):
    markets = {m.symbol: m for m in okx.markets()}
    fet = markets["FET/USDT"]
    assert (fet.exchange_symbol, fet.base, fet.quote, fet.active) == ("FET-USDT", "FET", "USDT", True)
    assert markets["WLD/USDT"].listed_at == datetime(2023, 7, 24, 7)
    assert markets["OCEAN/USDT"].active is False
    assert fake.calls("/api/v5/public/instruments") == 1
    assert okx.market("FETUSDT") == fet


def test_pages_are_300_candles_one_call_each(fake, okx):
    since = datetime(2024, 1, 1)
    pages = list(okx.fetch_candles("FET/USDT", "1h", since, since + timedelta(hours=699)))
    assert [len(p) for p in pages] == [300, 300, 100]
    assert candle_calls(fake) == 3
    frame = pd.concat(pages, ignore_index=True)
    assert (frame["open_time"].diff().dropna() == pd.Timedelta(hours=1)).all()
    assert frame["quote_volume"].notna().all()


def test_the_same_candles_as_binance(fake, okx):
    binance = make_client(fake)
    since, until = datetime(2024, 2, 1), datetime(2024, 2, 10, 23)
    pd.testing.assert_frame_equal(candles(okx, "FET/USDT", "1h", since, until), candles(binance, "FET/USDT", "1h", since, until))


def test_from_the_listing_and_only_closed(fake, okx):
    daily = candles(okx, "WLD/USDT", "1d", None)
    assert daily["open_time"].iloc[0] == pd.Timestamp("2023-07-24")  # the listing day, though listed at 07:00
    assert daily["open_time"].iloc[-1] == pd.Timestamp("2024-02-29")
    minutes = candles(okx, "FET/USDT", "1m", datetime(2024, 3, 1, 11))
    assert minutes["open_time"].iloc[-1] == pd.Timestamp("2024-03-01 12:29") and len(minutes) == 90


def test_okx_429_and_geo_block(fake):
    waits: list[float] = []
    okx = make_client(fake, "okx", waits=waits)
    fake.add_fault("rate_limit", endpoint="/api/v5/market/*", retry_after=4, times=1)
    assert len(candles(okx, "FET/USDT", "1d", datetime(2024, 1, 1))) == 60
    assert waits == [4.0]
    fake.add_fault("geo_block", endpoint="/api/v5/*", times=None)
    with pytest.raises(GeoBlocked) as caught:
        candles(okx, "FET/USDT", "1d", datetime(2024, 1, 1))
    assert with_flags(caught.value).startswith("okx refuses requests from this location (HTTP 451); choose another exchange with --exchange")


def test_no_key_is_sent_to_okx(fake, okx):
    candles(okx, "FET/USDT", "1d", datetime(2024, 2, 1))
    assert all(not set(h) & set(KEY_HEADERS) for h in sent_headers(fake))


def test_the_fake_answers_in_okx_shapes(fake):
    root = fake.base_url + "/api/v5"
    assert requests.get(root + "/public/time", timeout=10).json()["data"][0]["ts"] == str(int(pd.Timestamp("2024-03-01 12:30").value // 10**6))
    body = requests.get(root + "/market/history-candles", params={"instId": "FET-USDT", "bar": "1H", "limit": 3}, timeout=10).json()
    assert body["code"] == "0" and len(body["data"]) == 3
    stamps = [int(row[0]) for row in body["data"]]
    assert stamps == sorted(stamps, reverse=True) and all(len(row) == 9 for row in body["data"])
    assert body["data"][0][8] == "0" and body["data"][1][8] == "1"  # the 12:00 candle is still open
    after = requests.get(root + "/market/candles", params={"instId": "FET-USDT", "bar": "1H", "after": stamps[1], "limit": 2}, timeout=10).json()
    assert [int(r[0]) for r in after["data"]] == [stamps[2], stamps[2] - 3_600_000]
    missing = requests.get(root + "/market/candles", params={"instId": "NOPE-USDT", "bar": "1H"}, timeout=10).json()
    assert missing["code"] == "51001"
    assert requests.get(root + "/market/candles", params={"instId": "FET-USDT", "bar": "2H"}, timeout=10).status_code == 400


def test_a_gap_longer_than_a_window_does_not_end_the_fetch(fake, okx):
    fake.add_gap("FETUSDT", datetime(2024, 1, 5), datetime(2024, 1, 25))  # 480 hours: more than one window of 300
    frame = candles(okx, "FET/USDT", "1h", datetime(2024, 1, 1), datetime(2024, 2, 10, 23))
    assert len(frame) == (41 - 20) * 24
    assert frame["open_time"].iloc[-1] == pd.Timestamp("2024-02-10 23:00")
    binance = make_client(fake)
    pd.testing.assert_frame_equal(frame, candles(binance, "FET/USDT", "1h", datetime(2024, 1, 1), datetime(2024, 2, 10, 23)))


def test_since_before_the_listing_starts_at_the_listing(fake, okx):
    daily = candles(okx, "WLD/USDT", "1d", datetime(2020, 1, 1))
    assert daily["open_time"].iloc[0] == pd.Timestamp("2023-07-24") and candle_calls(fake) == 1


def test_okx_busy_with_http_200_is_retried(fake):
    waits: list[float] = []
    okx = make_client(fake, "okx", waits=waits)
    fake.add_fault("busy_200", endpoint="/api/v5/market/*", times=2)
    assert len(candles(okx, "FET/USDT", "1d", datetime(2024, 1, 1))) == 60
    assert waits == [1.0, 2.0]
