"""A house by role: tracker/'s top level keeps the package face and cross-cutting modules only.

Everything else lives in a package named for its job (issue 14); storage/ and jobs/ stay top-level.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACKER = ROOT / "tracker"

TOP_LEVEL = {"__init__.py", "config.py", "errors.py", "paths.py", "utc.py", "urls.py"}
PACKAGES = {"sources", "ingest", "analysis", "report", "cli"}


def test_top_level_holds_at_most_six_modules():
    modules = {p.name for p in TRACKER.glob("*.py")}
    assert len(modules) <= 6, sorted(modules)
    assert modules <= TOP_LEVEL, sorted(modules - TOP_LEVEL)


def test_everything_else_lives_in_a_package_named_for_its_job():
    packages = {p.name for p in TRACKER.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == PACKAGES


def test_sources_and_analyses_sit_in_their_packages():
    for folder in ("sources/coingecko", "sources/fakegecko", "sources/csvimport", "analysis/eventstudy",
                   "analysis/correlation", "analysis/gpu"):
        assert (TRACKER / folder / "__init__.py").exists(), folder
    for module in ("sources/csvread.py", "ingest/runs.py", "ingest/values.py", "ingest/status.py", "analysis/panels.py",
                   "analysis/results.py", "analysis/events.py", "analysis/output.py", "analysis/plotting.py",
                   "report/demo.py", "report/parquet_export.py"):
        assert (TRACKER / module).exists(), module


def test_storage_and_jobs_stay_top_level():
    assert (ROOT / "storage" / "__init__.py").exists() and (ROOT / "jobs" / "__init__.py").exists()
