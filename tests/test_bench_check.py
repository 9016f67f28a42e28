"""bench/bench_check.py runs end to end at a tiny size (its figures are never asserted)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_check.py"


def test_the_check_benchmark_runs_and_reports_what_each_check_caught(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("bench_check", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.main(["--coins", "4", "--hours", "500", "--repeats", "1", "--workdir", str(tmp_path / "bench")])
    out = capsys.readouterr().out
    assert "price_history with 2,000 rows" in out
    assert "baseline, plain read-only open and close:" in out and "full check (`tracker check`):" in out
    assert "file cut to half its size: small-table verify refused; every-block verify refused; full check finds file file" in out
    assert "file bytes overwritten in a price_history block:" in out and "every-block verify refused" in out
    assert "full check finds table price_history" in out
