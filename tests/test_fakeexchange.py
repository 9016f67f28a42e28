"""The fake exchange: Binance shapes per the official docs, candles that agree across intervals, control in and out of process."""
from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import pandas as pd
import pytest
import requests

from tracker.sources.fakeexchange import FAULT_KINDS, FakeExchange, FakeExchangeProcess, FaultRule

from . import exchange_helpers
from .exchange_helpers import NOW

fake, real_fake = exchange_helpers.fake, exchange_helpers.real_fake  # fixtures
MS = 10**6


def get(fake, path, **params):
    return requests.get(fake.base_url + "/api/v3" + path, params=params, timeout=10)


def ms(text: str) -> int:
    return int(pd.Timestamp(text).value // MS)


def test_ping_time_and_the_date_header_follow_the_fakes_clock(fake):
    assert get(fake, "/ping").json() == {}
    answer = get(fake, "/time")
    assert answer.json() == {"serverTime": ms("2024-03-01 12:30")}
    assert parsedate_to_datetime(answer.headers["Date"]).replace(tzinfo=None) == NOW
    fake.advance(3600)
    assert get(fake, "/time").json()["serverTime"] == ms("2024-03-01 13:30")


def test_exchange_info_lists_symbols_with_status(fake):
    info = get(fake, "/exchangeInfo").json()
    assert info["timezone"] == "UTC" and info["serverTime"] == ms("2024-03-01 12:30")
    symbols = {s["symbol"]: s for s in info["symbols"]}
    assert symbols["FETUSDT"]["status"] == "TRADING" and symbols["FETUSDT"]["baseAsset"] == "FET"
    assert symbols["RNDRUSDT"]["status"] == "BREAK" and symbols["OCEANUSDT"]["status"] == "BREAK"
    assert "RENDERUSDT" not in symbols  # not listed yet on 2024-03-01


def test_klines_rows_are_binance_shaped(fake):
    rows = get(fake, "/klines", symbol="FETUSDT", interval="1h", startTime=ms("2024-02-01"), limit=3).json()
    assert len(rows) == 3 and all(len(r) == 12 for r in rows)
    first = rows[0]
    assert first[0] == ms("2024-02-01") and first[6] == first[0] + 3_600_000 - 1
    assert all(isinstance(first[i], str) for i in (1, 2, 3, 4, 5, 7, 9, 10)) and isinstance(first[8], int) and first[11] == "0"
    assert rows[1][1] == rows[0][4]  # each candle opens at the previous close


def test_klines_windows_and_limits(fake):
    def stamps(**params):
        return [r[0] for r in get(fake, "/klines", symbol="FETUSDT", interval="1d", **params).json()]

    assert stamps(startTime=ms("2024-01-01"), endTime=ms("2024-01-03")) == [ms("2024-01-01"), ms("2024-01-02"), ms("2024-01-03")]
    assert stamps(endTime=ms("2024-01-03"), limit=2) == [ms("2024-01-02"), ms("2024-01-03")]
    assert stamps(limit=2) == [ms("2024-02-29"), ms("2024-03-01")]  # the most recent, the open one included
    assert len(stamps(startTime=0)) == 500  # the default limit, from the first candle
    assert stamps(startTime=0, limit=1) == [ms("2021-01-01")]


@pytest.mark.parametrize("params, code", [
    ({"symbol": "NOPEUSDT", "interval": "1d"}, -1121),
    ({"symbol": "FETUSDT", "interval": "2d"}, -1120),
    ({"symbol": "FETUSDT", "interval": "1d", "limit": 1001}, -1130),
    ({"interval": "1d"}, -1102),
    ({"symbol": "FETUSDT", "interval": "1d", "startTime": "x"}, -1100),
])
def test_klines_errors_use_binance_codes(fake, params, code):
    answer = get(fake, "/klines", **params)
    assert answer.status_code == 400 and answer.json()["code"] == code


def test_intervals_agree(fake):
    day = get(fake, "/klines", symbol="FETUSDT", interval="1d", startTime=ms("2024-02-10"), limit=1).json()[0]
    hours = get(fake, "/klines", symbol="FETUSDT", interval="1h", startTime=ms("2024-02-10"), limit=24).json()
    minutes = get(fake, "/klines", symbol="FETUSDT", interval="1m", startTime=ms("2024-02-10 05:00"), limit=60).json()
    assert day[1] == hours[0][1] and day[4] == hours[-1][4]
    assert float(day[2]) == max(float(h[2]) for h in hours) and float(day[3]) == min(float(h[3]) for h in hours)
    assert float(day[5]) == pytest.approx(sum(float(h[5]) for h in hours))
    assert minutes[0][1] == hours[5][1] and minutes[-1][4] == hours[5][4]  # the bridge ends at the hour's close
    assert all(minutes[i][1] == minutes[i - 1][4] for i in range(1, 60))


def test_candles_are_the_same_on_every_fetch_and_seeded(fake):
    params = {"symbol": "ETHUSDT", "interval": "1m", "startTime": ms("2024-01-05 10:17"), "limit": 500}
    assert get(fake, "/klines", **params).json() == get(fake, "/klines", **params).json()
    with FakeExchange(now=NOW, seed=8) as other:
        assert get(other, "/klines", **params).json() != get(fake, "/klines", **params).json()


def test_calls_are_counted_per_path_with_headers(fake):
    get(fake, "/ping")
    get(fake, "/klines", symbol="FETUSDT", interval="1d")
    requests.get(fake.base_url + "/api/v3/klines", params={"symbol": "FETUSDT", "interval": "1d"},
                 headers={"X-Test": "yes"}, timeout=10)
    stats = fake.stats()
    assert stats["by_path"] == {"/api/v3/ping": 1, "/api/v3/klines": 2} and fake.calls() == 3
    assert stats["requests"][-1]["headers"]["x-test"] == "yes"
    fake.reset_stats()
    assert fake.calls() == 0


def test_fault_rules_skip_times_and_params(fake):
    fake.add_fault("server_error", endpoint="/api/v3/klines", params={"symbol": "BTCUSDT"}, skip=1, times=1, status=503)
    assert get(fake, "/klines", symbol="FETUSDT", interval="1d").status_code == 200
    assert get(fake, "/klines", symbol="BTCUSDT", interval="1d").status_code == 200
    assert get(fake, "/klines", symbol="BTCUSDT", interval="1d").status_code == 503
    assert get(fake, "/klines", symbol="BTCUSDT", interval="1d").status_code == 200
    assert fake.faults()[0]["fired"] == 1
    with pytest.raises(ValueError, match="unknown fault kind"):
        FaultRule(kind="nope")
    assert set(FAULT_KINDS) == {"rate_limit", "ban", "geo_block", "forbidden", "server_error", "timeout", "html_200", "truncated", "busy_200"}


def test_fault_bodies(fake):
    fake.add_fault("geo_block", endpoint="/api/v3/ping")
    answer = get(fake, "/ping")
    assert answer.status_code == 451 and "restricted location" in answer.json()["msg"]
    fake.add_fault("ban", endpoint="/api/v3/ping", retry_after=300)
    answer = get(fake, "/ping")
    assert answer.status_code == 418 and answer.headers["Retry-After"] == "300"
    assert f"IP banned until {ms('2024-03-01 12:35')}" in answer.json()["msg"]
    fake.add_fault("forbidden", endpoint="/api/v3/ping")
    answer = get(fake, "/ping")
    assert answer.status_code == 403 and "CloudFront" in answer.text


def test_a_separate_process_is_steered_over_http():
    with FakeExchangeProcess(["--now", "2024-03-01T12:30:00"]) as process:
        control = process.control
        assert requests.get(process.base_url + "/api/v3/time", timeout=10).json()["serverTime"] == ms("2024-03-01 12:30")
        control.add_fault("rate_limit", endpoint="/api/v3/ping", retry_after=2)
        assert requests.get(process.base_url + "/api/v3/ping", timeout=10).status_code == 429
        assert control.calls("/api/v3/ping") == 1
        control.delist("FETUSDT", datetime(2024, 1, 31, 23))
        assert next(x for x in control.listings() if x["symbol"] == "FETUSDT")["status"] == "BREAK"
        with pytest.raises(ValueError, match="unknown symbol"):
            control.add_gap("NOPE", datetime(2024, 1, 1), datetime(2024, 1, 2))


def test_real_hourly_closes_are_served_as_they_are(real_fake):
    raw = pd.read_csv(exchange_helpers.HOURLY_DIR / "FETUSDT_1h_close.csv")
    rows = get(real_fake, "/klines", symbol="FETUSDT", interval="1h", startTime=0, limit=1000).json()
    assert [float(r[4]) for r in rows] == raw["close"].iloc[:1000].tolist()
    assert [r[0] for r in rows] == [ms(t) for t in raw["open_time"].iloc[:1000]]


def test_real_daily_closes_equal_the_shared_daily_file(real_fake):
    daily = pd.read_csv(exchange_helpers.DAILY_CSV, parse_dates=["date_utc"]).set_index("date_utc")
    for column in daily.columns:
        want = daily[column].dropna()
        rows = []
        start = 0
        while True:
            page = get(real_fake, "/klines", symbol=f"{column}USDT", interval="1d", startTime=start, limit=1000).json()
            rows += page
            if len(page) < 1000:
                break
            start = page[-1][0] + 86_400_000
        got = pd.Series([float(r[4]) for r in rows], index=pd.to_datetime([r[0] for r in rows], unit="ms"))
        assert got.index.equals(want.index), column
        assert (got.to_numpy() == want.to_numpy()).all(), column


def test_real_markets_include_the_renamed_and_delisted_ones(real_fake):
    symbols = {s["symbol"]: s["status"] for s in get(real_fake, "/exchangeInfo").json()["symbols"]}
    assert symbols["RENDERUSDT"] == "TRADING" and symbols["RNDRUSDT"] == "BREAK" and symbols["OCEANUSDT"] == "BREAK"
    last_rndr = get(real_fake, "/klines", symbol="RNDRUSDT", interval="1h", endTime=ms("2024-08-01"), limit=1).json()[0]
    first_render = get(real_fake, "/klines", symbol="RENDERUSDT", interval="1h", startTime=0, limit=1).json()[0]
    assert last_rndr[0] == ms("2024-07-22 23:00") and first_render[0] == ms("2024-07-26 08:00")
    assert float(last_rndr[4]) == 6.472 and float(first_render[4]) == 6.472


def test_the_command_line_checks_its_options(tmp_path):
    from tracker.sources.fakeexchange.__main__ import parse_args

    args = parse_args(["--port", "0", "--data-dir", str(tmp_path), "--now", "2024-03-01T12:30:00Z", "--seed", "3"])
    assert (args.data_dir, args.now, args.seed) == (tmp_path, NOW, 3)
    with pytest.raises(SystemExit):
        parse_args(["--data-dir", str(tmp_path / "missing")])
    with pytest.raises(SystemExit):
        parse_args(["--now", "yesterday"])
    with pytest.raises(ValueError, match="no <SYMBOL>_1h_close.csv files"):
        FakeExchange(data_dir=tmp_path)
