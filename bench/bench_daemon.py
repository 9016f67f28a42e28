"""Daemon benchmark: resident memory and lock-held time on a 500-coin backfill, against a naive
writer that keeps the database open for the whole backfill.

Run from the project root::

    python bench/bench_daemon.py            # about 3 minutes on 2 cores

Both sides run as real processes against ``python -m tracker.sources.fakegecko`` (a subprocess, data
clock frozen, 498 AI coins + bitcoin and ethereum, a year of history on the keyless plan: two
chart calls and about 2,400 rows per coin), with no client-side rate limit, so what is timed is
the tracker, not CoinGecko's budget.

1. ``tracker daemon`` backfills an empty database. Its resident memory (VmRSS from
   /proc/<pid>/status) is sampled every 50 ms, and its peak is VmHWM at the end (the snapshot
   copy included). The lock-held time of every write comes from ``tracker status --format
   json`` (median, p95, max per job). It is then left idle for a few seconds (idle after the
   backfill) and restarted on the filled database (idle after a fresh start).
2. The baseline fetches the same data with the same fetch steps and writes the same batches
   with the same ``write_batch``, but on one read-write connection opened at the start and
   closed at the end: the file is held for the whole backfill.

Throughout both, a reader in this process opens the file read-only every 50 ms and retries
until it gets in (as `tracker sql` does); each read's wait is recorded. The ratio printed is
the longest time a reader was locked out, naive over daemon.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

from tracker.sources.fakegecko import FakeGeckoProcess

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TRACKER = str(BIN / "tracker") if (BIN / "tracker").exists() else "tracker"
DB = Path("data") / "tracker.duckdb"

NAIVE_WRITER = r'''
import contextlib, sys, time
import duckdb, storage
from storage.connection import STORAGE_COMPATIBILITY
from tracker.config import load_config
from tracker.sources.coingecko import client_from_config
from tracker.ingest import (fetch_categories, fetch_history, fetch_markets, fetch_members,
                            read_history_state, write_batch)

class HeldOpen(storage.Database):
    """The same Database API, on one connection held from start to end (the naive way)."""
    def __init__(self, path, con):
        super().__init__(path)
        self._con = con
    @contextlib.contextmanager
    def connect(self, *, read_only=False, create=False):
        opened = time.perf_counter()
        yield self._con
        self.last_held_ms = (time.perf_counter() - opened) * 1000
    # Database.transaction() runs BEGIN/COMMIT on this same connection through connect().

config = load_config()
storage.open_database(config.database.path, create=True)
con = duckdb.connect(str(config.database.path), config={"storage_compatibility_version": STORAGE_COMPATIBILITY})
print("holding", flush=True)
db = HeldOpen(config.database.path, con)
client = client_from_config(config)
tracking = config.tracking
rows = 0
for batches in (fetch_categories(client, tracking), fetch_markets(client, tracking), fetch_members(client, tracking)):
    for batch in batches:
        rows += write_batch(db, batch).rows
for batch in fetch_history(client, tracking, read_history_state(db, tracking)):
    rows += write_batch(db, batch).rows
con.close()
print(f"done {rows}", flush=True)
'''


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def proc_kb(pid: int, field: str) -> int | None:
    """A ``Vm*`` field of /proc/<pid>/status in kB (None once the process is gone)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


class RssSampler(threading.Thread):
    """VmRSS of one process every ``every`` seconds."""

    def __init__(self, pid: int, every: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self.stop_event.is_set():
            kb = proc_kb(self.pid, "VmRSS")
            if kb is None:
                return
            self.samples.append((time.monotonic() - started, kb))
            self.stop_event.wait(self.every)

    def since(self, t: float) -> list[int]:
        return [kb for at, kb in self.samples if at >= t]


class ReaderProbe(threading.Thread):
    """A reader that tries the live file every ``every`` seconds, retrying each read until it
    gets in; records every read's wait (seconds from its first try to its answer)."""

    def __init__(self, path: Path, every: float = 0.05):
        super().__init__(daemon=True)
        self.path, self.every = path, every
        self.waits: list[float] = []
        self.stop_event = threading.Event()

    def _read_once(self) -> bool:
        try:
            con = duckdb.connect(str(self.path), read_only=True)
        except duckdb.IOException as exc:
            if "Could not set lock" in str(exc):
                return False
            raise
        try:
            con.execute("SELECT count(*) FROM price_history").fetchone()
        finally:
            con.close()
        return True

    def run(self) -> None:
        while not self.stop_event.is_set():
            if not self.path.exists():
                self.stop_event.wait(self.every)
                continue
            first = time.monotonic()
            while not self._read_once():
                if self.stop_event.wait(0.01):
                    self.waits.append(time.monotonic() - first)  # still locked out when it ended
                    return
            self.waits.append(time.monotonic() - first)
            self.stop_event.wait(self.every)

    def finish(self) -> None:
        self.stop_event.set()
        self.join(30)


def write_config(folder: Path, base_url: str, history_days: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tracker.toml").write_text(
        "[coingecko]\n"
        f'base_url = "{base_url}"\n'
        "calls_per_minute = 100000\ntimeout_seconds = 60\n\n"
        f"[tracking]\nhistory_days = {history_days}\n\n"
        # Nothing else is due during the measurement: the backfill runs at start.
        '[schedules.markets]\nevery = "1h"\n\n[schedules.categories]\nevery = "1h"\n\n'
        '[schedules.members]\nevery = "1d"\n\n[schedules.history]\nevery = "1d"\nrun_at_start = true\n'
    )


def env() -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "COINGECKO_"))}
    out["PYTHONUNBUFFERED"] = "1"
    return out


