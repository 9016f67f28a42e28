"""Cost of the integrity checks: the quick verify before every write, and `tracker check`.

Run from the project root::

    python bench/bench_check.py             # about 30 s on 2 cores

The file is a migrated tracker database whose ``price_history`` holds 3M rows (300 coins x
10,000 hourly points, random prices, caps and volumes), plus the seeded events, checkpointed:
about 70 MB, a few years of hourly history for a few hundred coins.

Timed, each the median of ``--repeats`` runs on the same file (warm page cache, as on a
machine that just used it):

* baseline: a plain read-only ``duckdb.connect`` and close, which every command already pays;
* verify, small tables: ``storage.verify(full=False)`` (open read-only, metadata, file length
  against the blocks the tables point to, a full read of the tables up to 100,000 rows), what
  writers run before writing on a file above 256 MiB;
* verify, every block: ``storage.verify(full=True)``, what they run on a file up to 256 MiB;
* write-path open: ``storage.open_database`` (the verify for this file's size plus the schema
  check), paid once per write command;
* full check: ``storage.full_check``, i.e. `tracker check` (every block of every table read).

Then both checks are run on a copy cut to half its size and on one with bytes overwritten in a
data block, and the output says what each caught.
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

import storage
from storage import DatabaseDamagedError
from storage.integrity import FULL_VERIFY_MAX_BYTES


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(path: Path, coins: int, hours: int) -> None:
    db = storage.open_database(path, create=True)
    with db.transaction() as con:
        con.execute(
            "INSERT INTO price_history SELECT 'coin-' || lpad((i % ?)::VARCHAR, 4, '0'), 'usd', "
            "TIMESTAMP '2023-01-01' + INTERVAL (i // ?) HOUR, random() * 100, 1e6 + random() * 1e10, "
            "1e4 + random() * 1e8, 'hourly', false, 'coingecko', TIMESTAMP '2024-06-01' FROM range(?) r(i)",
            [coins, coins, coins * hours],
        )
        con.execute(
            "INSERT INTO events SELECT 'event-' || i, 'Event ' || i, TIMESTAMP '2023-01-01' + INTERVAL (i) DAY, true, "
            "'announcement', NULL, NULL, TIMESTAMP '2024-06-01' FROM range(60) r(i)"
        )
    with db.connect() as con:
        con.execute("CHECKPOINT")


def timed(action, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def plain_open(path: Path) -> None:
    duckdb.connect(str(path), read_only=True).close()


def damaged_copies(path: Path, workdir: Path) -> dict[str, Path]:
    truncated = workdir / "truncated.duckdb"
    shutil.copy(path, truncated)
    os.truncate(truncated, truncated.stat().st_size // 2)
    corrupted = workdir / "corrupted.duckdb"
    shutil.copy(path, corrupted)
    with storage.Database(path).connect(read_only=True) as con:
        block_size = con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]
        segments = con.execute(
            "SELECT block_id, block_offset FROM pragma_storage_info('price_history') "
            "WHERE column_name = 'price' AND block_id >= 0 ORDER BY row_group_id").fetchall()
    block, offset = segments[len(segments) // 2]
    with open(corrupted, "r+b") as handle:  # inside the price values (a block's unused tail is never read)
        handle.seek(3 * 4096 + block * block_size + 8 + offset + 64)
        handle.write(b"\xff" * 256)
    return {"cut to half its size": truncated, "bytes overwritten in a price_history block": corrupted}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", type=int, default=300)
    parser.add_argument("--hours", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None, help="Folder for the files (default: a temporary one).")
    args = parser.parse_args(argv)

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-check-"))
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "tracker.duckdb"
    try:
        log(f"building {args.coins * args.hours:,} price rows in {path} ...")
        build(path, args.coins, args.hours)
        db = storage.Database(path)
        rows = storage.query(db, "SELECT count(*) AS n FROM price_history")["n"][0]
        size_mb = path.stat().st_size / 2**20
        plain_open(path)  # warm the page cache once, for every contender alike
        baseline = timed(lambda: plain_open(path), args.repeats)
        quick = timed(lambda: storage.verify(db, full=False), args.repeats)
        full_verify = timed(lambda: storage.verify(db, full=True), args.repeats)
        write_open = timed(lambda: storage.open_database(path), args.repeats)
        full = timed(lambda: storage.full_check(db), args.repeats)
        assert not storage.full_check(db).damaged, "the freshly built file must pass the check"

        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
              f"duckdb {duckdb.__version__}, load average {os.getloadavg()[0]:.2f}")
        print(f"file: {size_mb:.1f} MB, price_history with {rows:,} rows; median of {args.repeats} runs")
        print(f"baseline, plain read-only open and close: {baseline * 1000:.1f} ms")
        mode = "every block" if size_mb * 2**20 <= FULL_VERIFY_MAX_BYTES else "small tables only"
        print(f"verify, small tables read (files > 256 MiB): {quick * 1000:.1f} ms ({quick / baseline:.1f}x the plain open)")
        print(f"verify, every block read (files <= 256 MiB): {full_verify * 1000:.1f} ms ({full_verify / baseline:.1f}x)")
        print(f"write-path open (verify reading {mode} + schema check): {write_open * 1000:.1f} ms "
              f"({write_open / baseline:.1f}x)")
        print(f"full check (`tracker check`):                {full * 1000:.1f} ms ({full / baseline:.1f}x; "
              f"{size_mb / full:.0f} MB/s)")
        for what, copy in damaged_copies(path, workdir).items():
            found = {}
            for name, full_read in (("small-table verify", False), ("every-block verify", True)):
                try:
                    storage.verify(storage.Database(copy), full=full_read)
                    found[name] = "passes (not caught)"
                except DatabaseDamagedError:
                    found[name] = "refused"
            result = storage.full_check(storage.Database(copy))
            bad = [f"{r['kind']} {r['object']}" for r in result.rows if r["status"] != "ok"]
            print(f"file {what}: " + "; ".join(f"{k} {v}" for k, v in found.items())
                  + f"; full check finds {', '.join(bad) or 'nothing'}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
