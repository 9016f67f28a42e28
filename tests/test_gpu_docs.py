"""docs/gpu.md: its console and Python examples run as written, and its assumptions table is the config's."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracker.analysis.gpu import NAMES, load_assumptions

from .docs_runner import run_examples

DOC = Path(__file__).resolve().parents[1] / "docs" / "gpu.md"


@pytest.mark.slow  # eight real `tracker` processes, a few seconds each on a loaded machine
def test_console_examples_run(tmp_path):
    assert run_examples(DOC, tmp_path) >= 6
    assert (tmp_path / "tornado.svg").read_text().lstrip().startswith(("<?xml", "<svg"))
    assert (tmp_path / "grid.png").read_bytes()[:4] == b"\x89PNG"


def test_python_examples_run(tmp_path, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {})
    assert "713,333 H100 at peak" in capsys.readouterr().out


def _number(text: str) -> float | None:
    return None if text == "(not set)" else float(text)


def test_assumptions_table_matches_config():
    rows = re.findall(r"^\| `(\w+)` \| ([^|]*) \| ([^|]*) \| ([^|]*) \| ([^|]*) \| (.*) \|$", DOC.read_text(), re.M)
    assumptions = load_assumptions()
    assert [row[0] for row in rows] == list(NAMES), "one row per assumption, in the config's order"
    for name, value, unit, tag, span, source in rows:
        info = assumptions.info[name]
        default = getattr(assumptions.values, name)
        documented = _number(value.strip())
        assert (documented is None) == (default is None), name
        if default is not None:
            assert documented == pytest.approx(default, rel=1e-3), name
        assert (unit.strip(), tag.strip(), source.strip()) == (info.unit, info.tag, info.source), name
        if info.has_range:
            low, high = (float(part) for part in span.split(" – "))
            assert (low, high) == (info.low, info.high), name
        else:
            assert not span.strip(), name
