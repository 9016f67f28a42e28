"""Real processes for the daemon tests: `tracker daemon` as a subprocess against a
`python -m tracker.sources.fakegecko` subprocess over loopback, with schedules of seconds.

Everything here only reads the database with short read-only connections (retrying on the
lock like any reader should), so the helpers never stand in the daemon's way for long.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import pandas as pd

import storage
from jobs.heartbeat import heartbeat_path

from .conftest import subprocess_env, venv_bin

TRACKER = venv_bin("tracker")
DUCKDB = venv_bin("duckdb")
DB_RELATIVE = Path("data") / "tracker.duckdb"
HISTORY_DAYS = 30
# Hourly points: consecutive stored closes are an hour apart, give or take the few seconds of
# jitter CoinGecko's (and the fake's) stamps carry.
HOURLY_GAP_MAX = timedelta(hours=1, seconds=10)


def frozen_now() -> datetime:
    """A data clock for the fake: a little before the real now, whole seconds, naive UTC.

    The daemon plans with the real clock; the fake serves points up to its frozen clock. Its
    live point is then always the same instant (younger than an hour, so stored as partial),
    and every run of the test sees the same data whenever it runs.
    """
    return (datetime.now(timezone.utc) - timedelta(seconds=5)).replace(tzinfo=None, microsecond=0)


def fake_args(*, ai_coins: int = 12, other_coins: int = 6, now: datetime | None = None, extra: tuple[str, ...] = ()) -> list[str]:
    args = ["--ai-coins", str(ai_coins), "--other-coins", str(other_coins)]
    if now is not None:
        args += ["--now", now.isoformat()]
    return args + list(extra)


def write_config(
    folder: Path,
    base_url: str,
    *,
    every: dict[str, str] | None = None,
    run_at_start: tuple[str, ...] = ("history",),
    lock_timeout: float = 15.0,
    history_days: int = HISTORY_DAYS,
    timeout: float = 15.0,
    max_retries: int = 2,
    backoff: float = 0.05,
    backoff_max: float = 0.5,
    retry_after_cap: float = 5.0,
    calls_per_minute: float = 6000,
) -> Path:
    """Write ``folder/tracker.toml`` for a daemon against ``base_url`` with schedules of seconds."""
    folder.mkdir(parents=True, exist_ok=True)
    every = {"markets": "2s", "categories": "3s", "members": "3s", "history": "1h", **(every or {})}
    lines = [
        "[database]",
        f'path = "{DB_RELATIVE.as_posix()}"',
        'snapshot_dir = "data/snapshot"',
        'spool_dir = "data/spool"',
        f"lock_timeout_seconds = {lock_timeout}",
        "",
        "[coingecko]",
        f'base_url = "{base_url}"',
        f"calls_per_minute = {calls_per_minute}",
        f"timeout_seconds = {timeout}",
        f"max_retries = {max_retries}",
        f"backoff_seconds = {backoff}",
        f"backoff_max_seconds = {backoff_max}",
        f"retry_after_cap_seconds = {retry_after_cap}",
        "",
        "[tracking]",
        f"history_days = {history_days}",
        "",
    ]
    for job, interval in every.items():
        lines += [f"[schedules.{job}]", f'every = "{interval}"', 'jitter = "0s"']
        if job in run_at_start:
            lines.append("run_at_start = true")
        lines.append("")
    path = folder / "tracker.toml"
    path.write_text("\n".join(lines))
    return path


def wait_for(predicate: Callable[[], Any], timeout: float, *, interval: float = 0.2, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


class DaemonProcess:
    """`tracker daemon` in ``folder`` (which holds tracker.toml), logging to files there.

    Parameters
    ----------
    folder:
        The working folder: config, data/, and the captured stdout/stderr.
    args:
        Extra arguments after ``tracker daemon`` (e.g. ``["--once"]``).
    env:
        Extra environment variables (the API key, COINGECKO_PLAN ...).
    """

    def __init__(self, folder: Path, *, args: tuple[str, ...] = (), env: dict[str, str] | None = None, label: str = "daemon"):
        self.folder = Path(folder)
        self.args = list(args)
        self.env = subprocess_env(**(env or {}))
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.label = label
        self.process: subprocess.Popen | None = None
        self.lives = 0

    # -- paths -------------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.folder / DB_RELATIVE

    @property
    def stderr_path(self) -> Path:
        return self.folder / f"{self.label}.stderr"

    @property
    def stdout_path(self) -> Path:
        return self.folder / f"{self.label}.stdout"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    # -- life ----------------------------------------------------------------------------------
    def start(self) -> "DaemonProcess":
        assert self.process is None or self.process.poll() is not None, "the daemon is already running"
        self.lives += 1
        with open(self.stdout_path, "a") as out, open(self.stderr_path, "a") as err:
            err.write(f"--- life {self.lives} ---\n")
            err.flush()
            self.process = subprocess.Popen(
                [TRACKER, "daemon", "--log-level", "info", *self.args], cwd=self.folder, env=self.env,
                stdout=out, stderr=err, start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout)

    def terminate(self, timeout: float = 120.0) -> int:
        """SIGTERM, then wait; returns the exit code (fails the test if it does not exit in time)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"the daemon did not exit within {timeout:g}s of SIGTERM:\n{self.log()[-3000:]}") from None

    def kill9(self) -> None:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> "DaemonProcess":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.cleanup()

    # -- what it says ----------------------------------------------------------------------
    def log(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stdout(self) -> str:
        return self.stdout_path.read_text() if self.stdout_path.exists() else ""

    def heartbeat(self) -> dict | None:
        try:
            return json.loads(heartbeat_path(self.db_path).read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def database(self, lock_timeout: float = 30.0) -> storage.Database:
        return storage.Database(self.db_path, lock_timeout=lock_timeout)


# -- reading the database ------------------------------------------------------------------

def query(db_path: Path, sql: str, params=None, *, lock_timeout: float = 30.0) -> pd.DataFrame:
    """A short read-only query that waits its turn on the lock."""
    return storage.query(storage.Database(db_path, lock_timeout=lock_timeout), sql, params)


def scalar(db_path: Path, sql: str, params=None) -> Any:
    frame = query(db_path, sql, params)
    return frame.iloc[0, 0]


def table_exists(db_path: Path) -> bool:
    return db_path.is_file() and db_path.stat().st_size > 0


def history_done(db_path: Path) -> bool:
    """True once a history run finished ok or partial (the backfill went through every coin)."""
    if not table_exists(db_path):
        return False
    try:
        return bool(scalar(db_path, "SELECT count(*) FROM ingest_runs WHERE job = 'history' AND status IN ('ok', 'partial')"))
    except storage.StorageError:
        return False


def run_tracker(folder: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([TRACKER, *args], cwd=folder, env=subprocess_env(**(env or {})), capture_output=True,
                          text=True, timeout=timeout)


def status_json(folder: Path) -> dict:
    done = run_tracker(folder, "status", "--format", "json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def duplicate_counts(db_path: Path) -> dict[str, int]:
    """Rows beyond one per natural key, for every table in storage/schema.py TABLES."""
    out = {}
    for name, spec in storage.TABLES.items():
        key = ", ".join(storage.quote_identifier(c) for c in spec.key)
        out[name] = int(scalar(db_path, f"SELECT count(*) - count(DISTINCT ({key})) FROM {storage.quote_identifier(name)}"))
    return out


def history_problems(db_path: Path, *, expect_all_covered: bool = True) -> list[str]:
    """Every way the stored history could disagree with its watermarks; empty when consistent.

    For each coin: a watermark exists when rows exist (no rows written without their batch's
    watermark); the watermark is the newest complete point; ``detail.start`` is at or before
    the first point, by less than an hour; complete points are hourly without a gap; at most
    one partial (live) point, after the watermark.
    """
    rows = query(db_path, "SELECT coin_id, ts, is_partial FROM price_history ORDER BY coin_id, ts")
    marks = query(db_path, "SELECT scope AS coin_id, watermark, detail FROM ingest_state WHERE job = 'history' AND scope <> '*'")
    marks = marks.set_index("coin_id")
    problems = []
    for coin, points in rows.groupby("coin_id"):
        complete = points.loc[~points["is_partial"], "ts"]
        partial = points.loc[points["is_partial"], "ts"]
        if coin not in marks.index:
            problems.append(f"{coin}: {len(points)} rows but no watermark")
            continue
        mark = pd.Timestamp(marks.at[coin, "watermark"])
        start = pd.Timestamp(json.loads(marks.at[coin, "detail"])["start"])
        if complete.empty or complete.max() != mark:
            problems.append(f"{coin}: watermark {mark} but newest complete point {complete.max() if len(complete) else None}")
        if not complete.empty and not (start <= complete.min() < start + HOURLY_GAP_MAX):
            problems.append(f"{coin}: detail.start {start} but first point {complete.min()}")
        gaps = complete.diff().dropna()
        if len(gaps) and gaps.max() > HOURLY_GAP_MAX:
            problems.append(f"{coin}: a gap of {gaps.max()} in the stored hours")
        if len(partial) > 1 or (len(partial) == 1 and partial.iloc[0] <= mark):
            problems.append(f"{coin}: partial points {list(partial)} with watermark {mark}")
    if expect_all_covered:
        for coin in marks.index:
            if coin not in set(rows["coin_id"]):
                problems.append(f"{coin}: a watermark but no rows")
    return problems


def history_frame(db_path: Path, since: datetime) -> pd.DataFrame:
    """price_history from ``since`` on, sorted, for comparing two databases."""
    frame = query(
        db_path,
        "SELECT coin_id, vs_currency, source, ts, price, market_cap, total_volume, granularity, is_partial "
        "FROM price_history WHERE ts >= ? ORDER BY coin_id, ts",
        [since],
    )
    return frame.reset_index(drop=True)


def watermarks(db_path: Path) -> dict[str, Any]:
    frame = query(db_path, "SELECT scope, watermark FROM ingest_state WHERE job = 'history' AND scope <> '*' ORDER BY scope")
    return dict(zip(frame["scope"], frame["watermark"]))


def comparable_since(latest_start: datetime, history_days: int = HISTORY_DAYS) -> datetime:
    """Where two backfills made at different moments must agree: each reaches back
    ``history_days`` from its own clock, so compare from the later reach (plus an hour)."""
    return latest_start.replace(tzinfo=None) - timedelta(days=history_days) + timedelta(hours=1)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def once(folder: Path, *, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`tracker daemon --once` in ``folder``."""
    return run_tracker(folder, "daemon", "--once", env=env, timeout=timeout)


def duckdb_cli_read(db_path: Path, sql: str, *, patience: float = 120.0, pause: float = 0.05) -> tuple[bool, int, str]:
    """One read with the stock `duckdb` CLI, retried on the lock (the CLI has no retry of its
    own; docs/daemon.md shows the same loop) for up to ``patience`` seconds, which only a daemon
    that never lets go could use up. Returns (ok, attempts used, output)."""
    output, attempt = "", 0
    deadline = time.monotonic() + patience
    while True:
        attempt += 1
        done = subprocess.run([DUCKDB, "-readonly", "-csv", "-noheader", str(db_path), "-c", sql],
                              capture_output=True, text=True, timeout=60)
        output = done.stdout + done.stderr
        if done.returncode == 0:
            return True, attempt, done.stdout
        if "Could not set lock" not in output or time.monotonic() > deadline:
            return False, attempt, output
        time.sleep(pause)


READER_SCRIPT = """
import select, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SELECT count(*) FROM ingest_runs").fetchall()
print("holding", flush=True)
select.select([sys.stdin], [], [], float(sys.argv[2]))  # until released, or the time is up
con.close()
print("released", flush=True)
"""


class LockHolder:
    """A separate process holding the database read-only (like an open `duckdb -readonly` shell)
    for at most ``seconds``; tests release it when what they waited for has happened."""

    def __init__(self, db_path: Path, seconds: float):
        self.db_path, self.seconds = db_path, seconds
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "LockHolder":
        self.process = subprocess.Popen([sys.executable, "-c", READER_SCRIPT, str(self.db_path), str(self.seconds)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        assert line.strip() == "holding", f"the lock holder did not start: {line!r} {self.process.stderr.read()}"
        return self

    def release(self, timeout: float = 60) -> None:
        """Close the reader's connection now and wait for the process to end."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.stdin.write("release\n")
            self.process.stdin.flush()
        self.wait(timeout)

    def wait(self, timeout: float = 60) -> None:
        assert self.process is not None
        self.process.wait(timeout)

    def __exit__(self, *exc: Any) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait(10)
            for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
                stream.close()


def spool_batches(folder: Path) -> list[Path]:
    spool = folder / "data" / "spool"
    if not spool.is_dir():
        return []
    return sorted(p for p in spool.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != "rejected")


def log_lines(text: str) -> list[str]:
    """The daemon's own log lines (timestamped), without the harness's life markers."""
    return [line for line in text.splitlines() if line and not line.startswith("--- life")]


def files_text(folder: Path) -> str:
    """Every readable file under ``folder`` as text (for secret scans); binary files as latin-1."""
    parts = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
