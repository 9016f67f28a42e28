"""bench/bench_daemon.py runs end to end at a tiny size (its figures are never asserted)."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_daemon.py"


@pytest.mark.slow
def test_the_daemon_benchmark_runs_both_sides_and_prints_the_ratio(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_daemon", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--coins", "6", "--history-days", "30", "--idle-seconds", "1", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "backfill: 6 coins x 30 days" in out
    assert re.search(r"resident memory: idle after a fresh start \d+ MB, peak during the backfill \d+ MB", out)
    assert re.search(r"history +\d+ +[\d.]+ +[\d.]+ +[\d.]+", out)  # lock-held median, p95, max
    assert "naive writer (one read-write connection for the whole backfill)" in out
    assert re.search(r"longest wait for a reader: naive [\d.]+ s vs daemon \d+ ms: [\d,]+x shorter", out)
    # Both sides stored the same history (the benchmark checks it and would have stopped).
    assert (tmp_path / "daemon" / "data" / "tracker.duckdb").is_file() and (tmp_path / "naive" / "data" / "tracker.duckdb").is_file()
