"""`tracker ingest candles` against the fake exchange on 127.0.0.1 (and the fake CoinGecko for
tickers): the issue's Done-when on the shared real closes, reruns, renames, delistings, the
one-line errors, and a spooled batch written later."""
from __future__ import annotations

import json
from datetime import datetime

import pandas as pd
import pytest

import storage
from tracker.sources.fakeexchange import FakeExchange
from tracker.sources.fakegecko import FakeGecko

from .conftest import REALDATA

HOURLY_DIR = REALDATA / "binance_spot_hourly_mark6"
DAILY_CSV = REALDATA / "daily_close_binance_spot_from_hourly.csv"
MARKETS = {"FETUSDT": "fetch-ai", "NEARUSDT": "near", "WLDUSDT": "worldcoin-wld", "BTCUSDT": "bitcoin", "ETHUSDT": "ethereum"}
FAST = "[coingecko]\ncalls_per_minute = 3000\nbackoff_seconds = 0.01\nbackoff_max_seconds = 0.05\n[database]\nlock_timeout_seconds = 1\n"
KLINES = "/api/v3/klines"
NOW = datetime(2024, 9, 2, 12, 30)  # the synthetic fake's frozen clock: after the RNDR -> RENDER rename


def flags(markets: dict[str, str]) -> list[str]:
    return [arg for symbol, coin in markets.items() for arg in ("--market", f"{symbol}={coin}")]


@pytest.fixture
def tracker(tmp_path, cli_runner):
    (tmp_path / "tracker.toml").write_text(FAST)
    assert cli_runner("init").exit_code == 0

    def run(fake, *args: str, gecko=None):
        env = {"TRACKER_EXCHANGE_BASE_URL": fake.base_url}
        if gecko is not None:
            env["COINGECKO_BASE_URL"] = gecko.base_url
        return cli_runner("ingest", "candles", *args, env=env)

    return run


def db(tmp_path) -> storage.Database:
    return storage.Database(tmp_path / "data" / "tracker.duckdb")


def closes(tmp_path, granularity: str) -> pd.DataFrame:
    return storage.query(db(tmp_path), "SELECT coin_id, ts, price, vs_currency, source, market_cap, total_volume, is_partial "
                         "FROM price_history WHERE granularity = ? ORDER BY coin_id, ts", [granularity])


def runs(tmp_path) -> pd.DataFrame:
    return storage.query(db(tmp_path), "SELECT status, calls, rows, error, details FROM ingest_runs WHERE job = 'candles' ORDER BY started_at")


@pytest.fixture(scope="module")
def real_fake():
    if not HOURLY_DIR.is_dir():
        pytest.skip(f"shared real data not found at {HOURLY_DIR} (it lives beside the project, not in it)")
    with FakeExchange(data_dir=HOURLY_DIR) as server:
        yield server


