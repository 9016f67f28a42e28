"""SQL cookbook benchmark: every query in docs/sql.md on a big synthetic history, against naive baselines.

Run from the project root::

    python bench/bench_sql.py              # about 2 minutes on 2 cores

The database is a migrated tracker file in a temporary folder holding:

* daily history for 1,000 coins over 10 years (3.65M rows, CoinGecko-style: each day's close
  stamped at the next midnight), with about 0.5% of the days missing at random;
* hourly history for 500 coins over 90 days around the Sora demo (1.08M rows);
* the 'artificial-intelligence' category with 150 members that join and leave over time,
  hourly category snapshots for two years, a day of 10-minute market snapshots for every coin,
  and the packaged events calendar.

The coin ids include the ones the cookbook names (bitcoin, fetch-ai, ...), so every query
answers something. Each cookbook query is read from docs/sql.md and timed on one read-only
connection: one warm-up, then the median of ``--repeat`` runs.

Baselines, in the same run, answer some of the same questions the naive way: load the rows
the question needs into pandas (one SELECT on the raw table) and compute there. Their answers
are checked against the SQL ones, and the ratio (baseline / SQL wall time) is printed. Each
query's CPU time (all threads) is printed beside its wall time: on a shared machine the wall
time grows with other people's load, the CPU time much less. A last line compares the
``daily_prices`` view with its first definition (a window over sources instead of one keyed
aggregate) on a full scan, and the last times `tracker export parquet` for price_history against
pandas writing the same month partitions with pyarrow.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import storage  # noqa: E402
from tests.sqlcookbook import cookbook_queries  # noqa: E402
from tracker.analysis.events import seed_events  # noqa: E402

AI = "artificial-intelligence"
NAMED = ["bitcoin", "ethereum", "fetch-ai", "render-token", "singularitynet", "ocean-protocol", "worldcoin-wld", "bittensor"]
LAST_DAY = np.datetime64("2025-04-30")
SORA = datetime(2024, 2, 15, 18)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# The synthetic database


def coin_ids(n: int) -> list[str]:
    return (NAMED + [f"coin-{i:04d}" for i in range(len(NAMED), max(n, len(NAMED)))])[:n]


def daily_paths(n_coins: int, days: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each coin's close per day (a seeded random walk) and its circulating supply."""
    steps = rng.normal(0.0003, 0.04, (n_coins, days))
    prices = np.exp(np.cumsum(steps, axis=1)) * rng.uniform(0.05, 500.0, (n_coins, 1))
    return prices, rng.uniform(1e6, 1e9, (n_coins, 1))


def _price_table(coin_ids: np.ndarray, stamps: np.ndarray, prices: np.ndarray, caps: np.ndarray, granularity: str) -> pa.Table:
    n = len(coin_ids)
    return pa.table({
        "coin_id": pa.array(coin_ids, pa.string()),
        "vs_currency": pa.array(np.full(n, "usd", dtype=object), pa.string()),
        "ts": pa.array(stamps.astype("datetime64[us]")),
        "price": prices,
        "market_cap": caps,
        "total_volume": caps * 0.05,
        "granularity": pa.array(np.full(n, granularity, dtype=object), pa.string()),
        "is_partial": np.zeros(n, dtype=bool),
        "source": pa.array(np.full(n, "coingecko", dtype=object), pa.string()),
        "ingested_at": pa.array(np.full(n, np.datetime64("2025-05-02T00:00:00", "us"))),
    })


