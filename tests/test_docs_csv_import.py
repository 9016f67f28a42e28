"""Every example in docs/csv-import.md runs, in order, and prints what the page says.

Conventions of the page:
* ``<!-- file: NAME -->`` before a fenced block: the block is written to NAME first.
* ``console`` blocks: ``$ command`` lines, each followed by its expected stdout. A line ``...``
  stands for any number of lines. Expected output starting with ``error:`` is stderr, and the
  command must fail.
* ``python`` blocks are executed, in the same folder, and assert what they show.

The examples run in an empty folder beside a link to ../shared, as from the project root; those
that read ../shared are skipped when it is absent (they come last on the page).
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from .conftest import REALDATA, SHARED, subprocess_env

DOC = Path(__file__).resolve().parents[1] / "docs" / "csv-import.md"
_FENCE = re.compile(r"(?:<!-- file: (?P<file>[^ ]+) -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)


@dataclass
class Block:
    lang: str
    body: str
    file: str | None
    line: int


def blocks(text: str) -> list[Block]:
    return [Block(m["lang"], m["body"], m["file"], text[: m.start()].count("\n") + 1) for m in _FENCE.finditer(text)]


def commands(body: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) pairs of a console block; a trailing backslash continues a command."""
    out: list[tuple[str, list[str]]] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise AssertionError(f"console block line {lines[i]!r} is not under a command")
        command = lines[i][2:]
        while command.endswith("\\"):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        i += 1
        expected = []
        while i < len(lines) and not lines[i].startswith("$ "):
            expected.append(lines[i])
            i += 1
        out.append((command, expected))
    return out


def matches(expected: list[str], actual: list[str]) -> bool:
    """Line-by-line equality where a '...' line matches any run of lines."""
    if not expected:
        return not actual
    if expected[0] == "...":
        return any(matches(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and expected[0] == actual[0] and matches(expected[1:], actual[1:])


def _clean(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _run_command(command: str, workdir: Path, env: dict) -> tuple[int, str, str]:
    """`tracker ...` runs in-process (the same CLI, without a second of start-up per example);
    anything with shell syntax runs in bash."""
    words = shlex.split(command)
    if words and words[0] == "tracker" and not set(command) & set("|&;<>$`"):
        from tracker.cli import cli

        unset = {name: None for name in os.environ if name.startswith(("TRACKER_", "COINGECKO_"))}
        cwd = os.getcwd()
        os.chdir(workdir)
        try:
            result = CliRunner().invoke(cli, words[1:], env=unset, prog_name="tracker")
        finally:
            os.chdir(cwd)
        return result.exit_code, result.stdout, result.stderr
    done = subprocess.run(["bash", "-c", command], cwd=workdir, env=env, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout, done.stderr


def run_page(workdir: Path, *, realdata: bool = True) -> list[str]:
    """Run every example (those reading ../shared only when ``realdata``); return one message per mismatch."""
    env = subprocess_env(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    failures = []
    for block in blocks(DOC.read_text()):
        if not realdata and "../shared" in block.body:
            continue
        if block.file:
            (workdir / block.file).write_text(block.body)
        elif block.lang == "console":
            for command, expected in commands(block.body):
                code, stdout, stderr = _run_command(command, workdir, env)
                wants_error = bool(expected) and expected[0].startswith("error:")
                actual = _clean(stderr if wants_error else stdout)
                if (code != 0) != wants_error or not matches(expected, actual):
                    failures.append(
                        f"line {block.line}: $ {command}\n(exit {code})\n--- expected\n"
                        + "\n".join(expected) + "\n--- got\n" + "\n".join(actual) + "\n--- stderr\n" + stderr
                    )
        elif block.lang == "python":
            cwd = os.getcwd()
            os.chdir(workdir)
            try:
                exec(compile(block.body, f"{DOC.name}:{block.line}", "exec"), {"__name__": "__doc_example__"})
            except Exception as exc:  # report every failing example, not just the first
                failures.append(f"line {block.line}: python example failed: {type(exc).__name__}: {exc}")
            finally:
                os.chdir(cwd)
    return failures


def test_matches_with_ellipsis():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "b"], ["a", "b"])
    assert not matches(["a", "...", "d"], ["a", "b", "c"])
    assert not matches(["a"], ["a", "b"])


@pytest.mark.slow
def test_every_example_in_the_page_runs(tmp_path):
    workdir = tmp_path / "work"
    workdir.mkdir()
    realdata = REALDATA.is_dir()  # without it, the examples that read ../shared are left out
    if realdata:
        (tmp_path / "shared").symlink_to(SHARED, target_is_directory=True)
    failures = run_page(workdir, realdata=realdata)
    assert not failures, "\n\n".join(failures)


if __name__ == "__main__":  # print what the examples give now, to update the page by hand
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        (Path(tmp) / "shared").symlink_to(SHARED, target_is_directory=True)
        print("\n\n".join(run_page(work)) or "all examples match")