@pytest.mark.slow
def test_done_when_daily_closes_equal_the_shared_csv_hourly_fills_and_reruns_cost_at_most_a_call_per_market(
        real_fake, tracker, tmp_path):
    real_fake.clear_faults()
    real_fake.reset_stats()
    real_fake.add_fault("rate_limit", endpoint=KLINES, times=1, retry_after=1)
    span = ["--since", "2023-08-01", "--until", "2024-03-31"]
    first = tracker(real_fake, "--exchange", "binance", *flags(MARKETS), "--interval", "1d", *span, "--format", "json")
    assert first.exit_code == 0, first.output
    # One page per market (244 candles), the 429 retried once, and one market-list call.
    assert real_fake.calls(KLINES) == len(MARKETS) + 1
    run = json.loads(first.stdout)[0]
    assert (run["status"], run["rows"]) == ("ok", 244 * len(MARKETS))

    stored = closes(tmp_path, "daily")
    assert set(stored["vs_currency"]) == {"usdt"} and set(stored["source"]) == {"binance"}
    assert stored["market_cap"].isna().all() and not stored["is_partial"].any() and stored["total_volume"].notna().all()
    expected = pd.read_csv(DAILY_CSV, parse_dates=["date_utc"]).set_index("date_utc").loc["2023-08-01":"2024-03-31"]
    for symbol, coin in MARKETS.items():
        got = stored[stored["coin_id"] == coin].set_index("ts")["price"]
        want = expected[symbol.removesuffix("USDT")]
        # A daily candle is stored at its close instant: the next midnight.
        assert list(got.index - pd.Timedelta(days=1)) == list(want.index), coin
        assert (got.to_numpy() == want.to_numpy()).all(), coin

    # The same request again: nothing is missing, no candle call at all.
    before = real_fake.calls(KLINES)
    assert tracker(real_fake, *flags(MARKETS), "--interval", "1d", *span).exit_code == 0
    assert real_fake.calls(KLINES) == before
    # Up to now (the shared data end in June 2025): one page each; then a top-up with nothing new: at most one call each.
    assert tracker(real_fake, *flags(MARKETS)).exit_code == 0
    before = real_fake.calls(KLINES)
    assert tracker(real_fake, *flags(MARKETS)).exit_code == 0
    assert real_fake.calls(KLINES) - before <= len(MARKETS)

    hourly_run = tracker(real_fake, *flags(MARKETS), "--interval", "1h", *span)
    assert hourly_run.exit_code == 0, hourly_run.output
    hourly = closes(tmp_path, "hourly")
    for symbol, coin in MARKETS.items():
        got = hourly[hourly["coin_id"] == coin].set_index("ts")["price"]
        raw = pd.read_csv(HOURLY_DIR / f"{symbol}_1h_close.csv", parse_dates=["open_time"])
        want = raw[(raw["open_time"] >= "2023-08-01") & (raw["open_time"] < "2024-04-01")].set_index("open_time")["close"]
        assert len(got) == len(want) == 244 * 24, coin
        assert list(got.index - pd.Timedelta(hours=1)) == list(want.index) and (got.to_numpy() == want.to_numpy()).all(), coin
    markets = storage.coin_markets(db(tmp_path), "binance").set_index("symbol")
    assert set(markets.index) == {s.replace("USDT", "/USDT") for s in MARKETS} and set(markets["mapped_by"]) == {"flag"}
    assert (markets["first_seen"] <= pd.Timestamp("2023-08-01 01:00")).all()


@pytest.fixture
def fake():
    with FakeExchange(now=NOW) as server:
        yield server


def test_a_renamed_market_keeps_its_history_under_the_same_coin_mapped_by_coingecko_tickers(fake, tracker, tmp_path):
    with FakeGecko(ai_coins=12, other_coins=4, now=NOW) as gecko:
        result = tracker(fake, "--coin", "render-token", "--since", "2024-07-01", gecko=gecko)
        assert result.exit_code == 0, result.output
        assert gecko.stats()["by_endpoint"] == {"/coins/{id}/tickers": 1}
        again = tracker(fake, "--coin", "render-token", "--since", "2024-07-01", gecko=gecko)
        assert gecko.stats()["by_endpoint"] == {"/coins/{id}/tickers": 1}  # the stored mapping is reused
    assert again.exit_code == 0
    markets = storage.coin_markets(db(tmp_path), "binance").set_index("symbol")
    assert list(markets.index) == ["RENDER/USDT", "RNDR/USDT"]
    assert set(markets["coin_id"]) == {"render-token"} and set(markets["mapped_by"]) == {"coingecko-tickers"}
    assert not markets.loc["RNDR/USDT", "active"] and markets.loc["RENDER/USDT", "active"]
    assert markets.loc["RNDR/USDT", "last_seen"] == pd.Timestamp("2024-07-23")  # its last daily candle closes then
    assert markets.loc["RENDER/USDT", "first_seen"] == pd.Timestamp("2024-07-27")
    stored = closes(tmp_path, "daily")
    assert set(stored["coin_id"]) == {"render-token"}
    days = set(stored["ts"])
    assert pd.Timestamp("2024-07-10") in days and pd.Timestamp("2024-08-10") in days  # before and after the rename


