"""The daemon's candles jobs: off by default; once enabled, `tracker daemon --once` runs them
after the CoinGecko jobs, maps the tracked coins through CoinGecko's tickers and fills daily and
hourly candles; a second --once tops up with at most one candle call per market."""
from __future__ import annotations

import json

import pytest

from tracker.config import load_config
from tracker.sources.fakeexchange import FakeExchange
from tracker.sources.fakegecko import FakeGeckoProcess

from .daemon_harness import fake_args, frozen_now, once, query, write_config
from .test_candles_cli import NOW


def test_the_candles_jobs_are_configured_daily_and_hourly_but_off_by_default():
    config = load_config(env={})
    daily, hourly = config.schedules["candles"], config.schedules["candles_hourly"]
    assert (daily.cron, hourly.cron) == ("15 0 * * *", "5 * * * *")
    assert not daily.enabled and not hourly.enabled


def _enable(path):
    text = path.read_text()
    for job in ("candles", "candles_hourly"):
        text = text.replace(f"[schedules.{job}]\n", f"[schedules.{job}]\nenabled = true\n")
    path.write_text(text)


@pytest.mark.slow
def test_once_runs_the_enabled_candles_jobs_after_coingecko_and_tops_up(tmp_path):
    with FakeGeckoProcess(fake_args(now=frozen_now())) as gecko, FakeExchange(now=NOW) as exchange:
        _enable(write_config(tmp_path, gecko.base_url, every={"candles": "1h", "candles_hourly": "1h"}))
        env = {"TRACKER_EXCHANGE_BASE_URL": exchange.base_url}
        first = once(tmp_path, env=env)
        klines_first = exchange.calls("/api/v3/klines")
        second = once(tmp_path, env=env)
        klines_second = exchange.calls("/api/v3/klines") - klines_first
    assert [first.returncode, second.returncode] == [0, 0], first.stderr[-3000:] + second.stderr[-3000:]
    assert "job candles: every 3600s" in first.stderr and "job candles_hourly: every 3600s" in first.stderr
    db_path = tmp_path / "data" / "tracker.duckdb"
    runs = query(db_path, "SELECT job, status, rows, details FROM ingest_runs ORDER BY started_at")
    assert list(runs["job"][:6]) == ["categories", "markets", "members", "history", "candles", "candles"]
    candle_runs = runs[runs["job"] == "candles"]
    assert set(candle_runs["status"]) == {"ok"}
    assert [json.loads(d)["interval"] for d in candle_runs["details"]] == ["1d", "1h", "1d", "1h"]
    markets = query(db_path, "SELECT coin_id, symbol, mapped_by FROM coin_markets ORDER BY symbol")
    # The tracked coins the fake exchange lists, mapped by CoinGecko's tickers; the renamed one twice.
    assert {"bitcoin", "ethereum", "fetch-ai", "near", "worldcoin-wld", "render-token"} <= set(markets["coin_id"])
    assert set(markets["mapped_by"]) == {"coingecko-tickers"}
    assert set(markets[markets["coin_id"] == "render-token"]["symbol"]) == {"RNDR/USDT", "RENDER/USDT"}
    assert (candle_runs["rows"].iloc[:2] > 0).all()
    # An hourly candle closing at midnight is the same instant as the day's close: one row, the
    # later writer's label (price_history's key has no granularity); the day's close is the same.
    hourly = query(db_path, "SELECT count(*) AS n FROM price_history WHERE source = 'binance' AND granularity = 'hourly'")
    assert hourly["n"][0] > 0
    # The fake's clock stands still: the second pass finds nothing new, one call per market and interval at most.
    assert klines_second <= 2 * len(markets)
