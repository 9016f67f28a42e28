"""Every example in docs/ingestion.md runs as written, against the fake server."""
from __future__ import annotations

from pathlib import Path

import pytest

from tracker.sources.fakegecko import FakeGecko

from .docs_runner import run_examples
from .gecko_helpers import run_python_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "ingestion.md"


def test_python_examples_run():
    assert run_python_blocks(DOC) >= 1


@pytest.mark.slow
def test_console_examples_run_against_the_fake(tmp_path):
    # Six coins in the category, as the doc says; the fake accepts calls as fast as they come.
    (tmp_path / "tracker.toml").write_text("[coingecko]\ncalls_per_minute = 3000\n")
    with FakeGecko(ai_coins=6, other_coins=4) as fake:
        assert run_examples(DOC, tmp_path, env={"COINGECKO_BASE_URL": fake.base_url}) >= 4
