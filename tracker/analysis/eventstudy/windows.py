"""Relative periods: windows, the period length, and which period is day 0 of an event.

Conventions (docs/eventstudy.md, "Conventions"):

* A window ``(a, b)`` is inclusive at both ends, in relative periods (rows of the returns
  panel), so ``(-130, -11)`` holds 120 periods.
* A returns row labelled ``t`` is the close-to-close return of the period that ENDS at
  ``end(t)``. Hourly: ``end(t) = t + 1h`` (the label is the hour's start, as in
  ``panels.hourly_closes``). Daily: ``end(t)`` is the day boundary that closes calendar day
  ``t``; with the default boundary 00:00 UTC that is the next midnight (Binance and CoinGecko
  daily closes), with 21:00 it is 21:00 on ``t`` itself (an equity close).
* Day 0 is the first row whose period ends strictly after the announcement. For a row that
  follows a gap (a weekend in an equity calendar) the close-to-close return covers the gap,
  so an announcement on Saturday lands on Monday's row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ...errors import InputError
from ...utc import naive_index as utc_naive  # noqa: F401  (study.py and data.py import it from here)

_WINDOW = re.compile(r"^\s*([+-]?\d+)\s*:\s*([+-]?\d+)\s*$")
_BOUNDARY = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
DAY = pd.Timedelta(days=1)
HOUR = pd.Timedelta(hours=1)
# The farthest relative period a window may reach: a century of days (about four years of
# hours). Beyond it no price data exists, and the dates would overflow pandas' timestamps.
MAX_PERIOD = 36500


@dataclass(frozen=True, order=True)
class Window:
    """An inclusive window of relative periods ``[start, end]``."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    @property
    def label(self) -> str:
        return f"[{self.start}, {self.end}]"

    def __str__(self) -> str:
        return self.label

    def overlaps(self, other: "Window") -> bool:
        return self.start <= other.end and other.start <= self.end


def as_window(value: object, what: str = "window", parameters: Sequence[str] = ()) -> Window:
    """A :class:`Window` from ``Window``, ``(start, end)`` or the text ``"start:end"``.

    ``parameters``: the library parameters ``what`` names (as `name`), for the CLI's flags.

    Raises
    ------
    InputError
        When the value is malformed or ``start > end``.
    """
    if isinstance(value, Window):
        window = value
    elif isinstance(value, str):
        match = _WINDOW.match(value)
        if not match:
            raise InputError(f"{what} {value!r} must be START:END in relative periods, e.g. -130:-11", parameters=parameters)
        window = Window(int(match.group(1)), int(match.group(2)))
    elif isinstance(value, Sequence) and len(value) == 2 and all(isinstance(v, (int, np.integer)) for v in value):
        window = Window(int(value[0]), int(value[1]))
    else:
        raise InputError(f"{what} {value!r} must be a (start, end) pair of integers or 'START:END'", parameters=parameters)
    if window.start > window.end:
        raise InputError(f"{what} {window.start}:{window.end} starts after it ends; {_reversed_hint(window, what)}",
                         parameters=parameters)
    if max(abs(window.start), abs(window.end)) > MAX_PERIOD:
        raise InputError(f"{what} {window.start}:{window.end} reaches too far; relative periods must be within "
                         f"-{MAX_PERIOD}:{MAX_PERIOD}", parameters=parameters)
    return window


def _reversed_hint(window: Window, what: str) -> str:
    """How to write a window given end first. 130:11 was most likely meant as the 130th to
    the 11th period BEFORE the event (-130:-11); 11:130 would be after it."""
    start, end = window.start, window.end
    if end > 0 and "estimation" in what:
        return f"periods before the event are negative: write it as -{start}:-{end}"
    if end > 0:
        return f"write it as -{start}:-{end} for periods before the event, or {end}:{start} for periods after it"
    return f"write it as {end}:{start}"


def parse_windows(text: str | Iterable[object], what: str = "event window", parameters: Sequence[str] = ()) -> list[Window]:
    """Windows from ``"0:0,-1:1,0:5"`` or an iterable of window-like values, duplicates dropped."""
    items = [part for part in text.split(",") if part.strip()] if isinstance(text, str) else list(text)
    if not items:
        raise InputError(f"no {what}s given; write them as e.g. 0:0,-1:1,0:5", parameters=parameters)
    windows: list[Window] = []
    for item in items:
        window = as_window(item, what, parameters)
        if window not in windows:
            windows.append(window)
    return windows


def check_layout(estimation: Window, event_windows: Sequence[Window]) -> None:
    """Refuse an estimation window that overlaps an event window (its ARs would be fitted)."""
    for window in event_windows:
        if estimation.overlaps(window):
            raise InputError(
                f"estimation window {estimation.start}:{estimation.end} overlaps event window "
                f"{window.start}:{window.end}; end the estimation window before the event window starts"
            )


def parse_day_boundary(value: object) -> pd.Timedelta:
    """The UTC time of day that ends each daily period, as an offset in (0h, 24h].

    ``"00:00"`` (the default) means midnight at the END of the labelled day.
    """
    if isinstance(value, pd.Timedelta):
        offset = value
    else:
        match = _BOUNDARY.match(str(value))
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise InputError(f"day boundary {value!r} must be a UTC time HH:MM, e.g. 00:00 or 21:00")
        offset = pd.Timedelta(hours=int(match.group(1)), minutes=int(match.group(2)))
    if offset <= pd.Timedelta(0):
        offset = offset + DAY
    if not pd.Timedelta(0) < offset <= DAY:
        raise InputError(f"day boundary {value!r} must be a time of day")
    return offset




def infer_period(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The period length of a returns panel: the most common spacing of its rows.

    A daily panel on an equity calendar (weekend gaps) is still daily.
    """
    if len(index) < 2:
        raise InputError("the returns panel needs at least two periods")
    steps = pd.Series(np.diff(index.as_unit("ns").asi8)).value_counts()
    period = pd.Timedelta(int(steps.index[0]), unit="ns")
    if period not in (DAY, HOUR):
        raise InputError(f"returns rows are {period} apart; an event study needs daily or hourly periods")
    return period


def period_name(period: pd.Timedelta) -> str:
    return "daily" if period == DAY else "hourly"


def period_ends(index: pd.DatetimeIndex, period: pd.Timedelta, day_boundary: pd.Timedelta) -> np.ndarray:
    """The instant (ns since epoch) at which each row's period ends; see the module notes."""
    index = index.as_unit("ns")
    if period == DAY:
        return (index.normalize() + day_boundary).asi8
    return (index + period).asi8


def locate_day0(
    index: pd.DatetimeIndex, period: pd.Timedelta, day_boundary: pd.Timedelta, timestamps: pd.DatetimeIndex
) -> np.ndarray:
    """Row position of day 0 for each announcement instant, or -1 when no row contains it.

    Day 0 is the first row whose period ends strictly after the announcement: an
    announcement at exactly 00:00 belongs to the day that starts then.
    """
    ends = period_ends(index, period, day_boundary)
    stamps = timestamps.as_unit("ns").asi8
    position = np.searchsorted(ends, stamps, side="right")
    inside = position < len(index)
    # Before the first row: only the first period itself can contain the instant.
    first_start = ends[0] - period.value
    inside &= (position > 0) | (stamps >= first_start)
    return np.where(inside, position, -1)
