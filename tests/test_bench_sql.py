"""bench/bench_sql.py runs end to end on a small history and its baselines give the same answers.

Timings are printed, never asserted.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .sqlcookbook import cookbook_queries

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_sql.py"


@pytest.mark.slow
def test_bench_runs_every_cookbook_query_and_checks_the_baselines(capsys):
    spec = importlib.util.spec_from_file_location("bench_sql", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--coins", "40", "--days", "700", "--hourly-coins", "10", "--hourly-days", "50",
                       "--members", "20", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    for example in cookbook_queries():
        assert f"\n{example.name} " in out
    assert out.count("same answer") == len(bench.BASELINES) + 1  # each baseline agreed, plus the view check
