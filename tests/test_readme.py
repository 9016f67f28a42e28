"""The README tells the truth: its test command is what CI runs, and its tour runs."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracker.sources.fakeexchange import FakeExchange
from tracker.sources.fakegecko import FakeGecko

from .docs_runner import run_examples

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _bash_blocks(text: str) -> list[str]:
    return re.findall(r"```bash\n(.*?)```", text, re.S)


def test_ci_runs_the_readme_test_command_verbatim():
    commands = [line for block in _bash_blocks(README.read_text()) for line in block.splitlines()]
    test_command = [c for c in commands if "pytest" in c]
    assert len(test_command) == 1
    assert test_command[0] in (ROOT / ".ci" / "run").read_text()


def test_readme_main_command_installs_and_starts_the_daemon():
    commands = [line for block in _bash_blocks(README.read_text()) for line in block.splitlines()]
    assert "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/tracker daemon" in commands


def test_readme_links_point_at_files():
    for target in re.findall(r"\]\(([^)#]+)\)", README.read_text()):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target


@pytest.mark.slow
def test_readme_tour_runs_against_the_fake_server(tmp_path):
    days = pd.date_range("2023-09-01", "2024-04-30", freq="D")
    rng = np.random.default_rng(1)
    pd.DataFrame({
        "date_utc": days.strftime("%Y-%m-%d"),
        "FET": 0.5 * np.exp(np.cumsum(rng.normal(0, 0.04, len(days)))),
        "WLD": 2.0 * np.exp(np.cumsum(rng.normal(0, 0.05, len(days)))),
    }).to_csv(tmp_path / "prices.csv", index=False)
    with FakeGecko(host_type="pro", ai_coins=12, other_coins=4, history_limit_days=None, pro_keys=["pro-test-key"]) as fake, \
            FakeExchange() as exchange:
        config = tmp_path / "tour.toml"
        config.write_text(
            "[coingecko]\ncalls_per_minute = 6000\nbackoff_seconds = 0.01\nbackoff_max_seconds = 0.05\n"
            "[tracking]\nhistory_days = 1300\n"
        )
        env = {
            "TRACKER_CONFIG": str(config),
            "COINGECKO_PLAN": "pro",
            "COINGECKO_API_KEY": "pro-test-key",
            "COINGECKO_BASE_URL": fake.base_url,
            "TRACKER_EXCHANGE_BASE_URL": exchange.base_url,
        }
        ran = run_examples(README, tmp_path, env=env, timeout=600)
    assert ran >= 10
    assert (tmp_path / "reports" / "sora" / "index.html").is_file()
    assert (tmp_path / "reports" / "sora-candles" / "index.html").is_file()
    assert any((tmp_path / "exports").iterdir())
