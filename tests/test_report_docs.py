"""Every example in docs/reports.md runs, in order, and prints what the page says.

Conventions of the page:
* ``console`` blocks: ``$ command`` lines (a trailing backslash continues a command), each
  followed by lines that must appear in order in its output (stdout and stderr as they came);
  ``...`` stands for any lines, and ``...`` inside a line for any text. Expected output that
  starts with ``error:`` means the command must fail.
* ``python`` blocks run with this Python; the ``text`` block after "It prints:" is their stdout.
* ``<!-- needs: realdata chromium -->`` before a block: skipped (with the rest that needs the
  same) when ../shared/realdata or a Chromium is absent.

The examples run in an empty folder beside a link to ../shared, as from the project root.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.docs_runner import output_matches

from .conftest import REALDATA, SHARED, subprocess_env

DOC = Path(__file__).resolve().parents[1] / "docs" / "reports.md"
_BLOCK = re.compile(r"(?:<!-- needs: (?P<needs>[a-z ]+) -->\n)?```(?P<lang>console|python)\n(?P<body>.*?)```"
                    r"(?:\n+It prints:\n+```text\n(?P<prints>.*?)```)?", re.S)


@dataclass
class Block:
    lang: str
    body: str
    needs: set[str]
    prints: str | None
    line: int


def blocks() -> list[Block]:
    text = DOC.read_text()
    return [Block(m["lang"], m["body"], set((m["needs"] or "").split()), m["prints"], text[: m.start()].count("\n") + 1)
            for m in _BLOCK.finditer(text)]


def commands(body: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        assert lines[i].startswith("$ "), f"console line {lines[i]!r} is not under a command"
        command = lines[i][2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            if lines[i].strip():
                expected.append(lines[i])
            i += 1
        out.append((command, expected))
    return out


def chromium_found() -> bool:
    return shutil.which("chromium") is not None


def test_the_page_has_examples_of_every_kind():
    found = blocks()
    assert {b.lang for b in found} == {"console", "python"}
    assert any("realdata" in b.needs for b in found) and any("tracker demo" in b.body for b in found)
    assert all(b.prints for b in found if b.lang == "python")


@pytest.mark.slow
def test_every_example_runs_as_shown(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    if SHARED.is_dir():
        (tmp_path / "shared").symlink_to(SHARED)
    available = {"realdata": REALDATA.is_dir(), "chromium": chromium_found()}
    bin_dir = str(Path(sys.executable).parent)
    env = subprocess_env(PYTHONUNBUFFERED="1", PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    ran = skipped = 0
    for block in blocks():
        if not all(available[need] for need in block.needs):
            skipped += 1
            continue
        if block.lang == "python":
            done = subprocess.run([sys.executable, "-c", block.body], cwd=work, env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, f"reports.md line {block.line}: {done.stderr[-2000:]}"
            assert done.stdout == block.prints, f"reports.md line {block.line} printed:\n{done.stdout}"
            ran += 1
            continue
        for command, expected in commands(block.body):
            done = subprocess.run(["bash", "-c", command], cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, timeout=300)
            failing = bool(expected) and expected[0].startswith("error:")
            assert (done.returncode != 0) == failing, f"reports.md line {block.line}: `{command}` exited {done.returncode}:\n{done.stdout[-3000:]}"
            assert output_matches(expected, done.stdout), (
                f"reports.md line {block.line}: `{command}` printed:\n{done.stdout[-4000:]}\nexpected (in order):\n" + "\n".join(expected))
            ran += 1
    assert ran >= 6
    if skipped:
        pytest.skip(f"ran {ran} examples; {skipped} block(s) need ../shared/realdata or chromium, which are absent")
