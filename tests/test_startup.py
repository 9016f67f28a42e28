"""Start-up: the commands that need no pandas (`sql`, `status`, `events list`, `check`, and the
`--help` of those and of `init`, `daemon`, `export`) load none of pandas, pyarrow, numpy,
statsmodels, scipy, matplotlib or ccxt; `tracker --help` lists every command without importing
them, with the help each command gives itself.

Each check runs the command's main in a fresh interpreter and then lists the modules loaded.
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

import storage

from .conftest import subprocess_env

HEAVY = ("pandas", "pyarrow", "numpy", "statsmodels", "scipy", "matplotlib", "ccxt")
BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_startup.py"


def loaded_after(args: list[str], env: dict, cwd: Path) -> tuple[list[str], str]:
    """Run ``tracker ARGS`` in-process in a fresh interpreter; the heavy modules it loaded and its stdout."""
    code = (
        "import sys, json\n"
        "from tracker.cli import cli\n"
        "try:\n"
        f"    cli.main(args={args!r}, prog_name='tracker')\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "sys.stdout.flush()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    last = done.stderr.strip().splitlines()[-1]
    return json.loads(last), done.stdout


@pytest.fixture
def filled(tmp_path):
    """A database with the events calendar and a few stored runs, and the env pointing at it."""
    from tracker.analysis.events import seed_events

    db = storage.open_database(tmp_path / "data" / "tracker.duckdb", create=True)
    seed_events(db)
    return subprocess_env(TRACKER_DB=str(db.path))


@pytest.mark.parametrize("args", [
    ["--help"],
    ["sql", "--help"],
    ["status", "--help"],
    ["events", "--help"],
    ["events", "list", "--help"],
    ["events", "add", "--help"],
    ["events", "import", "--help"],
    ["init", "--help"],
    ["check", "--help"],
    ["daemon", "--help"],
    ["export", "--help"],
    ["export", "parquet", "--help"],
    ["check"],
    ["check", "--format", "csv"],
    ["sql", "select event_id, ts from events order by ts limit 3"],
    ["sql", "select 1 as one", "--format", "json"],
    ["status"],
    ["status", "--format", "csv"],
    ["events", "list"],
    ["events", "list", "--format", "json"],
])
def test_light_commands_load_no_heavy_module(tmp_path, filled, args):
    heavy, out = loaded_after(args, filled, tmp_path)
    assert heavy == [], f"tracker {' '.join(args)} loaded {heavy}"
    assert out.strip(), "the command printed nothing"


def test_the_command_list_is_the_commands_own_help():
    from tracker.cli import COMMANDS, SHORT_HELP, cli

    assert set(SHORT_HELP) <= set(COMMANDS)
    for name, spec in COMMANDS.items():
        module, attribute = spec.split(":")
        command = getattr(importlib.import_module(f"tracker.cli.{module}"), attribute)
        if name in SHORT_HELP:
            assert click.Command(name, help=SHORT_HELP[name]).get_short_help_str(200) == command.get_short_help_str(200), name
    # Help printed lazily equals help printed with every command loaded.
    lazy = subprocess.run([sys.executable, "-c", "from tracker.cli import main; main()", "--help"],
                          capture_output=True, text=True, timeout=120)
    with cli.make_context("tracker", [], resilient_parsing=True) as ctx:
        for name in COMMANDS:
            cli.get_command(ctx, name)  # every command loaded: the list comes from the commands
        eager = cli.get_help(ctx)
    assert lazy.returncode == 0 and lazy.stdout.strip() == eager.strip()
    for name in COMMANDS:
        assert f"\n  {name} " in lazy.stdout


def test_bench_startup_runs_and_prints_the_ratio(capsys):
    spec = importlib.util.spec_from_file_location("bench_startup", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio tracker / bare:" in out
    assert "heavy modules loaded by tracker sql: none" in out
