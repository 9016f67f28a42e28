"""bench/bench_report.py runs end to end at a tiny size (its figures are never asserted)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_report.py"


@pytest.mark.slow
def test_the_report_benchmark_runs_and_cross_checks_the_baseline(capsys):
    spec = importlib.util.spec_from_file_location("bench_report", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--tokens", "4", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "report, 1 event x 4 tokens" in out and "naive baseline" in out
    assert "CARs agree to" in out and "x faster" in out
