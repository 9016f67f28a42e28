"""The suite's own set-up: Hypothesis runs from the registered profile, the default run is the
fast lane, and CI lints first and then runs both lanes."""
from __future__ import annotations

import tomllib
from pathlib import Path

from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]


def test_hypothesis_runs_from_the_reproducible_profile():
    current = settings()
    assert settings.get_current_profile_name() == "ci"
    assert current.derandomize is True and current.deadline is None


def test_the_default_run_is_the_fast_lane():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "-m 'not slow'" in options["addopts"]
    assert any(marker.startswith("slow:") for marker in options["markers"])


def test_ci_lints_first_then_runs_both_lanes():
    script = (ROOT / ".ci" / "run").read_text()
    lint, fast, slow = (script.index(s) for s in (".venv/bin/ruff check", ".venv/bin/python -m pytest -q ||", "pytest -q -m slow"))
    assert lint < fast < slow
    assert 'failed+=("slow lane")' in script and "exit 1" in script
