"""The CLI end to end: init, status, sql and events, as a real console script and in-process."""
from __future__ import annotations

import json
import subprocess

import click
import pytest

from tracker.cli import cli

from .conftest import subprocess_env, venv_bin


def _run(*args: str, cwd, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [venv_bin("tracker"), *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=subprocess_env(**(env or {}))
    )


@pytest.mark.slow
def test_init_status_sql_in_an_empty_folder(tmp_path):
    for args in (["init"], ["status"], ["sql", "select count(*) as n from events"]):
        out = _run(*args, cwd=tmp_path)
        assert out.returncode == 0, out.stderr
        assert "Traceback" not in out.stderr
    assert int(out.stdout.strip().splitlines()[-1]) >= 10
    assert (tmp_path / "data" / "tracker.duckdb").is_file()


def test_status_before_init_is_one_line(tmp_path):
    out = _run("status", cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr.strip() == "error: no database at data/tracker.duckdb; run `tracker init` first (or set TRACKER_DB)"


def test_sql_formats(cli_runner):
    assert cli_runner("init").exit_code == 0
    query = "select event_id, ts from events where event_id in ('gpt-4', 'sora-demo') order by ts"
    as_json = json.loads(cli_runner("sql", query, "--format", "json").output)
    assert as_json == [
        {"event_id": "gpt-4", "ts": "2023-03-14T17:00:00"},
        {"event_id": "sora-demo", "ts": "2024-02-15T18:00:00"},
    ]
    assert cli_runner("sql", query, "--format", "csv").output.splitlines() == [
        "event_id,ts",
        "gpt-4,2023-03-14T17:00:00",
        "sora-demo,2024-02-15T18:00:00",
    ]
    table = cli_runner("sql", query).output.splitlines()
    assert table[0].split() == ["event_id", "ts"] and table[2].startswith("gpt-4")


@pytest.mark.parametrize(
    "query, message",
    [
        ("insert into events values ('x','x',now(),true,'x',null,null,now())", "INSERT statements are refused"),
        ("drop table events", "DROP statements are refused"),
        ("create table t (x int)", "CREATE statements are refused"),
        ("copy events to 'out.csv'", "COPY statements are refused"),
        ("attach 'other.duckdb' as o", "ATTACH statements are refused"),
        ("select 1; delete from events", "DELETE statements are refused"),
        ("selec 1", "SQL error: Parser Error"),
        ("select * from no_such_table", "SQL error: Catalog Error"),
    ],
)
def test_sql_refuses_writes_and_reports_errors_in_one_line(cli_runner, tmp_path, query, message):
    cli_runner("init")
    result = cli_runner("sql", query)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert not (tmp_path / "out.csv").exists()
    assert int(cli_runner("sql", "select count(*) from events", "--format", "csv").output.splitlines()[1]) > 10


def test_status_json_has_every_section(cli_runner):
    cli_runner("init")
    status = json.loads(cli_runner("status", "--format", "json").output)
    assert set(status) >= {"database", "tables", "jobs", "recent_errors"}
    events = [t for t in status["tables"] if t["table"] == "events"][0]
    assert events["rows"] > 10


def test_events_commands(cli_runner, tmp_path):
    cli_runner("init")
    added = cli_runner("events", "add", "my-event", "--name", "Mine", "--timestamp", "2024-06-01T09:30:00+02:00")
    assert added.exit_code == 0 and "07:30 UTC" in added.output
    dup = cli_runner("events", "add", "my-event", "--name", "Again", "--timestamp", "2024-06-01")
    assert dup.exit_code == 1 and "already exists" in dup.output
    csv = tmp_path / "more.csv"
    csv.write_text("id,name,date\nnew-one,New,2024-07-01\n")
    imported = json.loads(cli_runner("events", "import", str(csv), "--format", "json").output)
    assert imported == [{"file": str(csv), "read": 1, "added": 1}]
    listed = json.loads(cli_runner("events", "list", "--format", "json").output)
    assert {"my-event", "new-one", "sora-demo"} <= {e["event_id"] for e in listed}
    missing = cli_runner("events", "import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 1 and "does not exist" in missing.output


def _walk(group: click.Group, prefix=()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _walk(command, prefix + (name,))


def test_every_command_has_help_and_data_commands_have_format(cli_runner):
    commands = list(_walk(cli))
    assert {"daemon", "ingest", "import", "study", "correlate", "gpu", "report", "demo", "export"} <= {p[0] for p, _ in commands}
    for path, command in commands:
        result = cli_runner(*path, "--help")
        assert result.exit_code == 0, path
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"


def test_unknown_command_and_missing_argument_are_one_line(cli_runner):
    for args in (["nosuch"], ["sql"], ["events", "add"]):
        result = cli_runner(*args)
        assert result.exit_code == 2
        assert len(result.output.strip().splitlines()) == 1


def test_a_command_exit_code_reaches_the_shell(tmp_path):
    """click returns (not raises) an Exit's code in non-standalone mode; the group passes it on."""
    config = tmp_path / "bad.toml"
    config.write_text('[coingecko]\nplan = "demo"\n')  # demo without a key: the daemon's config error
    out = _run("--config", str(config), "daemon", "--once", cwd=tmp_path)
    assert out.returncode == 78, out.stderr
    assert out.stderr.strip().startswith("error: ") and len(out.stderr.strip().splitlines()) == 1