def heartbeat(folder: Path) -> dict:
    try:
        return json.loads((folder / "data" / "tracker.duckdb.daemon.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def wait_history(folder: Path, pid: int, process: subprocess.Popen, total_calls: int, fake, timeout: float) -> None:
    """Until this daemon's history run is done; a progress line on stderr meanwhile."""
    deadline = time.monotonic() + timeout
    last_report = 0.0
    while True:
        beat = heartbeat(folder)
        if beat.get("pid") == pid and beat.get("jobs", {}).get("history", {}).get("status") in ("ok", "partial", "failed"):
            return
        if process.poll() is not None:
            raise SystemExit(f"the daemon exited with {process.returncode}; see {folder / 'daemon.log'}")
        if time.monotonic() > deadline:
            raise SystemExit("the backfill did not finish in time")
        if total_calls and time.monotonic() - last_report > 5:
            last_report = time.monotonic()
            calls = fake.control.stats()["by_endpoint"].get("/coins/{id}/market_chart/range", 0)
            log(f"  backfill: {calls}/{total_calls} chart calls")
        time.sleep(0.2)


def run_daemon(folder: Path, fake, coins: int, history_days: int, idle_seconds: float) -> dict:
    write_config(folder, fake.base_url, history_days)
    result: dict = {}
    log("daemon: backfilling an empty database")
    with open(folder / "daemon.log", "w") as err:
        process = subprocess.Popen([TRACKER, "daemon"], cwd=folder, env=env(), stdout=subprocess.DEVNULL, stderr=err)
    sampler, probe = RssSampler(process.pid), ReaderProbe(folder / DB)
    sampler.start()
    probe.start()
    started = time.monotonic()
    chunks = 2 if history_days > 89 else 1
    wait_history(folder, process.pid, process, coins * chunks, fake, timeout=3600)
    result["backfill_s"] = time.monotonic() - started
    result["peak_kb"] = proc_kb(process.pid, "VmHWM")
    result["peak_sampled_kb"] = max(kb for _, kb in sampler.samples)
    probe.finish()
    result["reads"] = probe.waits
    settle = time.monotonic() - started
    time.sleep(idle_seconds)
    result["idle_after_kb"] = statistics.median(sampler.since(settle + idle_seconds / 2))
    status = subprocess.run([TRACKER, "status", "--format", "json"], cwd=folder, env=env(), capture_output=True,
                            text=True, timeout=120, check=True)
    result["status"] = json.loads(status.stdout)
    result["heartbeat"] = heartbeat(folder)
    process.terminate()
    result["exit"] = process.wait(120)
    sampler.stop_event.set()

    log("daemon: restarted on the filled database (idle)")
    with open(folder / "daemon.log", "a") as err:
        process = subprocess.Popen([TRACKER, "daemon"], cwd=folder, env=env(), stdout=subprocess.DEVNULL, stderr=err)
    sampler = RssSampler(process.pid)
    sampler.start()
    wait_history(folder, process.pid, process, 0, fake, timeout=600)  # the start-up top-up: nothing to fetch
    mark = sampler.samples[-1][0] if sampler.samples else 0.0
    time.sleep(idle_seconds)
    result["idle_start_kb"] = statistics.median(sampler.since(mark + idle_seconds / 2))
    process.terminate()
    process.wait(120)
    sampler.stop_event.set()
    result["rows"] = price_rows(folder / DB)
    return result


def run_naive(folder: Path, fake, history_days: int) -> dict:
    write_config(folder, fake.base_url, history_days)
    log("naive: the same backfill on one connection held open throughout")
    process = subprocess.Popen([sys.executable, "-c", NAIVE_WRITER], cwd=folder, env=env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    sampler = RssSampler(process.pid)
    sampler.start()
    line = process.stdout.readline()
    if line.strip() != "holding":
        raise SystemExit(f"the naive writer did not start: {line} {process.stderr.read()[-2000:]}")
    probe = ReaderProbe(folder / DB)
    probe.start()
    started = time.monotonic()
    out, err = process.communicate(timeout=3600)
    elapsed = time.monotonic() - started
    if process.returncode != 0:
        raise SystemExit(f"the naive writer failed: {err[-2000:]}")
    time.sleep(0.3)  # the first read after the file is released
    probe.finish()
    sampler.stop_event.set()
    return {"backfill_s": elapsed, "reads": probe.waits, "rows_written": int(out.split()[-1]),
            "peak_sampled_kb": max(kb for _, kb in sampler.samples)}


def price_rows(path: Path) -> int:
    with duckdb.connect(str(path), read_only=True) as con:
        return int(con.execute("SELECT count(*) FROM price_history").fetchone()[0])


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def mb(kb: float) -> str:
    return f"{kb / 1024:.0f} MB"


def report(daemon: dict, naive: dict, coins: int, history_days: int) -> None:
    print(f"ai-token-tracker daemon benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
          f"Python {platform.python_version()}, duckdb {duckdb.__version__}, {os.cpu_count()} CPUs")
    print(f"backfill: {coins} coins x {history_days} days (keyless plan: daily + hourly chunks), "
          f"{daemon['rows']:,} price rows, fake server in a subprocess, no client rate limit")
    print()
    print(f"tracker daemon: backfill in {daemon['backfill_s']:.1f} s, exit {daemon['exit']} on SIGTERM")
    print(f"  resident memory: idle after a fresh start {mb(daemon['idle_start_kb'])}, "
          f"peak during the backfill {mb(daemon['peak_kb'])} (VmHWM; sampled max {mb(daemon['peak_sampled_kb'])}), "
          f"idle after the backfill {mb(daemon['idle_after_kb'])}")
    print("  lock held per write (ms), from tracker status --format json:")
    print(f"    {'job':<11}{'writes':>7}{'median':>9}{'p95':>9}{'max':>9}")
    for row in daemon["status"]["schedule"]:
        if row["writes"]:
            print(f"    {row['job']:<11}{row['writes']:>7}{row['lock_ms_median']:>9.1f}{row['lock_ms_p95']:>9.1f}{row['lock_ms_max']:>9.1f}")
    waits = daemon["reads"]
    print(f"  a reader every 50 ms: {len(waits)} reads during the backfill; time to an answer (retries on the lock "
          f"included) median {statistics.median(waits) * 1000:.0f} ms, p95 {quantile(waits, 0.95) * 1000:.0f} ms, "
          f"longest {max(waits) * 1000:.0f} ms")
    print()
    nwaits = naive["reads"]
    print(f"naive writer (one read-write connection for the whole backfill): {naive['backfill_s']:.1f} s, "
          f"{naive['rows_written']:,} rows written, sampled peak {mb(naive['peak_sampled_kb'])}")
    print(f"  a reader every 50 ms: its first read waited {max(nwaits):.1f} s (the file is held from start to end)")
    print()
    ratio = max(nwaits) / max(waits)
    print(f"longest wait for a reader: naive {max(nwaits):.1f} s vs daemon {max(waits) * 1000:.0f} ms: {ratio:,.0f}x shorter")
    held = max(row["lock_ms_max"] for row in daemon["status"]["schedule"] if row["writes"])
    print(f"longest single hold of the file: naive {naive['backfill_s']:.1f} s vs daemon {held:.0f} ms: "
          f"{naive['backfill_s'] * 1000 / held:,.0f}x shorter")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--coins", type=int, default=500, help="coins to backfill (2 are the benchmarks; default 500)")
    parser.add_argument("--history-days", type=int, default=365, help="history to backfill per coin (default 365)")
    parser.add_argument("--idle-seconds", type=float, default=4.0, help="how long to sample an idle daemon")
    parser.add_argument("--workdir", type=Path, default=None, help="where to put the databases (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.coins < 3:
        parser.error("--coins must be at least 3")
    now = (datetime.now(timezone.utc) - timedelta(seconds=5)).replace(tzinfo=None, microsecond=0)
    fake_args = ["--ai-coins", str(args.coins - 2), "--other-coins", "20", "--now", now.isoformat()]
    with tempfile.TemporaryDirectory() as scratch:
        work = args.workdir or Path(scratch)
        with FakeGeckoProcess(fake_args) as fake:
            daemon = run_daemon(work / "daemon", fake, args.coins, args.history_days, args.idle_seconds)
            naive = run_naive(work / "naive", fake, args.history_days)
        naive_rows = price_rows(work / "naive" / DB)
    if naive_rows != daemon["rows"]:
        raise SystemExit(f"the two backfills disagree: daemon {daemon['rows']} rows, naive {naive_rows}")
    report(daemon, naive, args.coins, args.history_days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
