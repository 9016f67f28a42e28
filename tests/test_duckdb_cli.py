"""The stock `duckdb` CLI (1.5.x) opens the file the tracker wrote and reads rows back."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from tracker.analysis.events import seed_events

from .conftest import venv_bin


def _duckdb_cli() -> str:
    path = venv_bin("duckdb")
    if shutil.which(path) is None:
        pytest.fail("the duckdb CLI is not installed; `pip install -e .` installs duckdb-cli")
    return path


def test_cli_version_is_1_5_or_newer():
    out = subprocess.run([_duckdb_cli(), "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    major, minor = (int(x) for x in out.stdout.strip().lstrip("v").split(".")[:2])
    assert (major, minor) >= (1, 5)


def test_cli_reads_the_tracker_database(db):
    seeded = seed_events(db)
    assert seeded > 10
    out = subprocess.run(
        [_duckdb_cli(), "-readonly", "-csv", str(db.path), "-c",
         "SELECT event_id, strftime(ts, '%Y-%m-%d %H:%M') AS ts FROM events WHERE event_id = 'sora-demo'; "
         "SELECT count(*) AS n FROM events; SELECT count(*) AS v FROM daily_prices"],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert "sora-demo,2024-02-15 18:00" in lines
    assert f"{seeded}" in lines  # the count(*) row
    assert lines[-1] == "0"  # the views parse and run in the 1.5 CLI
