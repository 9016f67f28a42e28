"""Outside series (an equity close, a GPU rental price index) read from CSV, and put on the grid.

Instant semantics, as ``price_history``: a value's timestamp is the UTC instant it was
observed. So

* a value labelled with a date only (a daily close) is placed at the **next midnight UTC**,
  the end of its day;
* a date-time with a UTC offset is converted to UTC; a naive date-time is read in ``tz``
  (default UTC);
* ``stamps="period-start"`` says the file labels candles by their opening time (as Binance's
  ``open_time``): the value is then observed one period later.

On the grid, a period's value is the last one observed before the period ends (timestamps
shifted back 5 minutes for jitter), exactly as the ``external_daily`` / ``external_hourly``
views and the price views do. Periods without an observation (weekends for an equity) have
no value: nothing is carried forward.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ... import utc
from ...errors import InputError, first_line
from ...ingest.values import SERIES, bad_values, describe
from ...sources.csvread import find_time_column, read_text_frame

__all__ = ["SERIES_ID", "SeriesFile", "read_series_csv", "read_series_file", "to_grid", "check_series_id"]

SERIES_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_VALUE_NAMES = ("value", "close", "adj close", "adj_close", "price", "last")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_JITTER = pd.Timedelta(minutes=5)


def check_series_id(series_id: str) -> str:
    """A series id is a lowercase slug (e.g. ``nvda``, ``gpu-h100-index``)."""
    if not isinstance(series_id, str) or not SERIES_ID.match(series_id):
        raise InputError(f"series id {series_id!r} must be lowercase letters, digits, '-', '.' or '_' (e.g. nvda)")
    return series_id


@dataclass(frozen=True)
class SeriesFile:
    """One series read from a CSV file, and how it was read.

    Attributes
    ----------
    frame : DataFrame
        ``ts`` (naive UTC instant observed) and ``value``, sorted by ts.
    date_only : bool
        The file held dates only (daily closes, placed at the next midnight).
    time_column, value_column : str
        The columns read.
    file : str
        The file's name.
    """

    frame: pd.DataFrame
    date_only: bool
    time_column: str
    value_column: str
    file: str


def _named(columns: list[str], wanted: str, path: Path) -> str:
    if wanted not in columns:
        raise InputError(f"{path}: no column {wanted!r}; columns are {', '.join(columns)}")
    return wanted


def _value_column(columns: list[str], exclude: str) -> str:
    lowered = {c.strip().lower(): c for c in columns}
    for name in _VALUE_NAMES:
        if name in lowered and lowered[name] != exclude:
            return lowered[name]
    return ""


def _parse_times(raw: pd.Series, path: Path, tz: str, column: str) -> tuple[pd.Series, bool]:
    text = raw.astype(str).str.strip()
    if text.str.fullmatch(r"\d{9,13}").all():
        # Epoch numbers: 13 digits are milliseconds, fewer are seconds.
        numbers = text.astype(np.int64)
        unit = "ms" if (numbers > 10**11).all() else "s"
        return pd.to_datetime(numbers, unit=unit), False
    date_only = bool(text.map(lambda v: bool(_DATE_ONLY.match(v))).all())
    offsets = text.str.contains(r"(?:[+-]\d{2}:?\d{2}|Z)$", regex=True)
    if offsets.any() and not offsets.all():
        raise InputError(f"{path}: {column} mixes times with and without a UTC offset; use one style")
    try:
        if date_only:
            return pd.to_datetime(text, format="%Y-%m-%d") + pd.Timedelta(days=1), True  # a close is seen at the day's end
        if offsets.all():
            return utc.naive_values(pd.to_datetime(text, format="ISO8601", utc=True)), False
        parsed = pd.to_datetime(text, format="ISO8601")
    except (ValueError, TypeError):
        bad = next((v for v in text if pd.isna(pd.to_datetime(v, errors="coerce", format="ISO8601"))), text.iloc[0])
        raise InputError(f"{path}: {column} value {bad!r} is not an ISO date (2024-02-15) or date-time") from None
    try:
        localized = parsed.dt.tz_localize(tz, ambiguous="raise", nonexistent="raise")
    except Exception as exc:  # unknown zone, or a wall time that does not exist there
        raise InputError(f"{path}: cannot read the times in time zone {tz!r}: {first_line(exc)}") from None
    return utc.naive_values(localized), False


def read_series_csv(path: str | Path, **options) -> pd.DataFrame:
    """The ``ts`` / ``value`` frame of :func:`read_series_file` (same options)."""
    return read_series_file(path, **options).frame


def read_series_file(
    path: str | Path,
    *,
    time_column: str | None = None,
    value_column: str | None = None,
    tz: str = "UTC",
    stamps: str = "instant",
    period: str | None = None,
) -> SeriesFile:
    """Read one series from a CSV: a time column and a value column.

    Parameters
    ----------
    path : path
        CSV with a header row.
    time_column, value_column : str, optional
        Column names; by default the first named as in ``tracker.sources.csvread.TIME_COLUMNS``
        (else the first column) and the first of value/close/adj close/price/last (else the
        only other numeric column).
    tz : str
        Time zone of naive date-times (default UTC). Dates and offsets are unaffected.
    stamps : {"instant", "period-start"}
        Whether a date-time is the instant observed or a candle's opening time.
    period : str, optional
        Candle length for ``"period-start"`` (``1h``, ``1d``); inferred from the spacing.

    Returns
    -------
    SeriesFile
        The ``ts`` / ``value`` frame, whether the file held dates only, and the columns read.

    Raises
    ------
    InputError
        One line naming the file and the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"series file {path} does not exist")
    if stamps not in ("instant", "period-start"):
        raise InputError("stamps must be 'instant' or 'period-start'")
    frame = read_text_frame(path, skip_initial_space=True)
    t_col, v_col = _series_columns(frame, path, time_column, value_column)
    if frame.empty:
        raise InputError(f"{path} has no rows")
    values = _series_values(frame[v_col], path, v_col)
    if (frame[t_col].str.strip() == "").any():
        line = int(np.flatnonzero((frame[t_col].str.strip() == "").to_numpy())[0]) + 2
        raise InputError(f"{path} line {line}: the {t_col} cell is empty")
    ts, date_only = _parse_times(frame[t_col], path, tz, t_col)
    result = pd.DataFrame({"ts": ts.to_numpy(), "value": values.to_numpy(dtype=float)})
    if stamps == "period-start":
        if date_only:
            raise InputError(f"{path}: dates already mean whole days; `stamps` period-start is for date-times", parameters=["stamps"])
        step = pd.Timedelta(period) if period else pd.Series(result["ts"].sort_values().diff().dropna()).mode().iloc[0]
        result["ts"] = result["ts"] + step
    duplicated = result["ts"].duplicated()
    if duplicated.any():
        raise InputError(f"{path}: two rows for {result.loc[duplicated, 'ts'].iloc[0]} (UTC); keep one value per time")
    result = result.dropna(subset=["value"]).sort_values("ts").reset_index(drop=True)
    if result.empty:
        raise InputError(f"{path}: no values in column {v_col}")
    return SeriesFile(result, date_only, t_col, v_col, path.name)


