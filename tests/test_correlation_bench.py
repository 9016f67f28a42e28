"""The correlation benchmark runs at a tiny size and checks its own results (timings are not asserted)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_correlation.py"


def test_benchmark_runs_small_and_agrees_with_its_baselines(capsys):
    spec = importlib.util.spec_from_file_location("bench_correlation", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.main(["--tokens", "25", "--days", "150", "--repeat", "1"])
    assert figures["pairs"] == 300 and figures["matrix_max_diff"] < 1e-9 and figures["rolling_max_diff"] < 1e-8
    assert figures["rolling_rows"] > 0 and 0 < figures["missing_share"] < 0.5
    assert "ratio" in capsys.readouterr().out
