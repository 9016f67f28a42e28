"""`tracker daemon` on the command line: help, schedules validated at start (exit 78, one line,
nothing started), and --once exits 1 when a job failed."""
from __future__ import annotations

import pytest

from .daemon_harness import once, write_config
from .test_daemon_offline import closed_port


def test_help(cli_runner):
    result = cli_runner("daemon", "--help")
    assert result.exit_code == 0
    assert "--once" in result.output and "--log-level" in result.output and "exits 78" in result.output


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[schedules.markets]\nevery = "10m"\njitter = "6m"\n',
         "error: schedules.markets.jitter (360s) must be at most half of schedules.markets.every (600s); set a smaller jitter"),
        ('[schedules.members]\ncron = "61 * * * *"\n',
         "error: schedules.members.cron = '61 * * * *' is not a valid cron expression: "),
        ('[schedules.history]\nevery = "0s"\n', "error: schedules.history.every must be longer than 0s"),
        ('[schedules.markets]\nevery = "10m"\ncron = "0 * * * *"\n',
         "error: schedules.markets needs exactly one of `every` (e.g. \"10m\") or `cron` (five fields)"),
        ('[schedules.hourly]\nevery = "1h"\n', "error: schedules.hourly is not a job; jobs are markets, categories, members, history"),
    ],
    ids=["jitter", "cron", "zero", "both", "unknown-job"],
)
def test_bad_schedules_are_refused_at_start(tmp_path, cli_runner, toml, message):
    (tmp_path / "tracker.toml").write_text(toml)
    result = cli_runner("daemon")
    assert result.exit_code == 78
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert not (tmp_path / "data").exists()  # refused before anything was made


def test_demo_plan_without_a_key_is_refused(tmp_path, cli_runner):
    result = cli_runner("daemon", "--once", env={"COINGECKO_PLAN": "demo"})
    assert result.exit_code == 78
    assert result.output.strip().splitlines() == [
        "error: coingecko.plan = 'demo' needs an API key: set COINGECKO_API_KEY (or use plan keyless)"]
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_once_exits_1_when_a_job_failed(tmp_path):
    write_config(tmp_path, f"http://127.0.0.1:{closed_port()}/api/v3")
    done = once(tmp_path)
    assert done.returncode == 1
    # The first job finds the host unreachable; the jobs after it are not started (issue 17).
    errors = [line for line in done.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and "categories failed: cannot reach 127.0.0.1" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
