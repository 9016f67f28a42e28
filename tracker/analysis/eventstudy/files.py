"""Study inputs from a researcher's own files, no database needed.

* Returns CSV: a date (or date-time) column and one column per security, holding period
  returns (simple unless told otherwise). Empty cells are missing returns.
* Events CSV: ``event_id`` (or ``id``), ``date`` (or ``timestamp``) and optionally
  ``security``: one row per event for every security, or one row per event and security.
  Timestamps are dates (``2024-02-15``, day 0 is that day) or date-times with a UTC offset
  (``2024-02-15T18:00:00Z``), as in the events calendar.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import EventsError, InputError
from ...sources.csvread import UnreadableCsvError, find_time_column, read_text_frame
from ..events import parse_timestamp
from .windows import utc_naive


def _read_csv(path: str | Path, what: str) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} file {path} does not exist")
    try:
        frame = read_text_frame(path)
    except UnreadableCsvError as exc:
        raise InputError(f"{path} is not a readable CSV file: {exc.detail or exc.kind}") from None
    if frame.empty:
        raise InputError(f"{path} has no rows")
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def read_returns_csv(path: str | Path) -> pd.DataFrame:
    """A wide returns frame (UTC index, float columns) from a CSV file.

    The date column is the first one named as in ``tracker.sources.csvread.TIME_COLUMNS`` (``date``,
    ``timestamp`` ...), else the first column.
    """
    frame = _read_csv(path, "returns")
    date_column = find_time_column(list(frame.columns)) or frame.columns[0]
    raw_dates = frame.pop(date_column)
    if frame.shape[1] == 0:
        raise InputError(f"{path}: no security columns besides {date_column!r}")
    dates = pd.to_datetime(raw_dates.str.strip(), utc=True, errors="coerce", format="mixed")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().nonzero()[0][0])
        raise InputError(f"{path} line {row + 2}: {date_column} {raw_dates.iloc[row]!r} is not a date")
    index = utc_naive(dates)
    if index.has_duplicates:
        raise InputError(f"{path}: date {index[index.duplicated()][0]} appears twice")
    values = {}
    for column in frame.columns:
        text = frame[column].str.strip()
        numbers = pd.to_numeric(text.where(text != "", None), errors="coerce")
        bad = numbers.isna() & (text != "") & ~text.str.lower().isin({"nan", "na", "null"})
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(f"{path} line {row + 2}: column {column!r} value {text.iloc[row]!r} is not a number")
        infinite = np.isinf(numbers.to_numpy(dtype=float))
        if infinite.any():  # returns may be negative, but never infinite: it would poison every mean
            row = int(infinite.nonzero()[0][0])
            raise InputError(f"{path} line {row + 2}: column {column!r} return {text.iloc[row]!r} is not a finite number")
        values[column] = numbers.to_numpy(dtype=float)
    return pd.DataFrame(values, index=index).sort_index()


def read_events_csv(path: str | Path) -> pd.DataFrame:
    """An events frame (event_id, timestamp, security) from a CSV file."""
    frame = _read_csv(path, "events")
    lower = {c.lower(): c for c in frame.columns}
    id_column = lower.get("event_id") or lower.get("id") or lower.get("event")
    time_column = find_time_column(list(frame.columns), ("timestamp", "date", "ts", "datetime"))
    if id_column is None or time_column is None:
        raise InputError(f"{path}: an events CSV needs columns event_id and date (or timestamp); it has {', '.join(frame.columns)}")
    security_column = next((lower[n] for n in ("security", "token", "coin_id", "ticker") if n in lower), None)
    rows = []
    for number, row in enumerate(frame.to_dict(orient="records"), start=2):
        event_id = str(row[id_column]).strip()
        if not event_id:
            raise InputError(f"{path} line {number}: event id is empty")
        try:
            ts, _ = parse_timestamp(row[time_column], f"{path} line {number}: event {event_id!r}")
        except EventsError as exc:
            raise InputError(str(exc)) from None
        security = str(row[security_column]).strip() if security_column else ""
        rows.append({"event_id": event_id, "timestamp": pd.Timestamp(ts), "security": security or "all"})
    return pd.DataFrame(rows)
