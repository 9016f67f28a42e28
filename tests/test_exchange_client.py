"""The exchange client against the fake Binance: markets, paging, closed candles, gaps, delisted and renamed markets."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from tracker.cli.flags import with_flags
from tracker.errors import TrackerError
from tracker.sources.exchange import ExchangeClient, ExchangeError, Market, UnknownMarket

from . import exchange_helpers
from .exchange_helpers import KEY_HEADERS, NOW, candles, make_client, sent_headers

fake, client = exchange_helpers.fake, exchange_helpers.client  # fixtures

KLINES = "/api/v3/klines"
INFO = "/api/v3/exchangeInfo"


def test_markets_are_the_spot_markets_with_unified_and_exchange_symbols(fake, client):
    markets = client.markets()
    assert all(isinstance(m, Market) for m in markets)
    fet = next(m for m in markets if m.symbol == "FET/USDT")
    assert (fet.exchange_symbol, fet.base, fet.quote, fet.active) == ("FETUSDT", "FET", "USDT", True)
    by_symbol = {m.symbol: m for m in markets}
    assert by_symbol["RNDR/USDT"].active is False and by_symbol["OCEAN/USDT"].active is False
    assert {"FET/USDC", "FET/BTC"} <= set(by_symbol)
    assert "RENDER/USDT" not in by_symbol  # listed 2024-07-26, after the fake's "now"
    client.markets()
    assert fake.calls(INFO) == 1 and client.calls == 1  # loaded once, then cached


def test_a_market_is_found_by_either_symbol(client):
    fet = client.market("FET/USDT")
    assert client.market("FETUSDT") == client.market("FET-USDT") == client.market("fetusdt") == fet
    with pytest.raises(UnknownMarket):
        client.market("FETUSDX")


def test_pages_hold_1000_candles_and_cost_one_call_each(fake, client):
    since = datetime(2023, 10, 1)
    until = since + timedelta(hours=2499)
    pages = list(client.fetch_candles("FET/USDT", "1h", since, until))
    assert [len(p) for p in pages] == [1000, 1000, 500]
    assert fake.calls(KLINES) == 3
    frame = pd.concat(pages, ignore_index=True)
    assert frame["open_time"].iloc[0] == pd.Timestamp(since) and frame["open_time"].iloc[-1] == pd.Timestamp(until)
    assert (frame["open_time"].diff().dropna() == pd.Timedelta(hours=1)).all()
    assert list(frame.columns) == ["open_time", "open", "high", "low", "close", "volume", "quote_volume"]
    assert str(frame["open_time"].dtype) == "datetime64[us]"
    assert frame[["open", "high", "low", "close", "volume", "quote_volume"]].notna().all().all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all() and (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()


def test_minute_candles_page_by_1000(fake, client):
    since = datetime(2024, 2, 27)
    frame = candles(client, "FET/USDT", "1m", since, since + timedelta(minutes=2999))
    assert len(frame) == 3000 and fake.calls(KLINES) == 3


def test_only_closed_candles_by_the_exchanges_clock(fake, client):
    # The fake's clock (12:30 on 2024-03-01) is years behind the machine's: the Date header rules.
    daily = candles(client, "FET/USDT", "1d", datetime(2024, 2, 20))
    hourly = candles(client, "FET/USDT", "1h", datetime(2024, 3, 1))
    minutes = candles(client, "FET/USDT", "1m", datetime(2024, 3, 1, 12))
    assert daily["open_time"].iloc[-1] == pd.Timestamp("2024-02-29")
    assert hourly["open_time"].iloc[-1] == pd.Timestamp("2024-03-01 11:00")
    assert minutes["open_time"].iloc[-1] == pd.Timestamp("2024-03-01 12:29")
    assert fake.calls(KLINES) == 3  # each ended at the open candle: no call after it


def test_the_clock_decides_when_the_answer_has_no_date(fake, monkeypatch):
    from tracker.sources.exchange import retry

    monkeypatch.setattr(retry.Answer, "server_time", lambda self: None)  # as if no Date header came back
    client = make_client(fake, clock=lambda: datetime(2024, 3, 1, 5, 30))
    hourly = candles(client, "FET/USDT", "1h", datetime(2024, 3, 1))
    assert hourly["open_time"].iloc[-1] == pd.Timestamp("2024-03-01 04:00")


def test_until_is_inclusive_and_a_short_page_ends_the_fetch(fake, client):
    frame = candles(client, "BTC/USDT", "1d", datetime(2024, 1, 1), datetime(2024, 1, 31))
    assert len(frame) == 31 and frame["open_time"].iloc[-1] == pd.Timestamp("2024-01-31")
    assert fake.calls(KLINES) == 1


def test_dates_and_aware_datetimes_are_accepted(client):
    from datetime import date, timezone

    by_date = candles(client, "BTC/USDT", "1d", date(2024, 1, 1), date(2024, 1, 31))
    aware = candles(client, "BTC/USDT", "1d", datetime(2024, 1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
                    datetime(2024, 1, 31, tzinfo=timezone.utc))
    pd.testing.assert_frame_equal(by_date, aware)
    assert len(by_date) == 31


def test_since_none_starts_at_the_first_candle(fake, client):
    frame = candles(client, "WLD/USDT", "1d", None)
    assert frame["open_time"].iloc[0] == pd.Timestamp("2023-07-24")
    assert frame["open_time"].iloc[-1] == pd.Timestamp("2024-02-29")
    assert fake.calls(KLINES) == 1


def test_a_rerun_from_the_last_candle_costs_one_call(fake, client):
    last = candles(client, "FET/USDT", "1d", datetime(2024, 1, 1))["open_time"].iloc[-1]
    fake.reset_stats()
    assert candles(client, "FET/USDT", "1d", last.to_pydatetime() + timedelta(days=1)).empty
    assert fake.calls(KLINES) == 1


def test_gaps_are_skipped_and_paging_goes_on(fake, client):
    fake.add_gap("FETUSDT", datetime(2024, 1, 10, 3), datetime(2024, 1, 10, 6))
    frame = candles(client, "FET/USDT", "1h", datetime(2024, 1, 9), datetime(2024, 2, 20, 23))
    hours = set(frame["open_time"])
    assert not hours & {pd.Timestamp(f"2024-01-10 0{h}:00") for h in (3, 4, 5)}
    assert pd.Timestamp("2024-01-10 06:00") in hours and len(frame) == 43 * 24 - 3
    assert fake.calls(KLINES) == 2


def test_a_delisted_market_keeps_its_history_and_stops(fake, client):
    fake.set_now(datetime(2024, 9, 1))
    frame = candles(client, "OCEAN/USDT", "1h", datetime(2024, 6, 1))
    assert frame["open_time"].iloc[-1] == pd.Timestamp("2024-07-01 23:00")
    assert fake.calls(KLINES) == 1  # a short page of an inactive market is its end
    assert client.market("OCEANUSDT").active is False


def test_delisting_through_the_control_api(fake, client):
    fake.delist("NEARUSDT", datetime(2024, 1, 15, 23))
    frame = candles(client, "NEAR/USDT", "1d", datetime(2024, 1, 1))
    assert frame["open_time"].iloc[-1] == pd.Timestamp("2024-01-15") and client.market("NEAR/USDT").active is False


def test_a_renamed_market_hands_over_to_its_new_symbol(fake, client):
    fake.set_now(datetime(2024, 8, 1))
    old = candles(client, "RNDR/USDT", "1h", datetime(2024, 7, 20))
    assert old["open_time"].iloc[-1] == pd.Timestamp("2024-07-22 23:00")
    assert client.market("RNDR/USDT").active is False and client.market("RENDER/USDT").active is True
    new = candles(client, "RENDER/USDT", "1h", datetime(2024, 7, 20))
    assert new["open_time"].iloc[0] == pd.Timestamp("2024-07-26 08:00")
    assert old["close"].iloc[-1] == pytest.approx(6.472)


def test_unknown_market_is_one_line_and_costs_no_candle_call(fake, client):
    with pytest.raises(UnknownMarket) as caught:
        client.fetch_candles("NOPE/USDT", "1d", None)
    message = with_flags(caught.value)
    assert "\n" not in message and "binance has no market 'NOPE/USDT'" in message and "--exchange" in message
    assert isinstance(caught.value, TrackerError) and fake.calls(KLINES) == 0


def test_bad_interval_and_dates_name_their_parameter(client):
    with pytest.raises(ExchangeError, match="`interval`"):
        client.fetch_candles("FET/USDT", "5m", None)
    with pytest.raises(ExchangeError, match="`until` is before `since`"):
        client.fetch_candles("FET/USDT", "1d", datetime(2024, 2, 1), datetime(2024, 1, 1))


def test_unknown_exchange_names_the_flag():
    with pytest.raises(ExchangeError) as caught:
        ExchangeClient("nosuchexchange")
    assert "--exchange 'nosuchexchange' is not an exchange ccxt knows" in with_flags(caught.value)


def test_quote_volume_comes_from_the_raw_rows(client):
    frame = candles(client, "FET/USDT", "1h", datetime(2024, 2, 1), datetime(2024, 2, 1, 5))
    assert np.allclose(frame["quote_volume"], frame["volume"] * (frame["open"] + frame["close"]) / 2, rtol=1e-5)


def test_no_key_or_signature_is_ever_sent(fake, client):
    client.markets()
    candles(client, "FET/USDT", "1d", datetime(2024, 1, 1))
    headers = sent_headers(fake)
    assert headers and all(not set(h) & set(KEY_HEADERS) for h in headers)
    assert all("signature" not in r["query"] and "apikey" not in r["query"].lower() for r in fake.stats()["requests"])


def test_calls_count_every_attempt(fake):
    client = make_client(fake, waits=[])
    fake.add_fault("server_error", endpoint=KLINES, times=1)
    candles(client, "FET/USDT", "1d", datetime(2024, 2, 1))
    assert client.calls == fake.calls() == 3  # market list, the 500, the retry


def test_ccxt_rate_limiting_stays_on_by_default(fake):
    client = ExchangeClient("binance", base_url=fake.base_url)
    assert client._exchange.enableRateLimit is True
    assert NOW  # the fixture's frozen clock


def test_importing_the_client_loads_neither_ccxt_nor_pandas_nor_duckdb():
    import subprocess
    import sys

    code = ("import sys, tracker.sources.exchange, tracker.sources.exchange.client; "
            "print(sorted(m for m in ('ccxt', 'pandas', 'duckdb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "[]"
