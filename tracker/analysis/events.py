"""The events calendar: AI announcements whose market reaction is studied.

Events come from TOML (``[[event]]`` tables) or CSV files and live in the ``events`` table.
A timestamp is either a date (time of day unknown: stored as midnight UTC, ``time_known`` false)
or a date-time with a UTC offset, converted to UTC. Naive date-times are refused: an
announcement's hour decides day 0, so its time zone must be explicit.
"""
from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Iterable, Mapping
from urllib.parse import urlsplit

import pandas as pd

import storage
from storage import Database

from .. import utc
from ..config import config_dir
from ..errors import EventsError

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
# A source is a plain http(s) link: nothing that could end an attribute or start a tag in a
# report (quotes, angle brackets, backticks, backslashes), no spaces and no control characters.
_SOURCE_URL = re.compile(r"^https?://[^\s\"'<>`\\\x00-\x1f\x7f]+$", re.IGNORECASE)
# Events are studied against prices: none exist before 1900 or after 2200, and pandas'
# nanosecond timestamps end in 1677 and 2262.
EARLIEST, LATEST = datetime(1900, 1, 1), datetime(2200, 1, 1)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # tabs and newlines are fine in notes
COLUMNS = list(storage.EVENT_COLUMNS)


@dataclass(frozen=True)
class Event:
    event_id: str
    name: str
    ts: datetime          # naive, UTC
    time_known: bool
    kind: str
    source_url: str | None = None
    notes: str | None = None

    @property
    def day(self) -> date:
        return self.ts.date()


def parse_timestamp(value: object, where: str) -> tuple[datetime, bool]:
    """Return (naive UTC datetime, time_known) from a TOML value or a string."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        return _in_range(datetime.combine(value, time()), value, where), False
    elif isinstance(value, str) and value.strip():
        try:
            text = utc.check_iso(value)  # ISO 8601 only: 12/06/2025 could be June or December
        except utc.DateFormatError as exc:
            raise EventsError(f"{where}: timestamp {exc}") from None
        try:
            if utc.is_date_only(text):
                return _in_range(datetime.combine(date.fromisoformat(text), time()), text, where), False
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise EventsError(f"{where}: {value.strip()!r} is not a real date or time") from None
    else:
        raise EventsError(f"{where}: timestamp is missing")
    if parsed.tzinfo is None:
        raise EventsError(f"{where}: timestamp {value!s} has no UTC offset; write it as e.g. 2024-02-15T18:00:00Z")
    try:
        instant = utc.naive(parsed)
    except OverflowError:  # 0001-01-01T00:00+14:00 is before year 1 in UTC
        instant = None
    return _in_range(instant, value, where), True


def _in_range(ts: datetime | None, value: object, where: str) -> datetime:
    """Refuse a time outside the years an event can be studied in (and pandas can hold)."""
    if ts is None or not EARLIEST <= ts < LATEST:
        raise EventsError(f"{where}: timestamp {value!s} is outside {EARLIEST.year} to {LATEST.year - 1}")
    return ts


def event_from_mapping(row: Mapping[str, object], where: str | None = None) -> Event:
    """Validate one event given as a mapping (a TOML table or CSV row).

    ``where`` (e.g. "events.csv line 4") prefixes every error message.
    """
    prefix = f"{where}: " if where else ""

    owner = ["event"]  # named by its id once that is known

    def text(*names: str) -> str | None:
        for name in names:
            value = row.get(name)
            if value is not None and str(value).strip():
                value = str(value).strip()
                bad = _CONTROL.search(value)
                if bad:  # a NUL or an escape sequence would garble a terminal, a CSV or a report
                    raise EventsError(f"{prefix}{owner[0]} field {name!r} holds control character "
                                      f"{ord(bad.group()):#04x}; remove it")
                return value
        return None

    event_id = text("id", "event_id")
    if not event_id or not _ID.match(event_id):
        raise EventsError(f"{prefix}event id {event_id!r} must be lowercase letters, digits, '-', '.' or '_' (e.g. sora-demo)")
    label = f"{prefix}event {event_id!r}"
    owner[0] = f"event {event_id!r}"
    name = text("name")
    if not name:
        raise EventsError(f"{label} has no name")
    raw_ts = row.get("timestamp", row.get("ts", row.get("date")))
    ts, time_known = parse_timestamp(raw_ts, label)
    if "time_known" in row and str(row["time_known"]).strip().lower() in {"false", "0", "no"}:
        time_known = False
    kind = text("kind") or "announcement"
    if not _KIND.match(kind):
        raise EventsError(f"{label} kind {kind!r} must be a lowercase word such as model-release")
    source_url = text("source", "source_url", "url")
    if source_url:
        check_source_url(source_url, label)
    return Event(event_id, name, ts, time_known, kind, source_url, text("notes"))


def check_source_url(url: str, label: str) -> None:
    """Refuse a source that is not a plain http(s) URL (see ``_SOURCE_URL``), in one line."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    if not _SOURCE_URL.match(url) or not host:
        raise EventsError(f"{label} source {url!r} must be an http(s) URL with a host and without spaces, quotes, "
                          "angle brackets, backticks, backslashes or control characters (percent-encode them)")


