"""Events calendar reads (the ``events`` table); writes go through :func:`storage.upsert`."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import duckdb

from .connection import Database
from .reads import query, query_rows
from .rows import Rows

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd

EVENT_COLUMNS = ("event_id", "name", "ts", "time_known", "kind", "source_url", "notes")
_SELECT = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"


def all_events(db: Database) -> pd.DataFrame:
    """Every stored event (:data:`EVENT_COLUMNS`), in time order (ties by id)."""
    return query(db, f"{_SELECT} ORDER BY ts, event_id")


def all_events_rows(db: Database) -> Rows:
    """:func:`all_events` as plain rows (`tracker events list` needs no pandas)."""
    return query_rows(db, f"{_SELECT} ORDER BY ts, event_id")


def event_row(db: Database, event_id: str) -> pd.DataFrame:
    """The event ``event_id`` as a one-row frame, or an empty frame when it is not stored."""
    return query(db, f"{_SELECT} WHERE event_id = ?", [event_id])


def stored_event_ids(con: duckdb.DuckDBPyConnection, event_ids: Sequence[str]) -> set[str]:
    """The ids among ``event_ids`` already stored, read on ``con`` (the caller's transaction)."""
    rows = con.execute("SELECT event_id FROM events WHERE list_contains(?, event_id)", [list(event_ids)]).fetchall()
    return {r[0] for r in rows}
