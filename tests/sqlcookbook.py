"""Run every example in docs/sql.md against the fixture database, in doc order.

Three kinds of example:

* ``<!-- cookbook: NAME -->`` then a ```sql block: a query, run as `tracker sql` runs it; its
  output (rendered as `tracker sql` prints a table) is the ```text block after
  ``<!-- output: NAME -->`` and must match exactly;
* ``<!-- example: NAME -->`` then a ```python block: run with this Python; its stdout is the
  ```text block after ``<!-- output: NAME -->``, matched exactly;
* ```console blocks: commands after ``$ `` run with bash; the lines below each must appear in
  order in its output ("..." stands for anything), as tests/docs_runner.py checks other docs.

All examples run in one scratch folder that holds the fixture database at the default path,
data/tracker.duckdb, so a later example reads what an earlier one wrote (the Parquet export).
``update_docs`` rewrites the exact outputs; console blocks are written by hand.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests import docs_runner

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "sql.md"
FIXTURE_RELATIVE = Path("data") / "tracker.duckdb"

_BLOCK = re.compile(
    r"<!-- (?P<kind>cookbook|example): (?P<name>[a-z0-9-]+) -->\n```(?P<lang>[a-z]+)\n(?P<code>.*?)\n```\n"
    r"|```console\n(?P<console>.*?)```\n",
    re.S,
)
_OUTPUT = re.compile(r"<!-- output: (?P<name>[a-z0-9-]+) -->\n```text\n(?P<text>.*?)```\n", re.S)
_FENCE = re.compile(r"^```(\w*)$", re.M)


@dataclass(frozen=True)
class Example:
    kind: str          # 'cookbook' (SQL), 'example' (python) or 'console' (shell)
    name: str
    lang: str
    code: str
    shown: str | None  # the exact output the doc shows (cookbook and python), else None
    title: str         # the nearest heading above the example


def load_examples(text: str | None = None) -> list[Example]:
    text = DOC.read_text(encoding="utf-8") if text is None else text
    outputs = {m["name"]: m["text"].rstrip("\n") for m in _OUTPUT.finditer(text)}
    examples = []
    for number, match in enumerate(_BLOCK.finditer(text)):
        headings = re.findall(r"^#+ (.+)$", text[: match.start()], re.M)
        title = headings[-1] if headings else ""
        if match["console"] is not None:
            examples.append(Example("console", f"console-{number}", "console", match["console"], None, title))
        else:
            examples.append(Example(match["kind"], match["name"], match["lang"], match["code"],
                                    outputs.get(match["name"]), title))
    names = [e.name for e in examples]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"docs/sql.md: duplicate example names {sorted(duplicates)}")
    return examples


def cookbook_queries(text: str | None = None) -> list[Example]:
    return [e for e in load_examples(text) if e.kind == "cookbook"]


def unmarked_code_blocks(text: str | None = None) -> list[str]:
    """Languages of shell/python blocks that no runner executes (the doc must have none)."""
    text = DOC.read_text(encoding="utf-8") if text is None else text
    runnable = {m.start("lang") - 3 for m in _BLOCK.finditer(text) if m["lang"]}
    found = []
    opening = True
    for fence in _FENCE.finditer(text):
        if opening and fence[1] in {"bash", "sh", "shell", "zsh", "python", "py"} and fence.start() not in runnable:
            found.append(fence[1])
        opening = not opening
    return found


class Workspace:
    """A scratch folder with the fixture database at data/tracker.duckdb."""

    def __init__(self, fixture: Path):
        self._tmp = tempfile.TemporaryDirectory(prefix="sqldoc-")
        self.path = Path(self._tmp.name)
        target = self.path / FIXTURE_RELATIVE
        target.parent.mkdir(parents=True)
        shutil.copyfile(fixture, target)

    @property
    def database(self) -> Path:
        return self.path / FIXTURE_RELATIVE

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TRACKER_", "COINGECKO_"))}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        return env

    def close(self) -> None:
        self._tmp.cleanup()


def _run_console(example: Example, workspace: Workspace) -> str:
    outputs = []
    for command in docs_runner.examples(f"```console\n{example.code}```\n"):
        # stderr merged into stdout as written, the way a terminal shows them
        done = subprocess.run(["bash", "-c", command.command], cwd=workspace.path, env=workspace.env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        output = done.stdout
        if done.returncode != 0:
            raise AssertionError(f"`{command.command}` exited {done.returncode}: {output[-2000:]}")
        if not docs_runner.output_matches(command.expected, output):
            raise AssertionError(
                f"`{command.command}` printed:\n{output[-3000:]}\nexpected (in order):\n" + "\n".join(command.expected)
            )
        outputs.append(output)
    return "\n".join(outputs)


def run_example(example: Example, workspace: Workspace) -> str:
    """Run one example and return its output (for cookbook and python: as the doc shows it)."""
    if example.kind == "console":
        return _run_console(example, workspace)
    if example.kind == "cookbook":
        import storage
        from tracker.analysis.output import render

        db = storage.Database(workspace.database)
        return render(storage.run_user_sql(db, example.code), "table").rstrip()
    if example.lang != "python":
        raise ValueError(f"example {example.name}: cannot run a {example.lang} block (shell examples go in ```console)")
    done = subprocess.run([sys.executable, "-c", example.code], cwd=workspace.path, env=workspace.env(),
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"example {example.name} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    return "\n".join(line.rstrip() for line in done.stdout.rstrip().splitlines())


def run_all(fixture: Path) -> dict[str, str]:
    """Every example's actual output, in doc order, in one workspace (console blocks are checked)."""
    workspace = Workspace(fixture)
    try:
        return {e.name: run_example(e, workspace) for e in load_examples()}
    finally:
        workspace.close()


def update_docs() -> int:
    """Rewrite (or insert) the exact output block of every cookbook and python example.

    Returns the number of blocks changed.
    """
    from tests.sqlfixture import build_fixture

    with tempfile.TemporaryDirectory(prefix="sqlfixture-") as tmp:
        fixture = Path(tmp) / "fixture.duckdb"
        build_fixture(fixture)
        actual = run_all(fixture)
    text = DOC.read_text(encoding="utf-8")
    changed = 0

    def replace_output(match: re.Match) -> str:
        nonlocal changed
        name = match["name"]
        new = f"<!-- output: {name} -->\n```text\n{actual[name]}\n```\n"
        if match.group(0) != new:
            changed += 1
        return new

    text = _OUTPUT.sub(replace_output, text)

    def add_missing(match: re.Match) -> str:
        nonlocal changed
        if match["console"] is not None:
            return match.group(0)
        name = match["name"]
        following = text[match.end(): match.end() + 200]
        if following.lstrip().startswith(f"<!-- output: {name} -->"):
            return match.group(0)
        changed += 1
        return match.group(0) + f"\n<!-- output: {name} -->\n```text\n{actual[name]}\n```\n"

    text = _BLOCK.sub(add_missing, text)
    DOC.write_text(text, encoding="utf-8")
    return changed
