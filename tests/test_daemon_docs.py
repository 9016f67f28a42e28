"""docs/daemon.md runs as written (against the fake server), and the systemd unit it describes
matches the daemon's behaviour: restart on failure but not on a config error, a stop timeout
above the HTTP and lock timeouts, the key from an EnvironmentFile, a working directory."""
from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tracker.cli.daemon_commands import EXIT_CONFIG
from tracker.config import load_config
from tracker.sources.fakegecko import FakeGecko

from .docs_runner import run_examples
from .gecko_helpers import run_python_blocks

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOC = DOCS / "daemon.md"
UNIT = DOCS / "tracker-daemon.service"


@pytest.mark.slow
def test_console_and_python_examples_run_against_the_fake(tmp_path):
    # Six coins in the category, as the doc says; the fake answers as fast as it is asked.
    (tmp_path / "tracker.toml").write_text("[coingecko]\ncalls_per_minute = 6000\n\n[tracking]\nhistory_days = 30\n")
    with FakeGecko(ai_coins=6, other_coins=4) as fake:
        ran = run_examples(DOC, tmp_path, env={"COINGECKO_BASE_URL": fake.base_url})
    assert ran >= 11
    assert run_python_blocks(DOC) == 1  # runs in tmp_path too, on the database the examples made


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text())
    return parser


def test_the_systemd_unit_matches_the_daemon():
    unit = _unit()
    service = unit["Service"]
    assert service["ExecStart"].endswith("/tracker daemon")
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == str(EXIT_CONFIG)
    assert service["KillSignal"] == "SIGTERM"
    assert service["EnvironmentFile"].startswith("/etc/") and "COINGECKO_API_KEY" not in service.get("Environment", "")
    assert service["WorkingDirectory"] in service["ReadWritePaths"].split()
    defaults = load_config(env={})
    # A stop may wait out one HTTP call and one lock timeout before exiting 0.
    needed = defaults.coingecko.timeout_seconds + defaults.database.lock_timeout_seconds
    assert int(service["TimeoutStopSec"]) > needed + 10
    assert int(unit["Unit"]["StartLimitBurst"]) >= 1 and int(service["RestartSec"]) >= 10
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_systemd_unit_verifies(tmp_path):
    """`systemd-analyze verify` accepts the unit (with its paths pointed at this machine)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here")
    from .conftest import venv_bin

    text = UNIT.read_text()
    text = text.replace("/opt/ai-token-tracker/.venv/bin/tracker", venv_bin("tracker"))
    text = text.replace("/var/lib/ai-token-tracker", str(tmp_path))
    text = text.replace("User=tracker", "User=root").replace("Group=tracker", "Group=root")
    unit = tmp_path / "tracker-daemon.service"
    unit.write_text(text)
    done = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "tracker-daemon.service" in line and "EnvironmentFile" not in line]
    assert done.returncode == 0 or not problems, done.stdout + done.stderr
    assert not problems, problems
