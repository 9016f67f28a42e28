"""The events calendar: seeding, adding, importing, and refusing bad input whole."""
from __future__ import annotations

from datetime import datetime

import pytest

import storage
from tracker.analysis.events import add_events, event_from_mapping, get_event, list_events, read_events_file, seed_events, seed_events_path
from tracker.errors import EventsError

REQUIRED_SEEDS = {
    "chatgpt-launch": "2022-11-30",
    "gpt-4": "2023-03-14",
    "nvidia-earnings-2023-05": "2023-05-24",
    "sora-demo": "2024-02-15",
    "nvidia-earnings-2024-02": "2024-02-21",
    "nvidia-gtc-2024": "2024-03-18",
    "asi-merger-announcement": "2024-03-27",
    "gpt-4o": "2024-05-13",
    "nvidia-earnings-2024-05": "2024-05-22",
    "sora-release": "2024-12-09",
}


def test_seed_calendar_has_the_issue_events_with_sources():
    events = {e.event_id: e for e in read_events_file(seed_events_path())}
    for event_id, day in REQUIRED_SEEDS.items():
        assert events[event_id].ts.strftime("%Y-%m-%d") == day
    assert all(e.source_url and e.source_url.startswith("https://") for e in events.values())
    assert events["sora-demo"].time_known and events["sora-demo"].ts == datetime(2024, 2, 15, 18, 0)
    assert not events["chatgpt-launch"].time_known


def test_seeding_twice_adds_nothing_and_keeps_user_events(db):
    first = seed_events(db)
    add_events(db, [event_from_mapping({"id": "mine", "name": "Mine", "timestamp": "2024-01-01"})])
    assert seed_events(db) == 0
    frame = list_events(db)
    assert len(frame) == first + 1
    assert frame["event_id"].is_unique


def test_timestamps_with_offsets_become_utc():
    event = event_from_mapping({"id": "nv", "name": "NV", "timestamp": "2024-02-21T16:20:00-05:00"})
    assert event.ts == datetime(2024, 2, 21, 21, 20) and event.time_known


@pytest.mark.parametrize(
    "row, message",
    [
        ({"id": "Bad Id", "name": "x", "timestamp": "2024-01-01"}, r"event id 'Bad Id' must be lowercase"),
        ({"id": "x", "name": "", "timestamp": "2024-01-01"}, r"event 'x' has no name"),
        ({"id": "x", "name": "X", "timestamp": "2024-02-30"}, r"'2024-02-30' is not a real date"),
        ({"id": "x", "name": "X", "timestamp": "yesterday"}, r"timestamp 'yesterday' is not a date"),
        ({"id": "x", "name": "X", "timestamp": "2024-02-15T18:00"}, r"has no UTC offset"),
        ({"id": "x", "name": "X"}, r"timestamp is missing"),
        ({"id": "x", "name": "X", "timestamp": "2024-01-01", "source": "openai.com"}, r"must be an http\(s\) URL"),
        ({"id": "x", "name": "X", "timestamp": "2024-01-01", "kind": "Big News"}, r"kind 'Big News' must be a lowercase word"),
    ],
)
def test_bad_events_are_refused_in_one_line(row, message):
    with pytest.raises(EventsError, match=message) as info:
        event_from_mapping(row)
    assert "\n" not in str(info.value)


def test_duplicate_id_is_refused(db):
    seed_events(db)
    with pytest.raises(EventsError, match=r"event id 'sora-demo' already exists"):
        add_events(db, [event_from_mapping({"id": "sora-demo", "name": "again", "timestamp": "2024-02-15"})])


def test_csv_import_is_all_or_nothing(db, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("id,name,timestamp,kind,source\na,A,2024-01-01,keynote,https://a.example\nb,B,2024-01-02T12:00:00Z,,\n")
    assert add_events(db, read_events_file(good)) == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,timestamp\nc,C,2024-01-03\nd,D,not-a-date\n")
    with pytest.raises(EventsError, match=r"bad.csv line 3: event 'd': timestamp 'not-a-date'"):
        add_events(db, read_events_file(bad))
    taken = tmp_path / "taken.csv"
    taken.write_text("id,name,timestamp\nc,C,2024-01-03\na,A again,2024-01-01\n")
    with pytest.raises(EventsError, match=r"event id 'a' already exists"):
        add_events(db, read_events_file(taken))
    assert sorted(list_events(db)["event_id"]) == ["a", "b"]  # nothing half-imported
    assert get_event(db, "b").ts == datetime(2024, 1, 2, 12)


def test_duplicate_ids_inside_a_file(tmp_path):
    path = tmp_path / "dup.toml"
    path.write_text('[[event]]\nid="a"\nname="A"\ntimestamp=2024-01-01\n[[event]]\nid="a"\nname="A2"\ntimestamp=2024-01-02\n')
    with pytest.raises(EventsError, match=r"event id 'a' appears twice"):
        read_events_file(path)


def test_unknown_event_lists_known_ones(db):
    seed_events(db)
    with pytest.raises(EventsError, match=r"no event 'sora'; known events include: .*sora-demo"):
        get_event(db, "sora")


def test_events_are_stored_in_utc_and_readable(db):
    seed_events(db)
    frame = storage.query(db, "SELECT ts, time_known FROM events WHERE event_id = ?", ["gpt-4"])
    assert frame["ts"][0].to_pydatetime() == datetime(2023, 3, 14, 17, 0)
