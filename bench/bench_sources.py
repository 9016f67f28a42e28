"""One source per coin: what choosing each coin's source costs a daily-closes read.

Run from the project root::

    python bench/bench_sources.py            # a few seconds

A temporary database holds two years of daily closes for 300 coins from CoinGecko, and for the
first 100 of them Binance USDT candles too (so those coins have two candidate sources).

* One source per coin: ``panels.daily_closes`` for every coin (the coverage of each source per
  coin, the choice, then the chosen source's closes).
* Baseline: the ``daily_prices`` view read as before issue 15 (``storage.closes_long``, which
  mixes sources per day by rank), pivoted the same way. It answers a different, cheaper
  question; the ratio is the price of never mixing sources.
"""
from __future__ import annotations

import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

import storage
from tracker.analysis import panels

COINS, DUAL, DAYS = 300, 100, 730


def _rows(coins, days, source, vs, seed):
    rng = np.random.default_rng(seed)
    ts = np.tile(days + pd.Timedelta(days=1), len(coins))
    return pd.DataFrame({
        "coin_id": np.repeat(coins, len(days)), "vs_currency": vs, "ts": ts,
        "price": np.exp(rng.normal(0, 0.03, len(ts)).cumsum() % 5), "market_cap": None, "total_volume": None,
        "granularity": "daily", "is_partial": False, "source": source, "ingested_at": datetime(2025, 1, 1),
    })


def _best(func, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = storage.open_database(Path(folder) / "bench.duckdb", create=True)
        days = pd.date_range("2023-01-01", periods=DAYS, freq="D")
        coins = [f"coin-{i:03d}" for i in range(COINS)]
        with db.transaction() as con:
            storage.upsert(con, "price_history", _rows(coins, days, "coingecko", "usd", 1))
            storage.upsert(con, "price_history", _rows(coins[:DUAL], days, "binance", "usdt", 2))
        start, end = days[0].to_pydatetime(), days[-1].to_pydatetime()
        chosen, frame = _best(lambda: panels.daily_closes(db, coins, start, end))
        naive, base = _best(lambda: storage.closes_long(db, "daily", "usd", coin_ids=coins, start=start, end=end,
                                                        complete_only=True).pivot(index="day", columns="coin_id", values="close"))
        assert frame.shape == base.shape, (frame.shape, base.shape)
        rows = COINS * DAYS + DUAL * DAYS
        print(f"{rows:,} price rows, {COINS} coins ({DUAL} with two sources), {DAYS} days")
        print(f"one source per coin (daily_closes): {chosen * 1000:.0f} ms")
        print(f"daily_prices view, sources mixed:  {naive * 1000:.0f} ms")
        print(f"ratio: {chosen / naive:.2f}x the view's time")


if __name__ == "__main__":
    main()
