"""UTC in one place: every time the tracker stores or compares is a naive datetime in UTC.

Aware input is converted to UTC and its zone dropped; naive input is taken to be UTC already
(each caller that reads naive times in another zone, such as outside series with ``--tz``, says
so itself before calling these).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TypeVar

import pandas as pd

__all__ = ["ISO_FORMS", "DateFormatError", "check_iso", "is_date_only", "naive", "naive_index", "naive_values", "now", "parse", "parse_iso"]

# What a person may type for a time: ISO 8601's extended form, nothing a reader could take
# two ways (12/06/2025 is June in one country and December in the next). RFC 3339's space in
# place of the T is allowed: it cannot be misread.
ISO_FORMS = "YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.fff]] with an optional Z or ±HH:MM (e.g. 2024-02-15T18:00Z)"
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?", re.IGNORECASE)
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


class DateFormatError(ValueError):
    """A date or time typed in a form other than ISO 8601's; the message shows the form expected."""

Stamp = TypeVar("Stamp", datetime, pd.Timestamp, pd.DatetimeIndex, pd.DataFrame, pd.Series)


def now() -> datetime:
    """Now, as the naive UTC datetime every table stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def naive(value: Stamp) -> Stamp:
    """A datetime, Timestamp or DatetimeIndex (or a frame's time index) as naive UTC, same type.

    Python datetimes go through ``astimezone``, so an aware time before year 1 in UTC raises
    OverflowError as it always did.
    """
    if isinstance(value, (pd.Timestamp, pd.DatetimeIndex)):
        return value.tz_convert("UTC").tz_localize(None) if value.tzinfo is not None else value
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return value.tz_convert("UTC").tz_localize(None) if getattr(value.index, "tz", None) is not None else value
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def naive_values(values: pd.Series) -> pd.Series:
    """A Series of datetimes as naive UTC (the values, not the index)."""
    return values.dt.tz_convert("UTC").dt.tz_localize(None) if values.dt.tz is not None else values


def naive_index(values) -> pd.DatetimeIndex:
    """Anything ``pd.to_datetime`` reads, as a naive UTC DatetimeIndex in nanoseconds."""
    return naive(pd.DatetimeIndex(pd.to_datetime(values, utc=True))).as_unit("ns")


def parse(text: str) -> pd.Timestamp:
    """A date or date-time text as a naive UTC Timestamp (NaT for an empty one).

    Raises ValueError when pandas cannot read it; callers turn that into their own message.
    """
    return naive(pd.Timestamp(text.strip()))


def is_date_only(text: str) -> bool:
    """True for a bare ``YYYY-MM-DD`` (a whole day, time of day not given)."""
    return bool(_DATE_ONLY.fullmatch(text.strip()))


def check_iso(text: str) -> str:
    """``text`` stripped, with ``T`` and ``Z`` upper-cased and a space for the T made a T, when
    it has ISO 8601's form; else :class:`DateFormatError` (the date itself is not checked)."""
    cleaned = text.strip() if isinstance(text, str) else ""
    if not _ISO.fullmatch(cleaned):
        raise DateFormatError(f"{text!r} is not a date in ISO 8601 form; use {ISO_FORMS}")
    return cleaned.upper().replace(" ", "T")


def parse_iso(text: str) -> pd.Timestamp:
    """A date or date-time a person typed, as a naive UTC Timestamp: ISO 8601 only.

    Accepted: ``2024-02-15``, ``2024-02-15T18:00``, ``2024-02-15T18:00:30.5``, each time with an
    optional ``Z`` or ``±HH:MM`` (a time without one is UTC). Everything else, ``12/06/2025``,
    ``2025.06.12``, ``June 12``, ``20250612`` among them, raises :class:`DateFormatError` naming
    the form expected; so does a date that does not exist (``2025-02-30``).
    """
    cleaned = check_iso(text)
    try:
        return naive(pd.Timestamp(cleaned))
    except (ValueError, OverflowError):
        raise DateFormatError(f"{text!r} is not a real date or time; use {ISO_FORMS}") from None