def test_a_delisted_market_stores_what_it_had_and_a_rerun_costs_at_most_one_call(fake, tracker, tmp_path):
    assert tracker(fake, "--market", "OCEAN/USDT=ocean-protocol", "--since", "2024-06-01").exit_code == 0
    stored = closes(tmp_path, "daily")
    assert stored["ts"].max() == pd.Timestamp("2024-07-02") and len(stored) == 31
    market = storage.coin_markets(db(tmp_path), "binance").iloc[0]
    assert not market["active"] and market["last_seen"] == pd.Timestamp("2024-07-02")
    before = fake.calls(KLINES)
    assert tracker(fake, "--market", "OCEAN/USDT=ocean-protocol", "--since", "2024-06-01").exit_code == 0
    assert fake.calls(KLINES) - before <= 1


def test_quote_preference_takes_usdt_over_usdc_and_btc(fake, tracker, tmp_path):
    with FakeGecko(ai_coins=12, other_coins=4, now=NOW) as gecko:
        assert tracker(fake, "--coin", "fetch-ai", "--since", "2024-08-01", gecko=gecko).exit_code == 0
    assert list(storage.coin_markets(db(tmp_path), "binance")["symbol"]) == ["FET/USDT"]


@pytest.mark.parametrize("kind, words", [
    ("geo_block", ["binance", "location", "--exchange"]),
    ("forbidden", ["binance", "location", "--exchange"]),
    ("ban", ["binance", "banned"]),
])
def test_geo_block_and_ban_are_one_line_errors_and_a_failed_run(fake, tracker, tmp_path, kind, words):
    fake.add_fault(kind, times=None)
    result = tracker(fake, "--market", "FETUSDT=fetch-ai")
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip() and line.strip() != "candles"]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert all(word in lines[0] for word in words), lines[0]
    assert "Traceback" not in result.output
    assert list(runs(tmp_path)["status"]) == ["failed"]
    assert closes(tmp_path, "daily").empty


@pytest.mark.parametrize("args, message", [
    (["--market", "FETUSDX=fetch-ai"], "error: --market: FETUSDX is not a market on binance"),
    (["--market", "FETUSDT"], "error: --market 'FETUSDT' is not SYMBOL=COIN_ID"),
    (["--since", "2024/01/01"], "error: --since '2024/01/01' is not an ISO 8601 date"),
    (["--since", "2024-03-01", "--until", "2024-02-01"], "error: --until is before --since"),
    (["--around-events", "--interval", "1d"], "error: --around-events fetches 1m candles"),
    (["--around-events", "3", "--since", "2024-01-01"], "error: --around-events fetches the days around each event"),
    (["--around-events", "45"], "error: Invalid value for '--around-events'"),
])
def test_bad_input_is_one_line(fake, tracker, args, message):
    result = tracker(fake, *args)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip() and line.strip() != "candles"]
    assert len(lines) == 1 and lines[0].startswith(message), result.output


@pytest.mark.slow
def test_around_events_fetches_minute_candles_once(fake, tracker, tmp_path, cli_runner):
    args = ["--market", "FETUSDT=fetch-ai", "--around-events", "0.5"]
    first = tracker(fake, *args)
    assert first.exit_code == 0, first.output
    minutes = closes(tmp_path, "minute")
    events = storage.all_events(db(tmp_path))
    sora = events.set_index("event_id").loc["sora-demo", "ts"]
    near = minutes[(minutes["ts"] > sora - pd.Timedelta(hours=12)) & (minutes["ts"] <= sora + pd.Timedelta(hours=12))]
    assert len(near) == 24 * 60
    assert minutes["ts"].max() <= pd.Timestamp(NOW)
    before = fake.calls(KLINES)
    assert tracker(fake, *args).exit_code == 0
    assert fake.calls(KLINES) == before  # every window is stored already


def test_a_batch_spooled_while_the_database_is_locked_is_written_by_the_next_run(fake, tracker, tmp_path):
    from .daemon_harness import LockHolder

    with LockHolder(db(tmp_path).path, 600):
        locked = tracker(fake, "--market", "FETUSDT=fetch-ai", "--since", "2024-08-01")
        assert locked.exit_code == 4, locked.output
        assert "spool" in locked.output
    spooled = list((tmp_path / "data" / "spool").iterdir())
    assert spooled
    later = tracker(fake, "--market", "FETUSDT=fetch-ai", "--since", "2024-08-01")
    assert later.exit_code == 0, later.output
    stored = closes(tmp_path, "daily")
    assert len(stored) == 32 and stored["ts"].is_unique  # 2024-08-01 .. 2024-09-01, once each
    assert list(runs(tmp_path)["status"]) == ["ok", "ok"]
    assert not [p for p in (tmp_path / "data" / "spool").iterdir() if not p.name.startswith(".")]


