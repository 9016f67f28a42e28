"""Generate docs/cli.md from the commands' own --help, so the reference cannot drift.

Run ``python -m tracker.cli.reference > docs/cli.md`` after changing a command; a test fails
when the file differs from what this prints.
"""
from __future__ import annotations

import click

HEADER = """# CLI reference

Generated from each command's `--help` by `python -m tracker.cli.reference > docs/cli.md`;
`tests/test_docs_cli.py` fails when this file is out of date. Every command prints errors as one
line on stderr with a non-zero exit; commands that print data take `--format table|json|csv`.
"""


def walk(group: click.Group, path: tuple[str, ...] = ("tracker",)):
    ctx = click.Context(group, info_name=path[-1])
    yield path, group
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            yield from walk(command, path + (name,))
        else:
            yield path + (name,), command


def help_text(command: click.Command, path: tuple[str, ...]) -> str:
    with click.Context(
        command, info_name=" ".join(path), terminal_width=100, max_content_width=100, help_option_names=["-h", "--help"]
    ) as ctx:
        return command.get_help(ctx)


def reference(root: click.Group) -> str:
    parts = [HEADER]
    for path, command in walk(root):
        parts.append(f"## `{' '.join(path)}`\n\n```text\n{help_text(command, path).rstrip()}\n```\n")
    return "\n".join(parts)


def main() -> None:
    from . import cli

    print(reference(cli), end="")


if __name__ == "__main__":
    main()
