"""bench/bench_upsert.py runs end to end at a tiny size (its figures are never asserted)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_upsert.py"


def test_the_upsert_benchmark_runs_and_checks_its_results(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_upsert", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--coins", "5", "--hours", "200", "--batch-hours", "40", "--baseline-rows", "50", "--repeats", "1",
                "--workdir", str(tmp_path / "bench")])
    out = capsys.readouterr().out
    assert "table: price_history with 1,000 rows; batch: 400 rows (200 updates of existing keys, 200 new)" in out
    assert "storage.upsert:" in out and "executemany, row by row:" in out and "timed on 50 rows" in out
    assert "x faster" in out
