"""Dates on the command line are ISO 8601 only (issue 17): `--end 12/06/2025` was read as
6 December and `--end 13/06/2025` as 13 June, both silently. Every option that takes a date
now refuses anything else in one line that shows the form expected."""
from __future__ import annotations

import pandas as pd
import pytest

from tracker import utc
from tracker.analysis.events import event_from_mapping
from tracker.errors import EventsError

EXPECTED = "is not a date in ISO 8601 form; use YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.fff]] with an optional Z or ±HH:MM"
LOOSE = ["12/06/2025", "13/06/2025", "2025.06.12", "June 12", "20250612", "12-06-2025", "2025-6-12", "2025-06-12T18",
         "2025-06-12T18:00+0200", "tomorrow"]


@pytest.mark.parametrize("text, expected", [
    ("2024-02-15", pd.Timestamp("2024-02-15")),
    ("2024-02-15T18:00", pd.Timestamp("2024-02-15 18:00")),
    ("2024-02-15T18:00Z", pd.Timestamp("2024-02-15 18:00")),
    ("2024-02-15T18:00:30.250Z", pd.Timestamp("2024-02-15 18:00:30.250")),
    ("2024-02-15T20:00+02:00", pd.Timestamp("2024-02-15 18:00")),
    ("2024-02-15T13:00-05:00", pd.Timestamp("2024-02-15 18:00")),
    ("2024-02-15 18:00", pd.Timestamp("2024-02-15 18:00")),  # RFC 3339's space for the T
    (" 2024-02-15t18:00z ", pd.Timestamp("2024-02-15 18:00")),
])
def test_iso_forms_are_read_as_utc(text, expected):
    assert utc.parse_iso(text) == expected


@pytest.mark.parametrize("text", LOOSE)
def test_anything_else_is_refused_showing_the_form(text):
    with pytest.raises(utc.DateFormatError) as caught:
        utc.parse_iso(text)
    assert str(caught.value) == f"{text!r} {EXPECTED} (e.g. 2024-02-15T18:00Z)"


@pytest.mark.parametrize("text", ["2025-02-30", "2025-13-01", "2024-02-15T24:30"])
def test_a_date_that_does_not_exist_is_refused(text):
    with pytest.raises(utc.DateFormatError, match="is not a real date or time"):
        utc.parse_iso(text)


def _one_line_refusal(result, option: str, text: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"error: {option} {text!r} {EXPECTED}"), result.stderr
    assert "Traceback" not in result.output


@pytest.fixture
def daily_csv(tmp_path):
    path = tmp_path / "daily.csv"
    path.write_text("date,close\n2024-02-12,1\n2024-02-13,2\n")
    return path


COMMANDS = [
    *[(["correlate", sub, "--tokens", "fetch-ai", *(["--at", "2024-02-15"] if sub == "change" else []), option, "{date}"], option)
      for sub in ("matrix", "rolling", "change", "leadlag", "granger") for option in ("--start", "--end")],
    (["correlate", "change", "--tokens", "fetch-ai", "--at", "{date}"], "--at"),
    (["import", "csv", "{csv}", "--coin", "fetch-ai", "--start", "{date}"], "--start"),
    (["import", "csv", "{csv}", "--coin", "fetch-ai", "--end", "{date}"], "--end"),
]


@pytest.mark.parametrize("args, option", COMMANDS, ids=[" ".join(a[:2]) + " " + o for a, o in COMMANDS])
@pytest.mark.parametrize("text", ["12/06/2025", "13/06/2025"])
def test_every_cli_date_option_refuses_ambiguous_dates(db, cli_runner, daily_csv, args, option, text):
    result = cli_runner(*[a.format(date=text, csv=daily_csv) for a in args])
    _one_line_refusal(result, option, text)


@pytest.mark.parametrize("option", ["--timestamp", "--date", "--at"])
@pytest.mark.parametrize("text", ["12/06/2025", "2025.06.12", "June 12"])
def test_events_add_refuses_ambiguous_dates(db, cli_runner, option, text):
    result = cli_runner("events", "add", "gpt-x", "--name", "GPT-X", option, text)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert f"timestamp {text!r} {EXPECTED}" in result.stderr


def test_events_add_takes_iso_with_at(db, cli_runner):
    result = cli_runner("events", "add", "gpt-6", "--name", "GPT-6", "--at", "2026-12-03T18:00Z")
    assert result.exit_code == 0, result.output
    assert "added gpt-6 at 2026-12-03 18:00 UTC" in result.stdout


def test_correlate_accepts_the_iso_forms(db, cli_runner):
    # Past the date check, the empty database is what stops it (not the dates).
    result = cli_runner("correlate", "matrix", "--tokens", "fetch-ai", "--start", "2024-02-12", "--end", "2024-02-19T18:00+02:00")
    assert result.exit_code == 1 and "ISO 8601" not in result.stderr, result.stderr


def test_events_files_keep_their_valid_forms_and_refuse_loose_ones(tmp_path):
    assert event_from_mapping({"id": "a", "name": "A", "timestamp": "2024-02-15"}).time_known is False
    assert event_from_mapping({"id": "a", "name": "A", "timestamp": "2024-02-15T18:00:00Z"}).ts == pd.Timestamp("2024-02-15 18:00")
    assert event_from_mapping({"id": "a", "name": "A", "timestamp": "2024-02-15T20:00+02:00"}).ts == pd.Timestamp("2024-02-15 18:00")
    for loose in ("15/02/2024", "20240215", "20240215T180000Z", "2024-W07-4"):
        with pytest.raises(EventsError, match="is not a date in ISO 8601 form"):
            event_from_mapping({"id": "a", "name": "A", "timestamp": loose})
    with pytest.raises(EventsError, match="has no UTC offset"):
        event_from_mapping({"id": "a", "name": "A", "timestamp": "2024-02-15T18:00"})


def test_events_import_csv_refuses_loose_dates(db, cli_runner, tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("id,name,timestamp,kind,source,notes\nsora,Sora,15/02/2024,announcement,,\n")
    result = cli_runner("events", "import", str(path))
    assert result.exit_code == 1 and "'15/02/2024' is not a date in ISO 8601 form" in result.stderr, result.output


def test_the_shipped_calendar_still_loads():
    from tracker.analysis.events import read_events_file

    assert len(read_events_file(_repo_events())) >= 10


def _repo_events():
    from pathlib import Path

    return Path(__file__).resolve().parents[1] / "config" / "events.toml"