def test_okx_maps_by_coingecko_tickers_and_flags_and_stores_under_its_own_source(fake, tracker, tmp_path):
    with FakeGecko(ai_coins=12, other_coins=4, now=NOW) as gecko:
        result = tracker(fake, "--exchange", "okx", "--coin", "fetch-ai", "--market", "BTCUSDT=bitcoin", "--since", "2024-08-01",
                         gecko=gecko)
        # CoinGecko calls OKX "okex": the tickers were asked for that exchange.
        requests = gecko.stats()["requests"]
        assert len(requests) == 1 and "exchange_ids=okex" in requests[0]["query"]
    assert result.exit_code == 0, result.output
    markets = storage.coin_markets(db(tmp_path), "okx").set_index("coin_id")
    assert markets.loc["fetch-ai", "exchange_symbol"] == "FET-USDT" and markets.loc["bitcoin", "symbol"] == "BTC/USDT"
    assert (markets.loc["fetch-ai", "mapped_by"], markets.loc["bitcoin", "mapped_by"]) == ("coingecko-tickers", "flag")
    stored = closes(tmp_path, "daily")
    assert set(stored["source"]) == {"okx"} and set(stored["coin_id"]) == {"fetch-ai", "bitcoin"}
    assert len(stored) == 2 * 32


@pytest.mark.slow
def test_done_when_a_sora_study_on_stored_candles_equals_the_same_study_on_the_shared_closes(
        real_fake, tracker, tmp_path, cli_runner):
    """Issue 15's last Done-when: USDT candles from the exchange, read as USD closes, give the
    same CAARs (to 1e-9) as `--returns-csv` on the shared Binance closes."""
    sora = {"FETUSDT": "fetch-ai", "NEARUSDT": "near", "WLDUSDT": "worldcoin-wld", "BTCUSDT": "bitcoin"}
    real_fake.clear_faults()
    got = tracker(real_fake, *flags(sora), "--interval", "1d", "--since", "2023-06-01", "--until", "2024-03-31")
    assert got.exit_code == 0, got.output
    from_db = cli_runner("study", "--event", "sora-demo", "--tokens", "fetch-ai,near,worldcoin-wld", "--benchmark", "bitcoin",
                         "--show", "caar", "--format", "csv")
    assert from_db.exit_code == 0, from_db.output

    closes_csv = pd.read_csv(DAILY_CSV, parse_dates=["date_utc"]).set_index("date_utc").loc["2023-06-01":"2024-03-31"]
    returns = closes_csv[["FET", "NEAR", "WLD", "BTC"]].pct_change(fill_method=None).iloc[1:]
    returns.index.name = "date"
    returns.to_csv(tmp_path / "returns.csv", float_format="%.17g")
    pd.DataFrame({"event_id": ["sora-demo"], "timestamp": ["2024-02-15T18:00:00Z"]}).to_csv(tmp_path / "events.csv", index=False)
    from_files = cli_runner("study", "--returns-csv", str(tmp_path / "returns.csv"), "--market-column", "BTC",
                            "--events-csv", str(tmp_path / "events.csv"), "--show", "caar", "--format", "csv")
    assert from_files.exit_code == 0, from_files.output

    def caar(output: str) -> pd.DataFrame:
        import io
        body = output.split("# caar\n", 1)[1].split("\n# ", 1)[0]
        return pd.read_csv(io.StringIO(body)).set_index("window")

    db_caar, file_caar = caar(from_db.stdout), caar(from_files.stdout)
    assert list(db_caar.index) == list(file_caar.index) and len(db_caar) >= 3
    assert (db_caar["n"] == file_caar["n"]).all() and (db_caar["n"] == 3).all()
    assert db_caar["caar"].to_numpy() == pytest.approx(file_caar["caar"].to_numpy(), abs=1e-9, rel=0)
