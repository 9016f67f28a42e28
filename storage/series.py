"""Outside-series reads (``external_series`` and its ``external_daily``/``external_hourly`` views)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from .connection import Database
from .reads import period_bounds, query

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd

# grid -> (view, period column); names from this table only, never from input.
_VIEWS = {"daily": ("external_daily", "day"), "hourly": ("external_hourly", "hour")}


def series_summary(db: Database) -> pd.DataFrame:
    """One row per stored series: ``series_id, unit, source, first_ts, last_ts, rows`` (unit and
    source of its newest value), ordered by id."""
    return query(
        db,
        "SELECT series_id, arg_max(unit, ts) AS unit, arg_max(source, ts) AS source, min(ts) AS first_ts, "
        "max(ts) AS last_ts, count(*) AS rows FROM external_series GROUP BY series_id ORDER BY series_id",
    )


def series_values(db: Database, series_ids: Sequence[str], grid: str, start: datetime | None = None,
                  end: datetime | None = None) -> pd.DataFrame:
    """``series_id, label, value`` of the series on the ``daily`` or ``hourly`` grid, ``label``
    from ``start`` to ``end`` (inclusive; None leaves that side open)."""
    view, period = _VIEWS[grid]
    bounds, bound_params = period_bounds(period, start, end)
    sql = f"SELECT series_id, {period} AS label, value FROM {view} WHERE list_contains(?, series_id){bounds}"
    params: list = [list(series_ids), *bound_params]
    return query(db, sql, params)
