"""docs/eventstudy.md runs as written: its Python blocks in order (one namespace, asserting what
they claim), then its console examples against the files the Python wrote."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from .docs_runner import run_examples

DOC = Path(__file__).resolve().parents[1] / "docs" / "eventstudy.md"
PYTHON = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.slow  # six `tracker` processes, about 2 s each to start
def test_python_and_console_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    blocks = PYTHON.findall(DOC.read_text())
    assert len(blocks) >= 3
    namespace: dict = {"__name__": "eventstudy_doc"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"{DOC.name} python block {number}", "exec"), namespace)
    assert (tmp_path / "returns.csv").is_file() and (tmp_path / "car.svg").is_file()
    assert run_examples(DOC, tmp_path) >= 5
    assert (tmp_path / "sora-out" / "results.json").is_file()


def test_every_test_and_model_is_documented():
    from tracker.analysis.eventstudy import MODELS, TESTS

    text = DOC.read_text()
    for name in TESTS:
        assert f"(`{name}`)" in text, name
    for model in MODELS:
        assert f"`{model}`" in text, model
