"""Start-up benchmark: `tracker sql "select 1"` against a bare Python that opens the same file with
duckdb and runs the same query.

Run from the project root::

    python bench/bench_startup.py            # about 10 seconds

Both sides are fresh processes on the same migrated database, run alternately (so a burst of
load elsewhere hits both), ``--runs`` times each; the medians and their ratio are printed.
``tracker sql`` does more than the bare query (reads the config, checks the file and its
schema, runs the query on a locked-down connection); the goal is at most twice the bare time.
The modules each side loads are listed too: the tracker must not load pandas, pyarrow,
statsmodels or ccxt for it.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import storage  # noqa: E402

HEAVY = ("pandas", "pyarrow", "numpy", "statsmodels", "scipy", "matplotlib", "ccxt")
QUERY = "select 1"


def tracker_command(db: Path) -> list[str]:
    tracker = Path(sys.executable).parent / "tracker"
    if tracker.exists():
        return [str(tracker), "--db", str(db), "sql", QUERY]
    return [sys.executable, "-c", "from tracker.cli import main; main()", "--db", str(db), "sql", QUERY]


def bare_command(db: Path) -> list[str]:
    code = (f"import duckdb; con = duckdb.connect({str(db)!r}, read_only=True); "
            f"print(con.execute({QUERY!r}).fetchall()); con.close()")
    return [sys.executable, "-c", code]


def timed(command: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {done.stderr.strip()[:300]}")
    return elapsed


def heavy_modules(env: dict, db: Path) -> list[str]:
    """The heavy modules `tracker sql` loads (run in-process in a child, then listed)."""
    code = ("import sys\nfrom tracker.cli import cli\n"
            f"try:\n    cli.main(args=['--db', {str(db)!r}, 'sql', {QUERY!r}], prog_name='tracker')\n"
            "except SystemExit:\n    pass\n"
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    return [m for m in done.stderr.strip().splitlines()[-1].split(",") if m] if done.stderr.strip() else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="runs of each side (median reported)")
    args = parser.parse_args(argv)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "COINGECKO_"))}
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        db = Path(tmp) / "tracker.duckdb"
        storage.open_database(db, create=True)
        env["TRACKER_CONFIG"] = str(Path(tmp) / "none.toml")
        (Path(tmp) / "none.toml").write_text("")
        timed(tracker_command(db), env)  # warm the OS file cache for both
        timed(bare_command(db), env)
        tracker_times, bare_times = [], []
        for _ in range(args.runs):
            tracker_times.append(timed(tracker_command(db), env))
            bare_times.append(timed(bare_command(db), env))
        loaded = heavy_modules(env, db)
    tracker_median, bare_median = statistics.median(tracker_times), statistics.median(bare_times)
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, {args.runs} runs each")
    print(f"tracker sql {QUERY!r}: median {tracker_median * 1000:.0f} ms (min {min(tracker_times) * 1000:.0f} ms)")
    print(f"bare python + duckdb: median {bare_median * 1000:.0f} ms (min {min(bare_times) * 1000:.0f} ms)")
    print(f"ratio tracker / bare: {tracker_median / bare_median:.2f}x (goal: at most 2x)")
    print(f"heavy modules loaded by tracker sql: {', '.join(loaded) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