def _series_columns(frame: pd.DataFrame, path: Path, time_column: str | None, value_column: str | None) -> tuple[str, str]:
    """The time and value columns: the ones named, else found by the shared names."""
    columns = [str(c) for c in frame.columns]
    if len(columns) < 2:
        raise InputError(f"{path}: a series CSV needs a time column and a value column")
    t_col = _named(columns, time_column, path) if time_column is not None else find_time_column(columns) or columns[0]
    v_col = _named(columns, value_column, path) if value_column is not None else _value_column(columns, exclude=t_col)
    if not v_col:
        numeric = [c for c in columns if c != t_col and pd.to_numeric(frame[c].replace("", np.nan), errors="coerce").notna().any()]
        if len(numeric) != 1:
            raise InputError(f"{path}: cannot tell which column holds the values ({', '.join(columns)}); name it with `value_column`",
                             parameters=["value_column"])
        v_col = numeric[0]
    return t_col, v_col


def _series_values(cells: pd.Series, path: Path, v_col: str) -> pd.Series:
    """The value column as numbers (blanks and nulls as NaN), each inside the outside-series rule."""
    raw_values = cells.str.strip().replace({"": np.nan, "null": np.nan, "NaN": np.nan, "nan": np.nan})
    values = pd.to_numeric(raw_values.str.replace(",", "", regex=False) if raw_values.notna().any() else raw_values, errors="coerce")
    unreadable = values.isna() & raw_values.notna()
    if unreadable.any():
        line = int(np.flatnonzero(unreadable.to_numpy())[0]) + 2
        raise InputError(f"{path} line {line}: {v_col} value {raw_values[unreadable].iloc[0]!r} is not a number")
    refused = bad_values(values, SERIES)
    if refused.any():
        line = int(np.flatnonzero(refused)[0]) + 2
        others = f" (and {int(refused.sum()) - 1} more row(s))" if refused.sum() > 1 else ""
        raise InputError(f"{path} line {line}: {describe(raw_values[refused].iloc[0], SERIES, v_col)}{others}; "
                         "outside series must be positive levels (see docs/correlation.md)")
    return values


def to_grid(series: pd.DataFrame, freq: str | pd.Timedelta, name: str = "value") -> pd.Series:
    """Values per UTC period: the last one observed before the period ends.

    Parameters
    ----------
    series : DataFrame
        ``ts`` (UTC instants) and ``value``.
    freq : str or Timedelta
        ``"1D"`` or ``"1h"``.
    name : str
        Name of the returned Series.

    Returns
    -------
    Series
        Indexed by period label (day, or the hour's start); periods with no observation are
        absent.
    """
    step = pd.Timedelta(freq)
    frame = series.dropna(subset=["value"]).sort_values("ts")
    labels = (pd.DatetimeIndex(frame["ts"]) - _JITTER).floor(step)
    out = frame.assign(label=labels).groupby("label")["value"].last()
    out.index = pd.DatetimeIndex(out.index, name="day" if step == pd.Timedelta(days=1) else "hour")
    return out.rename(name)
