"""Every example in docs/coingecko.md runs as written."""
from __future__ import annotations

from pathlib import Path

from .docs_runner import run_examples
from .gecko_helpers import run_python_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "coingecko.md"


def test_python_examples_run():
    assert run_python_blocks(DOC) >= 4


def test_console_examples_run(tmp_path):
    assert run_examples(DOC, tmp_path) >= 1
