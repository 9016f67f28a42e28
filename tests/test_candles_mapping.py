"""Which market is which coin (tracker/ingest/market_map.py), the windows a run asks for
(candles_plan.py) and the coin_markets upsert, without any server."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import pytest

import storage
from tracker.errors import InputError
from tracker.ingest.candles_plan import Coverage, Window, closed_candles, plan_windows, price_rows
from tracker.ingest.market_map import QUOTE_PREFERENCE, parse_market_flags, resolve


@dataclass(frozen=True)
class M:
    symbol: str
    exchange_symbol: str
    base: str
    quote: str
    active: bool = True


def market(base: str, quote: str, active: bool = True) -> M:
    return M(f"{base}/{quote}", f"{base}{quote}", base, quote, active)


LISTED = [market("FET", "USDT"), market("FET", "BTC"), market("NEAR", "USDC"), market("NEAR", "USD"), market("GRT", "BTC"),
          market("RNDR", "USDT", active=False), market("RENDER", "USDT"), market("AI", "USDT"), market("TAO", "USD")]
NO_STORED = pd.DataFrame(columns=storage.COIN_MARKET_COLUMNS)


def tickers_of(rows: dict[str, list[tuple[str, str, bool]]], calls: list[str]):
    def ask(coin: str) -> pd.DataFrame:
        calls.append(coin)
        return pd.DataFrame([{"coin_id": coin, "exchange": "binance", "base": b, "target": t, "is_stale": stale,
                              "is_anomaly": False, "volume_usd": 1.0} for b, t, stale in rows.get(coin, [])],
                            columns=["coin_id", "exchange", "base", "target", "is_stale", "is_anomaly", "volume_usd"])
    return ask


def run_resolve(coins, *, flags=None, symbols=None, owners=None, tickers=None, stored=NO_STORED):
    return resolve(coins, exchange="binance", markets=LISTED, flags=flags or {}, stored=stored, symbols=symbols or {},
                   owners=owners or {}, tickers=tickers)


def test_flags_parse_and_bad_ones_name_the_parameter():
    assert parse_market_flags(["FETUSDT=fetch-ai", " FET/USDT = fetch-ai "]) == {"FETUSDT": "fetch-ai", "FET/USDT": "fetch-ai"}
    for bad in ("FETUSDT", "=fetch-ai", "FETUSDT=", "FET USDT=fetch-ai"):
        with pytest.raises(InputError) as caught:
            parse_market_flags([bad])
        assert "`markets`" in str(caught.value) and caught.value.parameters == ("markets",)


def test_a_flag_wins_and_an_unknown_symbol_is_one_error():
    calls: list[str] = []
    mapped = run_resolve(["fetch-ai"], flags={"fet/usdt": "fetch-ai"}, tickers=tickers_of({}, calls))
    assert [(m.coin_id, m.symbol, m.exchange_symbol, m.mapped_by) for m in mapped.markets] == [("fetch-ai", "FET/USDT", "FETUSDT", "flag")]
    assert calls == []  # a flagged coin costs no tickers call
    with pytest.raises(InputError, match="FETUSDX is not a market on binance"):
        run_resolve([], flags={"FETUSDX": "fetch-ai"})


def test_quote_preference_usdt_then_usdc_then_usd_and_never_btc():
    assert QUOTE_PREFERENCE == ("USDT", "USDC", "USD")
    owners = {"fet": ["fetch-ai"], "near": ["near"], "grt": ["the-graph"], "tao": ["bittensor"]}
    symbols = {"fetch-ai": "fet", "near": "near", "the-graph": "grt", "bittensor": "tao"}
    mapped = run_resolve(["fetch-ai", "near", "the-graph", "bittensor"], symbols=symbols, owners=owners)
    assert {m.coin_id: m.symbol for m in mapped.markets} == {"fetch-ai": "FET/USDT", "near": "NEAR/USDC", "bittensor": "TAO/USD"}
    assert {m.mapped_by for m in mapped.markets} == {"exchange-list"}
    assert list(mapped.unmapped) == ["the-graph"]  # only a BTC market


def test_an_ambiguous_symbol_is_never_guessed_from_the_exchange_list():
    owners = {"ai": ["sleepless-ai", "any-inu-ai"]}
    mapped = run_resolve(["sleepless-ai"], symbols={"sleepless-ai": "ai"}, owners=owners)
    assert mapped.markets == [] and "sleepless-ai" in mapped.unmapped
    # CoinGecko's tickers settle it.
    calls: list[str] = []
    mapped = run_resolve(["sleepless-ai"], symbols={"sleepless-ai": "ai"}, owners=owners,
                         tickers=tickers_of({"sleepless-ai": [("AI", "USDT", False)]}, calls))
    assert [(m.symbol, m.mapped_by) for m in mapped.markets] == [("AI/USDT", "coingecko-tickers")] and calls == ["sleepless-ai"]


def test_a_renamed_market_keeps_both_under_one_coin_the_old_one_first():
    calls: list[str] = []
    tickers = tickers_of({"render-token": [("RENDER", "USDT", False), ("RENDER", "BTC", False), ("RNDR", "USDT", True)]}, calls)
    mapped = run_resolve(["render-token"], symbols={"render-token": "render"}, tickers=tickers)
    assert [(m.coin_id, m.symbol, m.active) for m in mapped.markets] == [("render-token", "RNDR/USDT", False),
                                                                         ("render-token", "RENDER/USDT", True)]
    # By flags, the same.
    flagged = run_resolve([], flags={"RNDRUSDT": "render-token", "RENDERUSDT": "render-token"})
    assert {m.symbol for m in flagged.markets} == {"RNDR/USDT", "RENDER/USDT"}


def test_a_coin_whose_symbol_the_exchange_does_not_list_costs_no_tickers_call():
    calls: list[str] = []
    mapped = run_resolve(["akash-network"], symbols={"akash-network": "akt"}, tickers=tickers_of({}, calls))
    assert calls == [] and list(mapped.unmapped) == ["akash-network"]


def test_a_stored_mapping_is_reused_without_calls():
    stored = pd.DataFrame([{"coin_id": "fetch-ai", "exchange": "binance", "symbol": "FET/USDT", "exchange_symbol": "FETUSDT",
                            "base": "FET", "quote": "USDT", "mapped_by": "coingecko-tickers", "active": True,
                            "first_seen": None, "last_seen": None, "updated_at": datetime(2024, 1, 1)}])
    calls: list[str] = []
    mapped = run_resolve(["fetch-ai"], symbols={"fetch-ai": "fet"}, tickers=tickers_of({}, calls), stored=stored)
    assert [(m.symbol, m.mapped_by) for m in mapped.markets] == [("FET/USDT", "coingecko-tickers")] and calls == []


NOW = datetime(2024, 6, 1, 12, 30)


def test_windows_first_run_top_up_backfill_and_nothing_to_do():
    since, until = datetime(2023, 8, 1), datetime(2024, 4, 1)
    assert plan_windows(Coverage(), since, until) == [Window(since, until, False)]
    assert plan_windows(Coverage(), None, NOW) == [Window(None, NOW, False)]
    stored = Coverage(datetime(2023, 8, 1), datetime(2024, 4, 1), from_listing=False)
    assert plan_windows(stored, since, until) == []  # the same request again: no call at all
    assert plan_windows(stored, since, NOW) == [Window(datetime(2024, 4, 1), NOW, False)]
    assert plan_windows(stored, datetime(2023, 6, 1), until) == [Window(datetime(2023, 6, 1), datetime(2023, 8, 1), True)]
    assert plan_windows(stored, None, until) == [Window(None, datetime(2023, 8, 1), True)]
    listed = Coverage(datetime(2021, 1, 1), datetime(2024, 4, 1), from_listing=True)
    assert plan_windows(listed, None, NOW) == [Window(datetime(2024, 4, 1), NOW, False)]


def test_rows_are_stored_at_the_close_instant_and_unclosed_candles_are_dropped():
    opens = pd.date_range("2024-05-30", periods=3, freq="D")
    page = pd.DataFrame({"open_time": opens, "open": 1.0, "high": 2.0, "low": 0.5, "close": [1.1, 1.2, 1.3], "volume": 10.0,
                         "quote_volume": [11.0, 12.0, 13.0]})
    closed = closed_candles(page, "1d", Window(None, None, False), NOW)
    assert list(closed["close"]) == [1.1, 1.2]  # 2024-06-01's candle is still open at NOW
    rows = price_rows(closed, "fetch-ai", "USDT", "1d", "binance", NOW)
    assert list(rows["ts"]) == [pd.Timestamp("2024-05-31"), pd.Timestamp("2024-06-01")]
    assert set(rows["vs_currency"]) == {"usdt"} and set(rows["source"]) == {"binance"} and set(rows["granularity"]) == {"daily"}
    assert rows["market_cap"].isna().all() and list(rows["total_volume"]) == [11.0, 12.0] and not rows["is_partial"].any()
    window = closed_candles(page, "1d", Window(datetime(2024, 5, 31), datetime(2024, 6, 1), False), NOW + timedelta(days=5))
    assert list(window["close"]) == [1.2]


def test_coin_markets_upsert_keeps_one_row_per_market_and_widens_first_and_last_seen(tmp_path):
    db = storage.open_database(tmp_path / "t.duckdb", create=True)

    def row(first, last, active=True, coin="render-token"):
        return {"coin_id": coin, "exchange": "binance", "symbol": "RNDR/USDT", "exchange_symbol": "RNDRUSDT", "base": "RNDR",
                "quote": "USDT", "mapped_by": "flag", "active": active, "first_seen": first, "last_seen": last,
                "updated_at": NOW}

    frame = pd.DataFrame([row(datetime(2021, 1, 2), datetime(2024, 7, 1))])
    with db.transaction() as con:
        assert storage.upsert_coin_markets(con, frame) == 1
    later = pd.DataFrame([row(datetime(2023, 1, 1), datetime(2024, 7, 20), active=False)])
    earlier = pd.DataFrame([row(datetime(2020, 6, 1), datetime(2022, 1, 1))]).astype({"first_seen": "datetime64[us]"})
    none = pd.DataFrame([row(pd.NaT, pd.NaT, active=False)]).astype({"first_seen": "datetime64[us]", "last_seen": "datetime64[us]"})
    with db.transaction() as con:
        for frame in (later, earlier, none):
            storage.upsert_coin_markets(con, frame)
    stored = storage.coin_markets(db, "binance")
    assert len(stored) == 1
    got = stored.iloc[0]
    assert (got["first_seen"], got["last_seen"]) == (pd.Timestamp("2020-06-01"), pd.Timestamp("2024-07-20"))
    assert not bool(got["active"])  # the newest look wins for everything but the span
