"""Candle ingest benchmark: `tracker ingest candles`' service against a naive one-call-per-day loop.

Run from the project root::

    python bench/bench_candles.py            # about 15 s on 2 cores

Both run in this process against the same fake exchange on 127.0.0.1 (synthetic Binance
markets, clock frozen at 2024-09-02 12:30), with ccxt's own call spacing off, each into a fresh
database through the one batch writer:

- **service**: :func:`tracker.ingest.candles.fetch_candles` for 5 markets (BTC, ETH, FET, NEAR,
  WLD against USDT), daily candles from each market's first one (2021-01-01; WLD 2023-07-24):
  one call per 1,000 candles, one batch per market.
- **naive**: for each day, one call asking for that day's candle, as a loop over dates would,
  then one batch per market (the same writes as the service, so the difference is the calls).
  It is timed on the first ``--naive-days`` days of two markets and its rate compared.

Both stores are checked against each other (the naive days' closes equal the service's).
Against the real Binance, ccxt also spaces calls by their weight, so the calls saved count for
more than here. Prints a JSON summary; `docs/benchmarks.md` records the figures.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import storage  # noqa: E402
from tracker.config import TrackingConfig  # noqa: E402
from tracker.ingest import Batch, drive, write_batch  # noqa: E402
from tracker.ingest.candles import CandlesRequest, fetch_candles, read_candles_state  # noqa: E402
from tracker.ingest.candles_plan import price_rows  # noqa: E402
from tracker.ingest.runs import RunRecord  # noqa: E402
from tracker.sources.exchange import ExchangeClient  # noqa: E402
from tracker.sources.fakeexchange import FakeExchange  # noqa: E402

NOW = datetime(2024, 9, 2, 12, 30)
MARKETS = {"BTCUSDT": "bitcoin", "ETHUSDT": "ethereum", "FETUSDT": "fetch-ai", "NEARUSDT": "near", "WLDUSDT": "worldcoin-wld"}
TRACKING = TrackingConfig(vs_currency="usd", categories=(), benchmarks=(), history_days=365)


def client(fake: FakeExchange) -> ExchangeClient:
    return ExchangeClient("binance", base_url=fake.base_url, enable_rate_limit=False, timeout_seconds=30)


def service(fake: FakeExchange, folder: Path) -> dict:
    db = storage.open_database(folder / "service.duckdb", create=True)
    with client(fake) as exchange:
        state = read_candles_state(db, TRACKING, exchange="binance", markets=[f"{s}={c}" for s, c in MARKETS.items()])
        started = time.perf_counter()
        run = drive(db, fetch_candles(exchange, None, state, CandlesRequest(interval="1d"), now=NOW))
        seconds = time.perf_counter() - started
        calls = exchange.calls
    candles = int(storage.query(db, "SELECT count(*) AS n FROM price_history")["n"][0])
    assert run.status == "ok" and run.rows == candles
    return {"seconds": round(seconds, 3), "candles": candles, "calls": calls,
            "candle_calls_per_market": round((calls - 1) / len(MARKETS), 2), "candles_per_second": round(candles / seconds, 1)}


def naive(fake: FakeExchange, folder: Path, days: int) -> dict:
    """One call per market and day; one written batch per market (as the service writes)."""
    db = storage.open_database(folder / "naive.duckdb", create=True)
    run = RunRecord(job="candles")
    stored = calls = 0
    with client(fake) as exchange:
        exchange.markets()
        started = time.perf_counter()
        for symbol, coin in list(MARKETS.items())[:2]:
            unified = symbol.replace("USDT", "/USDT")
            day, frames = datetime(2021, 1, 1), []
            for _ in range(days):
                before = exchange.calls
                frames += list(exchange.fetch_candles(unified, "1d", since=day, until=day))
                calls += exchange.calls - before
                day += timedelta(days=1)
            rows = price_rows(pd.concat(frames, ignore_index=True), coin, "USDT", "1d", "binance", NOW)
            stored += write_batch(db, Batch(job="candles", run=run, frames={"price_history": rows}, final=False)).rows
        seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "candles": stored, "calls": calls, "candle_calls_per_market": days,
            "candles_per_second": round(stored / seconds, 1), "db": str(folder / "naive.duckdb")}


def same_closes(folder: Path) -> bool:
    a = storage.query(storage.Database(folder / "naive.duckdb"), "SELECT coin_id, ts, price FROM price_history ORDER BY ALL")
    b = storage.query(storage.Database(folder / "service.duckdb"),
                      "SELECT coin_id, ts, price FROM price_history WHERE ts <= ? AND list_contains(?, coin_id) ORDER BY ALL",
                      [a["ts"].max(), list(a["coin_id"].unique())])
    return len(a) > 0 and a.equals(b)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive-days", type=int, default=60, help="days of the naive loop per market (default 60)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-candles-") as tmp, FakeExchange(now=NOW) as fake:
        folder = Path(tmp)
        ours = service(fake, folder)
        loop = naive(fake, folder, args.naive_days)
        checked = same_closes(folder)
    loop.pop("db")
    loop_calls_per_market = (ours["candles"] / len(MARKETS))  # one call per candle
    summary = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "service": ours,
        "naive": loop,
        "naive_calls_per_market_for_the_same_candles": round(loop_calls_per_market, 1),
        "calls_ratio": round(loop_calls_per_market / ours["candle_calls_per_market"], 1),
        "speed_ratio": round(ours["candles_per_second"] / loop["candles_per_second"], 1),
        "closes_agree": checked,
    }
    print(json.dumps(summary, indent=2))
    return 0 if checked else 1


if __name__ == "__main__":
    sys.exit(main())
