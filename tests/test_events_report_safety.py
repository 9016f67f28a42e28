"""An event's source URL and texts never carry HTML into a report: `events add` and `events
import` refuse a source that is not a plain http(s) URL, and report.md escapes (and report
HTML drops) whatever a row written past the checks holds. Event files must be UTF-8."""
from __future__ import annotations

import duckdb
import pytest

from .report_helpers import fixture_database

HOSTILE = 'https://example.com/"><script>alert(1)</script>'


@pytest.mark.parametrize("source", [
    HOSTILE,
    "https://example.com/a b",
    "https://example.com/<img>",
    "https://example.com/x'y",
    "https://example.com/\x07",
    "javascript:alert(1)",
    "https:///no-host",
])
def test_events_add_refuses_a_source_that_is_not_a_plain_url(cli_runner, tmp_path, source):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    result = cli_runner("--db", "t.duckdb", "events", "add", "bad-one", "--name", "X", "--date", "2024-02-15",
                        "--source", source)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: event 'bad-one' ") and "source" in result.stderr
    assert result.stderr.count("\n") == 1
    listed = cli_runner("--db", "t.duckdb", "events", "list", "--format", "csv")
    assert "bad-one" not in listed.stdout


def test_events_add_keeps_a_plain_url(cli_runner):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    url = "https://example.com/news/2024/sora?ref=rss&x=%22"
    result = cli_runner("--db", "t.duckdb", "events", "add", "good-one", "--name", "X", "--date", "2024-02-15", "--source", url)
    assert result.exit_code == 0, result.output
    assert url in cli_runner("--db", "t.duckdb", "events", "list", "--format", "csv").stdout


@pytest.mark.parametrize("name, body", [
    ("events.toml", f'[[event]]\nid = "ok-one"\nname = "Fine"\ntimestamp = 2024-02-14\n\n'
                    f'[[event]]\nid = "evil"\nname = "Evil"\ntimestamp = 2024-02-15\nsource = \'{HOSTILE}\'\n'),
    ("events.csv", f'id,name,timestamp,source\nok-one,Fine,2024-02-14,\nevil,Evil,2024-02-15,"{HOSTILE.replace(chr(34), chr(34) * 2)}"\n'),
])
def test_events_import_refuses_the_whole_file(cli_runner, tmp_path, name, body):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    (tmp_path / name).write_text(body)
    result = cli_runner("--db", "t.duckdb", "events", "import", name)
    assert result.exit_code == 1 and "event 'evil' source" in result.stderr and result.stderr.count("\n") == 1
    listed = cli_runner("--db", "t.duckdb", "events", "list", "--format", "csv").stdout
    assert "ok-one" not in listed and "evil" not in listed


@pytest.mark.parametrize("name, body", [
    ("latin1.toml", '[[event]]\nid = "cafe"\nname = "Caf\xe9 launch"\ntimestamp = 2024-02-14\n'),
    ("latin1.csv", "id,name,timestamp\ncafe,Caf\xe9 launch,2024-02-14\n"),
])
def test_an_events_file_that_is_not_utf8_is_one_line_with_the_offset(cli_runner, tmp_path, name, body):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    data = body.encode("latin-1")
    (tmp_path / name).write_bytes(data)
    result = cli_runner("--db", "t.duckdb", "events", "import", name)
    assert result.exit_code == 1
    offset = data.index(b"\xe9")
    assert result.stderr == f"error: events file {name} is not UTF-8 text (bad byte at offset {offset}); save it as UTF-8\n"


def test_a_row_written_past_the_checks_is_escaped_in_report_md_and_html(cli_runner, tmp_path):
    fixture_database(tmp_path)
    with duckdb.connect(str(tmp_path / "tracker.duckdb")) as con:
        con.execute("UPDATE events SET source_url = ?, name = ?, notes = ? WHERE event_id = 'sora-demo'",
                    [HOSTILE, "Sora <img src=x onerror=alert(2)> [link](javascript:alert(3))", "<b>n</b>"])
        con.execute("UPDATE events SET source_url = 'javascript:alert(4)' WHERE event_id = 'nvidia-earnings-2024-02'")
    result = cli_runner("--db", "tracker.duckdb", "report", "event-study", "--event", "sora-demo",
                        "--event", "nvidia-earnings-2024-02", "--tokens", "fetch-ai,worldcoin-wld", "--output", "out", "--quiet")
    assert result.exit_code == 0, result.output
    markdown = (tmp_path / "out" / "report.md").read_text()
    page = (tmp_path / "out" / "index.html").read_text()
    for text in (markdown, page):
        assert "<script>alert" not in text and "<img" not in text and "<b>" not in text
        assert "javascript:alert(4)" not in text  # a non-web link stays text, never a link
    # The source stays a working link, its quote and brackets percent-encoded.
    assert "](<https://example.com/%22%3E%3Cscript%3Ealert%281%29%3C/script%3E>)" in markdown
    assert "\\[link\\](javascript:alert(3))" in markdown  # the name's Markdown stays text


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1500-01-01", "2300-01-01"])
def test_an_event_time_outside_1900_to_2199_is_one_line(cli_runner, when):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    result = cli_runner("--db", "t.duckdb", "events", "add", "far-off", "--name", "X", "--date", when)
    assert result.exit_code == 1
    assert result.stderr == f"error: event 'far-off': timestamp {when} is outside 1900 to 2199\n"


@pytest.mark.parametrize("name, body, message", [
    ("nul.csv", "id,name,timestamp\nb1,b\x00c,2024-01-01\n", "nul.csv line 2: event 'b1' field 'name' holds control character 0x00; remove it"),
    ("esc.toml", '[[event]]\nid = "e1"\nname = "x"\ntimestamp = 2024-01-01\nnotes = "a\\u001b[31mred"\n',
     "esc.toml [[event]] 1: event 'e1' field 'notes' holds control character 0x1b; remove it"),
    ("ints.toml", "event = [1, 2]\n", "ints.toml: events must be [[event]] tables"),
    ("big.csv", "id,name,timestamp\nb2," + "x" * 200_000 + ",2024-01-01\n", "big.csv after line 1: not readable as CSV"),
])
def test_malformed_event_files_are_one_line(cli_runner, tmp_path, name, body, message):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    (tmp_path / name).write_text(body)
    result = cli_runner("--db", "t.duckdb", "events", "import", name)
    assert result.exit_code == 1 and result.stderr.startswith(f"error: {message}") and result.stderr.count("\n") == 1


def test_tabs_and_newlines_in_notes_are_kept(cli_runner, tmp_path):
    assert cli_runner("--db", "t.duckdb", "init").exit_code == 0
    (tmp_path / "ok.csv").write_text('id,name,timestamp,notes\nb3,n,2024-01-01,"two\nlines\tand a tab"\n')
    assert cli_runner("--db", "t.duckdb", "events", "import", "ok.csv").exit_code == 0
