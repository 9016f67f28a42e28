"""docs/cli.md is generated from --help and must match the commands as they are."""
from __future__ import annotations

from pathlib import Path

from tracker.cli import cli
from tracker.cli.reference import reference, walk

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_cli_reference_is_up_to_date():
    assert DOC.read_text() == reference(cli), "docs/cli.md is stale: run `python -m tracker.cli.reference > docs/cli.md`"


def test_every_command_is_documented():
    text = DOC.read_text()
    for path, _ in walk(cli):
        assert f"## `{' '.join(path)}`" in text
