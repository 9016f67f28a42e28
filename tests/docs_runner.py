"""Run the shell examples in a Markdown file, so the docs cannot lie.

A fenced block marked ```console holds commands after "$ " and, below each, the output
expected. Expected lines must appear in order in the real output; a line "..." stands for
any number of lines, and "..." inside a line for any text. Commands run with bash in one
folder, in order, so later examples see what earlier ones made.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"```console\n(.*?)```", re.S)


@dataclass
class Example:
    command: str
    expected: list[str] = field(default_factory=list)


def examples(markdown: str) -> list[Example]:
    found: list[Example] = []
    for block in FENCE.findall(markdown):
        for line in block.splitlines():
            if line.startswith("$ "):
                found.append(Example(line[2:]))
            elif found and line.strip():
                found[-1].expected.append(line.rstrip())
    return found


def _line_matches(expected: str, actual: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in expected.strip().split("..."))
    return re.fullmatch(pattern, actual.strip()) is not None


def output_matches(expected: list[str], actual: str) -> bool:
    lines = actual.splitlines()
    position = 0
    for want in expected:
        if want.strip() == "...":
            continue
        while position < len(lines) and not _line_matches(want, lines[position]):
            position += 1
        if position == len(lines):
            return False
        position += 1
    return True


def run_examples(markdown_path: Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> int:
    """Run every example; raise AssertionError naming the first that fails. Returns how many ran."""
    bin_dir = str(Path(sys.executable).parent)
    run_env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "COINGECKO_"))}
    run_env["PATH"] = bin_dir + os.pathsep + run_env.get("PATH", "")
    run_env.update(env or {})
    count = 0
    for example in examples(markdown_path.read_text()):
        done = subprocess.run(["bash", "-c", example.command], cwd=cwd, env=run_env, capture_output=True, text=True, timeout=timeout)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{markdown_path.name}: `{example.command}` exited {done.returncode}: {output[-2000:]}"
        assert output_matches(example.expected, output), (
            f"{markdown_path.name}: `{example.command}` printed:\n{output[-3000:]}\nexpected (in order):\n" + "\n".join(example.expected)
        )
        count += 1
    return count
