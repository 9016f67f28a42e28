"""UTC in one place: every time the tracker stores or compares is a naive datetime in UTC.

Aware input is converted to UTC and its zone dropped; naive input is taken to be UTC already
(each caller that reads naive times in another zone, such as outside series with ``--tz``, says
so itself before calling these).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TypeVar

import pandas as pd

__all__ = ["naive", "naive_index", "naive_values", "now", "parse"]

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
