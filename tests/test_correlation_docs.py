"""Every example in docs/correlation.md runs as written: the Python blocks, then the console ones."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .docs_runner import run_examples

DOC = Path(__file__).resolve().parents[1] / "docs" / "correlation.md"


@pytest.mark.slow  # eleven `tracker` processes
def test_correlation_doc_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) == 3
    namespace: dict = {}
    for block in blocks:  # the first makes demo.duckdb and nvda.csv; the others share names
        exec(compile(block, str(DOC), "exec"), namespace)
    assert (tmp_path / "demo.duckdb").exists() and (tmp_path / "nvda.csv").exists()
    ran = run_examples(DOC, tmp_path, env={"TRACKER_DB": "demo.duckdb"})
    assert ran == 11
    assert "<svg" in (tmp_path / "heatmap.svg").read_text() and "<svg" in (tmp_path / "change.svg").read_text()
