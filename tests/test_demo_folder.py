"""`tracker demo`'s default folder is ignored by git, and --help says where the fake server runs
(issue 17, point 8)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tracker.cli.report_commands import demo_command

ROOT = Path(__file__).resolve().parents[1]


def _default_folder() -> str:
    return next(p for p in demo_command.params if p.name == "output_dir").default


def test_the_default_folder_is_in_gitignore():
    patterns = [line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()]
    assert f"{_default_folder()}/" in patterns or f"/{_default_folder()}/" in patterns


def test_git_ignores_what_the_demo_writes_there():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    inside = f"{_default_folder()}/report/index.html"
    result = subprocess.run(["git", "check-ignore", "-q", inside], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == 0, f"git does not ignore {inside}"


def test_help_says_where_the_fake_server_runs(cli_runner):
    result = cli_runner("demo", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "127.0.0.1" in text and "free port" in text and "--output DIR" in text and "[default: tracker-demo]" in text
