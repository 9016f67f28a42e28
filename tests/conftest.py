"""Shared fixtures: a fresh database per test, the shared real data, a CLI runner."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

import storage

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
REALDATA = SHARED / "realdata"


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto` starts one worker per core plus one. A worker spends about a fifth of the fast
    lane waiting (fault servers that hold a call until it times out, sockets, subprocesses), and
    the spare worker uses that time. Measured on 2 cores: 3 workers took 353 s against 381 s for
    2 with a CPU burner on each core, and 189 s against 194 s on a quiet machine."""
    return len(os.sched_getaffinity(0)) + 1


OWN_SETTINGS = ("TRACKER_CONFIG", "TRACKER_DB", "COINGECKO_API_KEY", "COINGECKO_PLAN", "COINGECKO_BASE_URL", "TRACKER_DEBUG",
                "TRACKER_EXCHANGE_BASE_URL")


@pytest.fixture(scope="session", autouse=True)
def _no_settings_for_the_session():
    """Module- and session-scoped fixtures are built before any test's own isolation runs, so the
    developer's settings are removed for the whole session too (and put back at its end)."""
    with pytest.MonkeyPatch.context() as patch:
        for name in OWN_SETTINGS:
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    """No test reads the developer's own config, key or database."""
    for name in OWN_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    # A test that set one of these without monkeypatch would leak it into every later test
    # (and module fixture) of this process: remove it.
    for name in OWN_SETTINGS:
        os.environ.pop(name, None)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "data" / "tracker.duckdb"


@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory) -> Path:
    """One migrated, empty database per worker, built by the real `open_database`."""
    path = tmp_path_factory.mktemp("template") / "tracker.duckdb"
    storage.open_database(path, create=True)
    return path


@pytest.fixture
def db(db_path, _migrated_template) -> storage.Database:
    """A migrated, empty database: a copy of the worker's template. Building one with the
    migrations costs about 0.08 s of CPU, and some 430 tests ask for one; copying the closed
    template file gives the same bytes in well under a millisecond."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_migrated_template, db_path)
    return storage.Database(db_path)


@pytest.fixture
def realdata() -> Path:
    """The shared real price files; tests that need them skip when ../shared is absent."""
    if not REALDATA.is_dir():
        pytest.skip(f"shared real data not found at {REALDATA} (it lives beside the project, not in it)")
    return REALDATA


@pytest.fixture
def cli_runner():
    from tracker.cli import cli

    runner = CliRunner()

    def run(*args: str, env: dict | None = None):
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False, standalone_mode=True)

    return run


def venv_bin(name: str) -> str:
    """A console script installed beside the running Python (tracker, duckdb)."""
    import sys

    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def subprocess_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "COINGECKO_"))}
    env.update(extra)
    return env


# Hypothesis draws the same examples on every run and every machine (derandomize), and a slow
# or busy machine never fails a test for taking long (no deadline). Registered here so every
# run, CI's included, uses it; HYPOTHESIS_PROFILE picks another (e.g. "dev" to explore).
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
