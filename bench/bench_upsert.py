"""Bulk upsert benchmark: 1M price rows into a 5M-row ``price_history`` through ``storage.upsert``.

Run from the project root::

    python bench/bench_upsert.py            # about 30 s on 2 cores

The target is a migrated tracker database whose ``price_history`` holds 5M rows (500 coins x
10,000 hourly points). The batch is 1M rows, half replacing existing keys (new prices for each
coin's last 1,000 hours) and half new keys (the next 1,000 hours), shuffled, as
``storage.upsert`` receives them from ingestion: one call inside ``Database.transaction()``,
commit included. Each repeat runs on a fresh copy of the same file; the median is reported.

The baseline is the row-by-row way: ``executemany`` of one DELETE per key and then one INSERT
per row, in one transaction, on a fresh copy. It runs at a few thousand rows per second, so it
is timed on a subset (20k rows by default, half updates and half new) and its rate is
extrapolated to the full batch; the output says so. Both results are checked: row counts, no
duplicate keys, and the new prices in place.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

import storage

COLUMNS = ["coin_id", "vs_currency", "ts", "price", "market_cap", "total_volume", "granularity", "is_partial", "source", "ingested_at"]
KEY = ("coin_id", "vs_currency", "source", "ts")
START = np.datetime64("2023-01-01T00:00:00", "us")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def price_rows(coins: int, first_hour: int, hours: int, seed: int) -> pa.Table:
    """``hours`` hourly rows per coin from ``first_hour`` on, with random prices."""
    rng = np.random.default_rng(seed)
    n = coins * hours
    coin_ids = np.repeat(np.array([f"coin-{i:04d}" for i in range(coins)], dtype=object), hours)
    offsets = np.tile(np.arange(first_hour, first_hour + hours, dtype=np.int64), coins)
    return pa.table({
        "coin_id": pa.array(coin_ids, pa.string()),
        "vs_currency": pa.array(np.full(n, "usd", dtype=object), pa.string()),
        "ts": pa.array(START + offsets.astype("timedelta64[h]")),
        "price": rng.uniform(0.01, 100.0, n),
        "market_cap": rng.uniform(1e6, 1e10, n),
        "total_volume": rng.uniform(1e4, 1e8, n),
        "granularity": pa.array(np.full(n, "hourly", dtype=object), pa.string()),
        "is_partial": np.zeros(n, dtype=bool),
        "source": pa.array(np.full(n, "coingecko", dtype=object), pa.string()),
        "ingested_at": pa.array(np.full(n, np.datetime64("2024-06-01T00:00:00", "us"))),
    })


def build_base(path: Path, coins: int, hours: int) -> None:
    db = storage.open_database(path, create=True)
    table = price_rows(coins, 0, hours, seed=1)
    with db.transaction() as con:
        con.register("base_rows", table)
        con.execute("INSERT INTO price_history BY NAME SELECT * FROM base_rows")
        con.unregister("base_rows")
    with db.connect() as con:
        con.execute("CHECKPOINT")


def incoming_batch(coins: int, hours: int, batch_hours: int) -> tuple[pa.Table, np.ndarray]:
    """Half updates (each coin's last ``batch_hours`` hours), half new (the next ones), shuffled."""
    updates = price_rows(coins, hours - batch_hours, batch_hours, seed=2)
    new = price_rows(coins, hours, batch_hours, seed=3)
    batch = pa.concat_tables([updates, new])
    is_update = np.concatenate([np.ones(updates.num_rows, bool), np.zeros(new.num_rows, bool)])
    order = np.random.default_rng(4).permutation(batch.num_rows)
    return batch.take(order), is_update[order]


def fresh_copy(base: Path, workdir: Path) -> storage.Database:
    target = workdir / "run.duckdb"
    for stale in workdir.glob("run.duckdb*"):
        stale.unlink()
    shutil.copyfile(base, target)
    return storage.Database(target)


def check(db: storage.Database, expected_rows: int, batch: pa.Table, sample: int = 1000) -> None:
    """Row count, unique keys, and a sample of the batch's prices are in the table."""
    with db.connect(read_only=True) as con:
        count, distinct = con.execute(
            "SELECT count(*), count(DISTINCT (coin_id, vs_currency, source, ts)) FROM price_history"
        ).fetchall()[0]
        assert count == expected_rows, f"{count} rows, expected {expected_rows}"
        assert distinct == count, f"{count - distinct} duplicate keys"
        probe = batch.slice(0, sample)
        con.register("probe", probe)
        mismatched = con.execute(
            "SELECT count(*) FROM probe b LEFT JOIN price_history p USING (coin_id, vs_currency, source, ts) "
            "WHERE p.price IS DISTINCT FROM b.price"
        ).fetchall()[0][0]
        con.unregister("probe")
        assert mismatched == 0, f"{mismatched} of {sample} sampled rows do not have the batch's price"


def time_upsert(base: Path, workdir: Path, batch: pa.Table, expected_rows: int) -> tuple[float, storage.UpsertResult]:
    db = fresh_copy(base, workdir)
    started = time.perf_counter()
    with db.transaction() as con:
        result = storage.upsert(con, "price_history", batch)
    elapsed = time.perf_counter() - started
    check(db, expected_rows, batch)
    return elapsed, result


def time_executemany(base: Path, workdir: Path, subset: pa.Table, expected_rows: int) -> float:
    """The naive way: one DELETE per key, then one INSERT per row, via executemany, one transaction."""
    db = fresh_copy(base, workdir)
    records = subset.select(COLUMNS).to_pylist()
    rows = [tuple(r[c] for c in COLUMNS) for r in records]
    keys = [tuple(r[k] for k in KEY) for r in records]
    delete = "DELETE FROM price_history WHERE coin_id = ? AND vs_currency = ? AND source = ? AND ts = ?"
    insert = f"INSERT INTO price_history ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    with db.transaction() as con:
        con.executemany(delete, keys)
        con.executemany(insert, rows)
    elapsed = time.perf_counter() - started
    check(db, expected_rows, subset)
    return elapsed


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB"
    except (ValueError, OSError, AttributeError):
        memory = "? GiB"
    return (f"{os.cpu_count()} cores ({cpu}), {memory}, Python {platform.python_version()}, "
            f"duckdb {duckdb.__version__}, pyarrow {pa.__version__}, {platform.system()}")


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except (OSError, AttributeError):
        return float("nan")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coins", type=int, default=500, help="coins in the table (default 500)")
    parser.add_argument("--hours", type=int, default=10_000, help="hourly rows per coin already stored (default 10,000: 5M rows)")
    parser.add_argument("--batch-hours", type=int, default=1_000,
                        help="per coin: this many updated and this many new hours (default 1,000: a 1M-row batch)")
    parser.add_argument("--baseline-rows", type=int, default=20_000, help="rows the executemany baseline is timed on (default 20,000)")
    parser.add_argument("--repeats", type=int, default=3, help="upsert repeats, each on a fresh copy (default 3)")
    parser.add_argument("--workdir", type=Path, help="folder for the database files (default: a temporary folder, removed after)")
    args = parser.parse_args(argv)
    if args.batch_hours > args.hours or min(args.coins, args.hours, args.batch_hours, args.baseline_rows, args.repeats) < 1:
        parser.error("sizes must be positive and --batch-hours at most --hours")

    base_rows = args.coins * args.hours
    load_before = _load()
    tmp = tempfile.TemporaryDirectory(prefix="bench_upsert_") if args.workdir is None else None
    workdir = Path(tmp.name) if tmp else args.workdir
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        base = workdir / "base.duckdb"
        log(f"building price_history with {base_rows:,} rows in {base} ...")
        started = time.perf_counter()
        build_base(base, args.coins, args.hours)
        log(f"  built in {time.perf_counter() - started:.1f} s ({base.stat().st_size / 2**20:.0f} MiB)")

        batch, is_update = incoming_batch(args.coins, args.hours, args.batch_hours)
        n, updates = batch.num_rows, int(is_update.sum())
        expected = base_rows + (n - updates)
        timings = []
        for i in range(args.repeats):
            log(f"storage.upsert of {n:,} rows, run {i + 1}/{args.repeats} ...")
            elapsed, result = time_upsert(base, workdir, batch, expected)
            assert (result.written, result.replaced) == (n, updates), result
            timings.append(elapsed)
            log(f"  {elapsed:.2f} s ({n / elapsed:,.0f} rows/s)")
        upsert_seconds = statistics.median(timings)
        upsert_rate = n / upsert_seconds

        # the baseline subset: half updates, half new keys, in the batch's (shuffled) order
        half = args.baseline_rows // 2
        picks = np.sort(np.concatenate([np.flatnonzero(is_update)[:half], np.flatnonzero(~is_update)[: args.baseline_rows - half]]))
        subset = batch.take(picks)
        log(f"row-by-row executemany baseline on {subset.num_rows:,} rows ...")
        baseline_seconds = time_executemany(base, workdir, subset, base_rows + (subset.num_rows - half))
        baseline_rate = subset.num_rows / baseline_seconds
        log(f"  {baseline_seconds:.2f} s ({baseline_rate:,.0f} rows/s)")
    finally:
        if tmp:
            tmp.cleanup()

    print(f"machine: {machine()}; load average before/after: {load_before:.2f}/{_load():.2f} "
          f"(other processes on the machine slow every figure)")
    print(f"table: price_history with {base_rows:,} rows; batch: {n:,} rows ({updates:,} updates of existing keys, "
          f"{n - updates:,} new), shuffled")
    print(f"storage.upsert:           {upsert_rate:>12,.0f} rows/s  (median of {args.repeats}: "
          f"{', '.join(f'{t:.2f}' for t in timings)} s for {n:,} rows, commit included; best "
          f"{n / min(timings):,.0f} rows/s)")
    print(f"executemany, row by row:  {baseline_rate:>12,.0f} rows/s  (timed on {subset.num_rows:,} rows in "
          f"{baseline_seconds:.1f} s; {n:,} rows extrapolated: {n / baseline_rate / 60:,.0f} min)")
    print(f"ratio: {upsert_rate / baseline_rate:,.0f}x faster; target 500,000 rows/s: "
          f"{'met' if upsert_rate >= 500_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
