"""Where the correlation analyser's data comes from: the database (through tracker.analysis.panels and the
``external_series`` table) and outside-series CSV files.

This is the only module of the package that touches the database; the analyses themselves
work on plain DataFrames.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pandas as pd

import storage
from storage import Database

from ... import utc
from ...errors import InputError
from ...ingest.values import SERIES, bad_values, describe
from .. import panels
from ..source_choice import SourcePolicy
from .external import check_series_id, read_series_csv, to_grid

__all__ = [
    "load_closes",
    "load_caps",
    "category_membership",
    "import_series",
    "list_series",
    "load_external",
    "load_external_csv",
]

def _grid_step(hourly: bool) -> pd.Timedelta:
    return pd.Timedelta(hours=1) if hourly else pd.Timedelta(days=1)


def load_closes(db: Database, coin_ids: Sequence[str], start=None, end=None, *, hourly: bool = False,
                policy: SourcePolicy | None = None) -> pd.DataFrame:
    """Wide closes for ``coin_ids`` (daily, or hourly), from ``tracker.analysis.panels``: one
    source per coin (``policy``)."""
    if hourly:
        return panels.hourly_closes(db, list(coin_ids), start, end, policy=policy)
    return panels.daily_closes(db, list(coin_ids), start, end, policy=policy)


def load_caps(db: Database, coin_ids: Sequence[str], start=None, end=None, *, hourly: bool = False,
              labels: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    """Market caps as known at each period's close.

    Caps come from daily closes. For an hourly grid, the cap at hour ``h`` is the last daily
    cap observed by the hour's close: the previous day's (a day's close is observed at the
    next midnight).
    """
    first = None if start is None else pd.Timestamp(start) - pd.Timedelta(days=2)
    daily = panels.daily_closes(db, list(coin_ids), first, end, value="market_cap")
    if not hourly or labels is None:
        return daily
    days = (labels + pd.Timedelta(hours=1)).floor("D") - pd.Timedelta(days=1)
    mapped = daily.reindex(days)
    mapped.index = labels
    return mapped


def category_membership(
    db: Database, category: str, labels: pd.DatetimeIndex, *, progress: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """Point-in-time membership of ``category`` on each label's day (True = a member then).

    Membership is the answer of ``panels.category_members_at`` at the start of each UTC day.
    It can only change on a day whose start passed a ``valid_from`` or ``valid_to`` instant,
    so those instants are read once and the look-up is made on the first day and on each
    such day: exact at day resolution, and a handful of queries rather than one per day.
    """
    if len(labels) == 0:
        return pd.DataFrame(index=labels, dtype=bool)
    days = pd.DatetimeIndex(sorted(set(pd.DatetimeIndex(labels).floor("D"))))
    bounds = storage.membership_changes(db, category)
    # The first day start at or after each boundary is when the membership can differ.
    changes = pd.DatetimeIndex(pd.to_datetime(bounds)).ceil("D") if len(bounds) else pd.DatetimeIndex([])
    lookups = days[:1].union(days.intersection(changes)) if len(changes) else days[:1]
    # A boundary falling on a day missing from `days` (labels with holes) shows on the next day present.
    later = [days[days.searchsorted(c)] for c in changes if days[0] < c <= days[-1] and c not in days]
    lookups = lookups.union(pd.DatetimeIndex(later)) if later else lookups
    members: dict[pd.Timestamp, frozenset] = {}
    for day in lookups:
        members[day] = frozenset(panels.category_members_at(db, category, day.to_pydatetime()))
        if progress:
            progress(1)
    position = lookups.searchsorted(days, side="right") - 1
    per_day = [members[lookups[i]] for i in position]
    coins = sorted(set().union(*per_day))
    by_day = pd.DataFrame([[coin in m for coin in coins] for m in per_day], index=days, columns=coins, dtype=bool)
    mask = by_day.reindex(pd.DatetimeIndex(labels).floor("D"))
    mask.index = labels
    return mask.astype(bool)


def import_series(db: Database, frame: pd.DataFrame, series_id: str, *, unit: str | None = None,
                  source: str) -> storage.UpsertResult:
    """Store a series read by :func:`read_series_csv` in ``external_series`` (idempotent by (series_id, ts))."""
    check_series_id(series_id)
    refused = bad_values(frame["value"], SERIES)
    if refused.any():  # a frame built in code, not read by read_series_csv: same rule
        raise InputError(f"series {series_id}: {describe(frame['value'][refused].iloc[0], SERIES)}; nothing stored")
    rows = pd.DataFrame(
        {
            "series_id": series_id,
            "ts": pd.to_datetime(frame["ts"]).astype("datetime64[us]"),
            "value": frame["value"].astype(float),
            "unit": unit,
            "source": source,
            "ingested_at": utc.now(),
        }
    )
    with db.transaction() as con:
        return storage.upsert(con, "external_series", rows)


def list_series(db: Database) -> pd.DataFrame:
    """One row per stored outside series: id, unit, source, first and last instant, row count."""
    return storage.series_summary(db)


def load_external(db: Database, series_ids: Sequence[str], start=None, end=None, *, hourly: bool = False) -> pd.DataFrame:
    """Wide frame of stored outside series on the daily or hourly grid (observed periods only)."""
    ids = [check_series_id(s) for s in series_ids]
    if not ids:
        return pd.DataFrame(dtype=float)
    known = set(list_series(db)["series_id"])
    unknown = [s for s in ids if s not in known]
    if unknown:
        hint = ", ".join(sorted(known)[:10]) or "none yet; import one with `tracker correlate series import`"
        raise InputError(f"no outside series {unknown[0]!r} in the database (stored: {hint})")
    label = "hour" if hourly else "day"
    frame = storage.series_values(
        db, ids, "hourly" if hourly else "daily",
        None if start is None else pd.Timestamp(start).to_pydatetime(),
        None if end is None else pd.Timestamp(end).to_pydatetime(),
    )
    if frame.empty:
        return pd.DataFrame(columns=ids, dtype=float)
    wide = frame.pivot(index="label", columns="series_id", values="value").sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name=label)
    wide.columns.name = None
    return wide.reindex(columns=ids).astype(float)


def load_external_csv(path: str | Path, *, hourly: bool = False, name: str | None = None, **read_options) -> pd.Series:
    """An outside series straight from a CSV file, on the grid, without importing it.

    The column is named ``name`` or the file's stem (lowercased).
    """
    path = Path(path)
    series = read_series_csv(path, **read_options)
    label = name or path.stem.lower()
    return to_grid(series, _grid_step(hourly), label)
