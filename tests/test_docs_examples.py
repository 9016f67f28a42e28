"""The console examples in the storage and configuration docs run as written."""
from __future__ import annotations

from pathlib import Path

import pytest

from .docs_runner import examples, output_matches, run_examples

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", [pytest.param("storage.md", marks=pytest.mark.slow), "configuration.md"])  # storage.md: 4.5 s
def test_doc_examples_run(name, tmp_path):
    assert run_examples(DOCS / name, tmp_path) >= 1


def test_runner_matches_in_order_with_ellipsis():
    assert output_matches(["a", "...", "c ... e"], "a\nb\nc d e\n")
    assert not output_matches(["c", "a"], "a\nc\n")
    assert [e.command for e in examples("```console\n$ echo 1\n1\n```\n")] == ["echo 1"]