def _read_text(path: Path, encoding: str = "utf-8") -> str:
    """The file as text; a file that is not UTF-8 is one line naming the offset of the bad byte."""
    data = path.read_bytes()
    bom = 3 if encoding == "utf-8-sig" and data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventsError(f"events file {path} is not UTF-8 text (bad byte at offset {bom + exc.start}); save it as UTF-8") from None


def read_events_file(path: str | Path) -> list[Event]:
    """Read events from a .toml (``[[event]]`` tables) or .csv file, refusing duplicate ids."""
    path = Path(path)
    if not path.is_file():
        raise EventsError(f"events file {path} does not exist")
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(_read_text(path))
        except tomllib.TOMLDecodeError as exc:
            raise EventsError(f"{path} is not valid TOML: {exc}") from None
        rows = data.get("event", [])
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise EventsError(f"{path}: events must be [[event]] tables")
        events = [event_from_mapping(row, f"{path} [[event]] {i + 1}") for i, row in enumerate(rows)]
    elif path.suffix.lower() == ".csv":
        with io.StringIO(_read_text(path, "utf-8-sig"), newline="") as handle:
            reader = csv.DictReader(handle)
            try:
                if not reader.fieldnames or not {"name"} <= set(reader.fieldnames):
                    raise EventsError(f"{path}: a CSV needs a header with id, name, timestamp (or date), kind, source, notes")
                events = [event_from_mapping(row, f"{path} line {reader.line_num}") for row in reader]
            except csv.Error as exc:  # e.g. a field longer than the csv module's limit
                raise EventsError(f"{path} after line {reader.line_num}: not readable as CSV ({exc})") from None
    else:
        raise EventsError(f"{path}: events files must end in .toml or .csv")
    _refuse_duplicates(events, str(path))
    return events


def _refuse_duplicates(events: Iterable[Event], where: str) -> None:
    seen: set[str] = set()
    for event in events:
        if event.event_id in seen:
            raise EventsError(f"{where}: event id {event.event_id!r} appears twice")
        seen.add(event.event_id)


def seed_events_path() -> Path:
    return config_dir() / "events.toml"


def list_events(db: Database) -> pd.DataFrame:
    return storage.all_events(db)


def get_event(db: Database, event_id: str) -> Event:
    frame = storage.event_row(db, event_id)
    if frame.empty:
        known = ", ".join(list_events(db)["event_id"].tolist()[:12])
        raise EventsError(f"no event {event_id!r}; known events include: {known}")
    row = frame.iloc[0].to_dict()
    row["ts"] = pd.Timestamp(row["ts"]).to_pydatetime()
    row["source_url"] = row["source_url"] if isinstance(row["source_url"], str) else None
    row["notes"] = row["notes"] if isinstance(row["notes"], str) else None
    return Event(**row)


def add_events(db: Database, events: list[Event], *, skip_existing: bool = False) -> int:
    """Store events in one transaction. An id already stored is refused, or skipped when asked.

    Returns the number of events added.
    """
    _refuse_duplicates(events, "events given")
    if not events:
        return 0
    added_at = utc.now()
    with db.transaction() as con:
        ids = [e.event_id for e in events]
        taken = storage.stored_event_ids(con, ids)
        if taken and not skip_existing:
            raise EventsError(f"event id {sorted(taken)[0]!r} already exists; choose another id")
        new = [e for e in events if e.event_id not in taken]
        if new:
            frame = pd.DataFrame([asdict(e) for e in new], columns=COLUMNS)
            frame["added_at"] = added_at
            storage.upsert(con, "events", frame)
    return len(new)


def seed_events(db: Database) -> int:
    """Add the packaged calendar's events that are not stored yet (user edits are kept)."""
    return add_events(db, read_events_file(seed_events_path()), skip_existing=True)