def history_table(ids: list[str], prices: np.ndarray, supply: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """CoinGecko-style daily points (the close of day d stamped d+1 00:00), ~0.5% of days missing."""
    days = prices.shape[1]
    first = LAST_DAY - np.timedelta64(days - 1, "D")
    keep = rng.random(prices.shape) > 0.005
    keep[:, :2] = True
    coin_index, day_index = np.nonzero(keep)
    stamps = first + (day_index + 1).astype("timedelta64[D]")
    return _price_table(np.array(ids, dtype=object)[coin_index], stamps, prices[coin_index, day_index],
                        (prices * supply)[coin_index, day_index], "daily")


def hourly_table(ids: list[str], prices: np.ndarray, supply: np.ndarray, hourly_days: int,
                 rng: np.random.Generator) -> pa.Table:
    """Hourly points from 2024-01-01 (stamped HH:00:07) that pass through the daily closes."""
    days = prices.shape[1]
    first = LAST_DAY - np.timedelta64(days - 1, "D")
    start_index = int((np.datetime64("2024-01-01") - first).astype(int))
    n_coins = len(ids)
    previous = np.log(prices[:n_coins, start_index - 1:start_index - 1 + hourly_days])   # close of d-1
    current = np.log(prices[:n_coins, start_index:start_index + hourly_days])            # close of d
    weight = np.arange(1, 25) / 24
    noise = np.cumsum(rng.normal(0, 0.004, (n_coins, hourly_days, 24)), axis=2)
    bridge = noise - weight * noise[:, :, -1:]                                           # 0 at both ends
    log_prices = previous[:, :, None] + weight * (current - previous)[:, :, None] + bridge
    hourly = np.exp(log_prices).reshape(n_coins, -1)
    offsets = np.arange(1, hourly_days * 24 + 1).astype("timedelta64[h]")
    stamps = np.datetime64("2024-01-01T00:00:07") + offsets
    return _price_table(np.repeat(np.array(ids, dtype=object), hourly.shape[1]), np.tile(stamps, n_coins),
                        hourly.ravel(), (hourly * supply[:n_coins]).ravel(), "hourly")


def membership(ids: list[str], members: int, days: int, rng: np.random.Generator) -> pd.DataFrame:
    first = pd.Timestamp(LAST_DAY) - pd.Timedelta(days=days - 1)
    ai = [c for c in ids if c not in ("bitcoin", "ethereum")][:members]
    rows = []
    for i, coin in enumerate(ai):
        start = first - pd.Timedelta(days=30)
        if i >= len(NAMED) and i % 3 == 0:   # a third of the others join later, some leave again
            start = first + pd.Timedelta(days=int(rng.integers(0, days)))
        end = None
        if i >= len(NAMED) and i % 7 == 0:
            end = start + pd.Timedelta(days=int(rng.integers(30, 900)))
        rows.append({"category_id": AI, "coin_id": coin, "valid_from": start, "valid_to": end, "source": "bench"})
    for coin in ("bitcoin", "ethereum"):
        rows.append({"category_id": "layer-1", "coin_id": coin, "valid_from": first, "valid_to": None, "source": "bench"})
    return pd.DataFrame(rows)


def build_database(path: Path, coins: int, days: int, hourly_coins: int, hourly_days: int, members: int) -> storage.Database:
    rng = np.random.default_rng(5)
    ids = coin_ids(coins)
    db = storage.open_database(path, create=True)
    started = time.perf_counter()
    prices, supply = daily_paths(len(ids), days, rng)
    daily = history_table(ids, prices, supply, rng)
    hourly = hourly_table(ids[:hourly_coins], prices, supply, hourly_days, rng)
    # A day of 10-minute market snapshots after the history ends, near the last closes.
    snapshot_times = pd.date_range("2025-05-01 00:10", periods=144, freq="10min")
    snapshot_prices = np.repeat(prices[:, -1], len(snapshot_times)) * (1 + rng.normal(0, 0.002, len(ids) * 144))
    snaps = pd.DataFrame({
        "coin_id": np.repeat(ids, len(snapshot_times)),
        "vs_currency": "usd",
        "observed_at": np.tile(snapshot_times.values, len(ids)),
        "price": snapshot_prices,
        "market_cap": snapshot_prices * np.repeat(supply[:, 0], len(snapshot_times)),
        "market_cap_rank": np.tile(np.arange(1, len(ids) + 1), len(snapshot_times)).astype("int32"),
        "source": "coingecko",
    })
    category_times = pd.date_range(pd.Timestamp(LAST_DAY) - pd.Timedelta(days=730), pd.Timestamp(LAST_DAY), freq="1h")
    category = pd.DataFrame({
        "category_id": AI, "observed_at": category_times,
        "market_cap": 2.5e10 * np.exp(np.cumsum(rng.normal(0, 0.004, len(category_times)))), "source": "coingecko",
    })
    with db.transaction() as con:
        for name, table in (("price_history", daily), ("price_history", hourly)):
            con.register("bench_rows", table)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM bench_rows")
            con.unregister("bench_rows")
        storage.upsert(con, "market_snapshots", snaps)
        storage.upsert(con, "category_snapshots", category)
        storage.upsert(con, "category_members", membership(ids, members, days, rng))
        storage.upsert(con, "coins", pd.DataFrame({"coin_id": ids, "symbol": [c[:4] for c in ids], "name": ids,
                                                   "active": True, "updated_at": datetime(2025, 5, 1)}))
    seed_events(db)
    with db.connect() as con:
        con.execute("CHECKPOINT")
        total = con.execute("SELECT count(*) FROM price_history").fetchall()[0][0]
    log(f"built {total:,} price rows ({daily.num_rows:,} daily, {hourly.num_rows:,} hourly) "
        f"in {time.perf_counter() - started:.1f}s, file {path.stat().st_size / 2**20:.0f} MiB")
    return db


# ---------------------------------------------------------------------------------------------
# Naive baselines: the rows into pandas, the answer computed there


def _closes(frame: pd.DataFrame) -> pd.DataFrame:
    """Daily closes per coin from raw points (last observation of the UTC day, 5-minute jitter)."""
    frame = frame.assign(day=(frame["ts"] - pd.Timedelta(minutes=5)).dt.floor("D"))
    frame = frame.sort_values(["coin_id", "day", "ts"])
    # the whole last row (groupby.last() would fill a missing cap from an earlier row)
    return frame.groupby(["coin_id", "day"], sort=False).tail(1).reset_index(drop=True)


def _members(con, at: pd.Timestamp | None = None) -> pd.DataFrame:
    frame = con.execute("SELECT coin_id, valid_from, valid_to FROM category_members WHERE category_id = ?", [AI]).df()
    if at is None:
        return frame
    alive = (frame["valid_from"] <= at) & (frame["valid_to"].isna() | (frame["valid_to"] > at))
    return frame[alive]


def baseline_top_after_sora(con) -> pd.DataFrame:
    coins = _members(con, pd.Timestamp(SORA))["coin_id"].unique().tolist()
    raw = con.execute("SELECT coin_id, ts, price FROM price_history WHERE vs_currency = 'usd' "
                      "AND list_contains(?, coin_id)", [coins]).df()
    closes = _closes(raw).pivot(index="day", columns="coin_id", values="price")
    day0 = pd.Timestamp(SORA).floor("D")
    change = closes.loc[day0 + pd.Timedelta(days=7)] / closes.loc[day0 - pd.Timedelta(days=1)] - 1
    return (100 * change).round(1).dropna().sort_values(ascending=False).rename("pct_7d").reset_index()


def baseline_rolling_correlation(con) -> pd.DataFrame:
    raw = con.execute("SELECT coin_id, ts, price FROM price_history WHERE vs_currency = 'usd' "
                      "AND coin_id IN ('fetch-ai', 'bitcoin')").df()
    closes = _closes(raw).pivot(index="day", columns="coin_id", values="price")
    closes = closes.reindex(pd.date_range(closes.index.min(), closes.index.max(), freq="D"))
    logs = np.log(closes / closes.shift(1))
    corr = logs["fetch-ai"].rolling(30, min_periods=2).corr(logs["bitcoin"])
    both = closes.dropna(how="any").index
    month_ends = corr[corr.index.is_month_end & corr.index.isin(both)]
    return month_ends.round(3).rename("corr_30d").rename_axis("day").reset_index()


def _index_frame(con) -> tuple[pd.DataFrame, pd.DataFrame]:
    members = _members(con)
    raw = con.execute("SELECT coin_id, ts, price, market_cap FROM price_history WHERE vs_currency = 'usd' "
                      "AND list_contains(?, coin_id)", [members["coin_id"].unique().tolist()]).df()
    closes = _closes(raw)
    price = closes.pivot(index="day", columns="coin_id", values="price")
    calendar = pd.date_range(price.index.min(), price.index.max(), freq="D")
    price = price.reindex(calendar)
    cap = closes.pivot(index="day", columns="coin_id", values="market_cap").reindex(calendar)
    returns = price / price.shift(1) - 1            # NaN across a missing day: never a multi-day return
    member = pd.DataFrame(False, index=calendar, columns=price.columns)
    for row in members.itertuples():
        valid_to = row.valid_to if pd.notna(row.valid_to) else calendar[-1] + pd.Timedelta(days=1)
        member.loc[(calendar >= row.valid_from) & (calendar < valid_to), row.coin_id] = True
    return returns.where(member & price.notna()), cap.shift(1).where(member)


def baseline_ai_index(con) -> pd.DataFrame:
    returns, prev_cap = _index_frame(con)
    eligible = returns.notna() & prev_cap.gt(0)
    weights = prev_cap.where(eligible)
    cap_return = (returns.where(eligible) * weights).sum(axis=1) / weights.sum(axis=1)
    equal_return = returns.mean(axis=1)
    cap_return.iloc[0] = equal_return.iloc[0] = np.nan
    frame = pd.DataFrame({"cap_index": 100 * (1 + cap_return.fillna(0)).cumprod(),
                          "equal_index": 100 * (1 + equal_return.fillna(0)).cumprod()})
    return frame


def baseline_index_vs_btc(con) -> pd.DataFrame:
    index = baseline_ai_index(con)
    raw = con.execute("SELECT coin_id, ts, price FROM price_history WHERE coin_id = 'bitcoin' AND vs_currency = 'usd'").df()
    btc = _closes(raw).set_index("day")["price"]
    events = con.execute("SELECT event_id, ts FROM events ORDER BY ts").df()
    rows = []
    for event in events.itertuples():
        day0 = pd.Timestamp(event.ts).floor("D")
        before, after = day0 - pd.Timedelta(days=1), day0 + pd.Timedelta(days=7)
        if {before, after} <= set(index.index) and {before, after} <= set(btc.index):
            ai = index.loc[after, "cap_index"] / index.loc[before, "cap_index"]
            rows.append({"event_id": event.event_id, "ai_cap_pct": round(100 * (ai - 1), 1),
                         "btc_pct": round(100 * (btc[after] / btc[before] - 1), 1)})
    return pd.DataFrame(rows)


def baseline_biggest_movers(con) -> pd.DataFrame:
    returns, _ = _index_frame(con)
    stacked = returns.stack().rename("simple_return").reset_index()
    stacked.columns = ["day", "coin_id", "simple_return"]
    top = stacked.reindex(stacked["simple_return"].abs().sort_values(ascending=False).index).head(8)
    return top.assign(pct=(100 * top["simple_return"]).round(1))


def baseline_coverage(con) -> pd.DataFrame:
    coins = ["bitcoin", "fetch-ai", "worldcoin-wld", "bittensor"]
    history = con.execute("SELECT coin_id, ts, granularity FROM price_history WHERE vs_currency = 'usd' "
                          "AND list_contains(?, coin_id) AND NOT is_partial", [coins]).df()
    snapshots = con.execute("SELECT coin_id, observed_at AS ts FROM market_snapshots WHERE vs_currency = 'usd' "
                            "AND list_contains(?, coin_id)", [coins]).df()
    rows = []
    for granularity, unit, frame in (
        ("daily", "D", pd.concat([history, snapshots])),
        ("hourly", "h", pd.concat([history[history["granularity"] != "daily"], snapshots])),
    ):
        periods = frame.assign(p=(frame["ts"] - pd.Timedelta(minutes=5)).dt.floor(unit))[["coin_id", "p"]].drop_duplicates()
        for coin, group in periods.groupby("coin_id"):
            stamps = group["p"].sort_values()
            steps = stamps.diff().dropna() / pd.Timedelta(1, unit)
            expected = int((stamps.iloc[-1] - stamps.iloc[0]) / pd.Timedelta(1, unit)) + 1
            rows.append({"coin_id": coin, "granularity": granularity, "points": len(stamps),
                         "missing": expected - len(stamps), "gaps": int((steps > 1).sum())})
    return pd.DataFrame(rows).sort_values(["granularity", "coin_id"]).reset_index(drop=True)


def _check_top(sql: pd.DataFrame, naive: pd.DataFrame) -> None:
    ours = sql.set_index("coin_id")["pct_7d"].sort_index()
    theirs = naive.set_index("coin_id")["pct_7d"].sort_index()
    assert ours.index.tolist() == theirs.index.tolist() and np.allclose(ours, theirs)
    assert sql["pct_7d"].is_monotonic_decreasing


def _check_correlation(sql: pd.DataFrame, naive: pd.DataFrame) -> None:
    sql = sql.assign(day=pd.to_datetime(sql["day"]))
    merged = sql.merge(naive.assign(day=pd.to_datetime(naive["day"])), on="day", suffixes=("", "_naive"))
    assert len(merged) == len(sql) == len(naive)
    assert np.allclose(merged["corr_30d"], merged["corr_30d_naive"], atol=1.01e-3, equal_nan=True)


def _check_index_vs_btc(sql: pd.DataFrame, naive: pd.DataFrame) -> None:
    merged = sql.merge(naive, on="event_id", suffixes=("", "_naive"))
    assert len(merged) == len(sql) == len(naive)
    assert np.allclose(merged["ai_cap_pct"], merged["ai_cap_pct_naive"], atol=0.11)
    assert np.allclose(merged["btc_pct"], merged["btc_pct_naive"], atol=0.11)


def _check_movers(sql: pd.DataFrame, naive: pd.DataFrame) -> None:
    assert np.allclose(sql["pct"], naive["pct"])  # the same eight moves, largest first


def _check_coverage(sql: pd.DataFrame, naive: pd.DataFrame) -> None:
    ours = sql[["coin_id", "granularity", "points", "missing", "gaps"]].reset_index(drop=True)
    assert ours.astype(str).equals(naive[ours.columns].astype(str))


BASELINES: dict[str, tuple[Callable, Callable]] = {
    "top-ai-after-sora": (baseline_top_after_sora, _check_top),
    "index-vs-btc-per-event": (baseline_index_vs_btc, _check_index_vs_btc),
    "rolling-correlation": (baseline_rolling_correlation, _check_correlation),
    "biggest-movers": (baseline_biggest_movers, _check_movers),
    "coverage": (baseline_coverage, _check_coverage),
}

FIRST_DAILY_PRICES = """
WITH history AS (
    SELECT coin_id, vs_currency, source, CAST(date_trunc('day', ts - INTERVAL 5 MINUTE) AS DATE) AS day,
           arg_max(price, ts) AS close, arg_max(market_cap, ts) AS market_cap, arg_max(total_volume, ts) AS total_volume,
           max(ts) AS close_ts, arg_max(is_partial, ts) AS last_is_partial
    FROM price_history WHERE price IS NOT NULL GROUP BY ALL
),
preferred AS (
    SELECT * FROM history
    QUALIFY row_number() OVER (PARTITION BY coin_id, vs_currency, day ORDER BY (source = 'coingecko') DESC, source) = 1
),
snapshots AS (
    SELECT coin_id, vs_currency, 'snapshot:' || arg_max(source, observed_at) AS source,
           CAST(date_trunc('day', observed_at - INTERVAL 5 MINUTE) AS DATE) AS day,
           arg_max(price, observed_at) AS close, arg_max(market_cap, observed_at) AS market_cap,
           arg_max(total_volume, observed_at) AS total_volume, max(observed_at) AS close_ts, false AS last_is_partial
    FROM market_snapshots WHERE price IS NOT NULL GROUP BY coin_id, vs_currency, day
),
combined AS (
    SELECT * FROM preferred UNION ALL BY NAME
    SELECT s.* FROM snapshots s ANTI JOIN preferred p USING (coin_id, vs_currency, day)
)
SELECT coin_id, vs_currency, day, close, market_cap, total_volume, close_ts, source FROM combined
"""


# ---------------------------------------------------------------------------------------------


def timed(function: Callable[[], object], repeat: int) -> tuple[float, object, float]:
    """Median wall seconds, the last result, and median CPU seconds (all threads of this process).

    On a shared machine wall time swells with other people's load; CPU time shows the work done.
    """
    function()  # warm-up: file pages cached, plans built
    times, cpu, result = [], [], None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(times), result, statistics.median(cpu)


def run(db: storage.Database, repeat: int) -> list[dict]:
    results = []
    with duckdb.connect(str(db.path), read_only=True, config={"storage_compatibility_version": storage.STORAGE_COMPATIBILITY}) as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        for example in cookbook_queries():
            seconds, frame, cpu = timed(lambda example=example: con.execute(example.code).df(), repeat)
            row = {"query": example.name, "rows": len(frame), "sql_ms": seconds * 1000, "cpu_ms": cpu * 1000,
                   "baseline_ms": None, "ratio": None, "checked": ""}
            if example.name in BASELINES:
                baseline, check = BASELINES[example.name]
                base_seconds, naive, _ = timed(lambda baseline=baseline: baseline(con), max(1, repeat // 2))
                check(frame, naive)
                row.update(baseline_ms=base_seconds * 1000, ratio=base_seconds / seconds, checked="same answer")
            results.append(row)
            log(f"  {example.name:28s} {seconds * 1000:8.1f} ms")
        con.execute(f"CREATE TEMP VIEW first_daily_prices AS {FIRST_DAILY_PRICES}")
        scan = "SELECT count(*), sum(close) FROM {}"
        new_seconds, new, new_cpu = timed(lambda: con.execute(scan.format("daily_prices")).fetchall(), repeat)
        old_seconds, old, _ = timed(lambda: con.execute(scan.format("first_daily_prices")).fetchall(), repeat)
        assert new[0][0] == old[0][0] and np.isclose(new[0][1], old[0][1])
        results.append({"query": "daily_prices full scan", "rows": new[0][0], "sql_ms": new_seconds * 1000,
                        "cpu_ms": new_cpu * 1000,
                        "baseline_ms": old_seconds * 1000, "ratio": old_seconds / new_seconds,
                        "checked": "same answer (baseline: first view definition)"})
    results.append(time_export(db, repeat))
    return results


def time_export(db: storage.Database, repeat: int) -> dict:
    """`tracker export parquet` for price_history against pandas + pyarrow writing the same partitions."""
    from tracker.report.parquet_export import export_parquet

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        runs = iter(range(1000))

        def ours():
            return export_parquet(db, Path(tmp) / f"ours-{next(runs)}", tables=["price_history"])

        def naive():
            with duckdb.connect(str(db.path), read_only=True) as con:
                frame = con.execute("SELECT * FROM price_history").df()
            frame["month"] = frame["ts"].dt.strftime("%Y-%m")
            target = Path(tmp) / f"naive-{next(runs)}"
            frame.to_parquet(target, partition_cols=["month"], index=False)
            return len(frame)

        seconds, result, cpu = timed(ours, max(1, repeat // 2))
        base_seconds, naive_rows, _ = timed(naive, 1)
    rows = result.tables[0].rows
    assert rows == naive_rows
    return {"query": "export parquet price_history", "rows": rows, "sql_ms": seconds * 1000, "cpu_ms": cpu * 1000,
            "baseline_ms": base_seconds * 1000, "ratio": base_seconds / seconds,
            "checked": "same rows (baseline: pandas to_parquet)"}


def report(results: list[dict], args) -> str:
    lines = [
        f"SQL cookbook on {args.coins:,} coins x {args.days:,} days daily + {args.hourly_coins:,} coins x "
        f"{args.hourly_days} days hourly; median of {args.repeat}; {platform.python_implementation()} "
        f"{platform.python_version()}, duckdb {duckdb.__version__}, {platform.machine()}",
        "",
        f"{'query':30s} {'rows':>8s} {'sql ms':>9s} {'cpu ms':>8s} {'baseline ms':>12s} {'ratio':>7s}  check",
    ]
    for r in results:
        base = f"{r['baseline_ms']:12.1f}" if r["baseline_ms"] is not None else f"{'-':>12s}"
        ratio = f"{r['ratio']:6.1f}x" if r["ratio"] is not None else f"{'-':>7s}"
        lines.append(f"{r['query']:30s} {r['rows']:8d} {r['sql_ms']:9.1f} {r['cpu_ms']:8.1f} {base} {ratio}  {r['checked']}")
    cookbook = [r for r in results if r["query"] not in {"daily_prices full scan", "export parquet price_history"}]
    lines.append("")
    lines.append(f"slowest cookbook query: {max(r['sql_ms'] for r in cookbook):.0f} ms wall; "
                 f"median {statistics.median(r['sql_ms'] for r in cookbook):.0f} ms; "
                 f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time the docs/sql.md cookbook on synthetic history.")
    parser.add_argument("--coins", type=int, default=1000)
    parser.add_argument("--days", type=int, default=3650)
    parser.add_argument("--hourly-coins", type=int, default=500)
    parser.add_argument("--hourly-days", type=int, default=90)
    parser.add_argument("--members", type=int, default=150, help="coins in the AI category")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", metavar="PATH", help="build the database here and keep it")
    args = parser.parse_args(argv)
    if args.coins < len(NAMED) or args.days < 500:
        parser.error(f"--coins must be at least {len(NAMED)} and --days at least 500 (the cookbook's events)")
    if not 1 <= args.hourly_days <= 480 or args.hourly_coins > args.coins:
        parser.error("--hourly-days must be 1..480 (hourly history starts 2024-01-01) and --hourly-coins <= --coins")
    with tempfile.TemporaryDirectory(prefix="bench-sql-") as tmp:
        path = Path(args.keep) if args.keep else Path(tmp) / "bench.duckdb"
        if path.exists():
            parser.error(f"{path} exists; give a new path to --keep")
        log(f"building {path} ...")
        db = build_database(path, args.coins, args.days, args.hourly_coins, args.hourly_days, args.members)
        log("timing the cookbook queries ...")
        results = run(db, args.repeat)
    print(report(results, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
