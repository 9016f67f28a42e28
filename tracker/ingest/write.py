"""Write one Batch in one short transaction: its rows, its watermarks and its run record.

Either all of a batch lands or none of it, so a crash or a lock never leaves rows without the
watermark that says they are there, or a run record that disagrees with the rows. Every step is
set-based SQL over registered frames, and every step is idempotent: writing the same batch twice
changes nothing the second time (apart from the run's row count, which is what was written).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

import storage
from storage import Database

from ..runs import RunRecord, record_run, set_watermarks, utcnow
from .batch import UPSERT_TABLES, Batch

FINAL_STATUSES = ("ok", "partial", "failed")
# Descriptive columns a partial answer (schema drift) must not blank out: a NULL in the batch
# keeps the value already stored.
KEEP_KNOWN = {"coins": ("coin_id", ("symbol", "name")), "categories": ("category_id", ("name",))}


@dataclass
class WriteResult:
    """What :func:`write_batch` did."""

    rows: int = 0
    by_table: dict[str, int] = field(default_factory=dict)
    lock_ms: float = 0.0
    run: RunRecord | None = None


def _register(con: duckdb.DuckDBPyConnection, name: str, frame: pd.DataFrame) -> None:
    con.register(name, pa.Table.from_pandas(frame, preserve_index=False))


def _keep_known(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> pa.Table | pd.DataFrame:
    if table not in KEEP_KNOWN or frame.empty:
        return frame
    key, columns = KEEP_KNOWN[table]
    present = [c for c in columns if c in frame.columns]
    if not present:
        return frame
    _register(con, "__incoming", frame)
    try:
        replaced = ", ".join(f"coalesce(i.{c}, t.{c}) AS {c}" for c in present)
        return con.sql(
            f"SELECT i.* REPLACE ({replaced}) FROM __incoming AS i LEFT JOIN {table} AS t ON t.{key} = i.{key}"
        ).to_arrow_table()
    finally:
        con.unregister("__incoming")


def _replace_partial(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Drop the old live "now" points of these coins; the batch brings their replacements."""
    _register(con, "__partial", frame)
    try:
        return con.execute(
            "DELETE FROM price_history AS p USING __partial AS r "
            "WHERE p.is_partial AND p.coin_id = r.coin_id AND p.vs_currency = r.vs_currency AND p.source = r.source"
        ).fetchone()[0]
    finally:
        con.unregister("__partial")


def _apply_membership(con: duckdb.DuckDBPyConnection, members: pd.DataFrame, scopes: pd.DataFrame) -> int:
    """Close the stretches of coins that left each observed category; open one for each coin
    that joined (or came back). An observation older than the category's newest change is
    ignored, so a late spooled batch cannot undo a newer one."""
    _register(con, "__observed", members[["category_id", "coin_id"]].drop_duplicates())
    _register(con, "__scopes", scopes[["category_id", "observed_at"]].drop_duplicates("category_id", keep="last"))
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __live_scopes AS SELECT s.category_id, s.observed_at FROM __scopes AS s "
            "WHERE NOT EXISTS (SELECT 1 FROM category_members AS m WHERE m.category_id = s.category_id "
            "AND (m.valid_from > s.observed_at OR m.valid_to > s.observed_at))"
        )
        closed = con.execute(
            "UPDATE category_members AS m SET valid_to = s.observed_at FROM __live_scopes AS s "
            "WHERE m.category_id = s.category_id AND m.valid_to IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM __observed AS o WHERE o.category_id = m.category_id AND o.coin_id = m.coin_id)"
        ).fetchone()[0]
        opened = con.execute(
            "INSERT INTO category_members (category_id, coin_id, valid_from, valid_to, source) "
            "SELECT o.category_id, o.coin_id, s.observed_at, NULL, 'coingecko' FROM __observed AS o "
            "JOIN __live_scopes AS s ON s.category_id = o.category_id "
            "WHERE NOT EXISTS (SELECT 1 FROM category_members AS m WHERE m.category_id = o.category_id "
            "AND m.coin_id = o.coin_id AND m.valid_to IS NULL)"
        ).fetchone()[0]
        con.execute("DROP TABLE __live_scopes")
        return int(closed) + int(opened)
    finally:
        con.unregister("__observed")
        con.unregister("__scopes")


def _deactivate(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> int:
    """Mark coins inactive with a reason (adding a row for a coin not seen before)."""
    _register(con, "__gone", frame[["coin_id", "reason", "at"]].drop_duplicates("coin_id", keep="last"))
    try:
        updated = con.execute(
            "UPDATE coins SET active = false, inactive_reason = g.reason, updated_at = g.at "
            "FROM __gone AS g WHERE coins.coin_id = g.coin_id"
        ).fetchone()[0]
        added = con.execute(
            "INSERT INTO coins (coin_id, active, inactive_reason, updated_at) "
            "SELECT g.coin_id, false, g.reason, g.at FROM __gone AS g "
            "WHERE NOT EXISTS (SELECT 1 FROM coins AS c WHERE c.coin_id = g.coin_id)"
        ).fetchone()[0]
        return int(updated) + int(added)
    finally:
        con.unregister("__gone")


def _merge_run(con: duckdb.DuckDBPyConnection, batch: Batch, rows: int) -> RunRecord:
    """The run's row after this batch: rows add up over its batches, calls and times widen,
    and only the final batch decides the outcome (a late, non-final batch cannot undo it)."""
    run = RunRecord(**{k: v for k, v in vars(batch.run).items()})
    run.details = dict(batch.run.details)
    existing = con.execute(
        "SELECT started_at, finished_at, status, calls, rows, error, details FROM ingest_runs WHERE run_id = ?", [run.run_id]
    ).fetchone()
    run.rows = rows
    if existing is not None:
        started, finished, status, calls, old_rows, error, details = existing
        run.rows = int(old_rows) + rows
        run.calls = max(int(calls), int(run.calls))
        run.started_at = min(started, run.started_at)
        old_details = json.loads(details) if details else {}
        if not batch.final and status in FINAL_STATUSES:
            run.status, run.finished_at, run.error = status, finished, error
            run.details = {**run.details, **old_details}
        else:
            run.details = {**old_details, **run.details}
    if batch.final:
        if run.status == "running":
            run.status = "ok"
        if run.finished_at is None:
            run.finished_at = utcnow()
    else:
        if run.status not in FINAL_STATUSES:
            run.status, run.finished_at = "running", None
    return run


def write_batch(db: Database, batch: Batch) -> WriteResult:
    """Write ``batch`` in one transaction: upserts, operations, watermarks and the run record.

    Parameters
    ----------
    db:
        The database (its write lock is held only for this call).
    batch:
        A batch from a job's fetch step, or one loaded from the spool.

    Returns
    -------
    WriteResult
        Rows written (distinct keys upserted, plus membership and status changes), per table,
        the time the lock was held, and the run record as stored.
    """
    result = WriteResult()
    started = time.perf_counter()
    with db.transaction() as con:
        operations = batch.operations
        if "replace_partial" in operations and len(operations["replace_partial"]):
            result.by_table["price_history_partial_removed"] = _replace_partial(con, operations["replace_partial"])
        for table in UPSERT_TABLES:
            frame = batch.frames.get(table)
            if frame is None or frame.empty:
                continue
            written = storage.upsert(con, table, _keep_known(con, table, frame)).written
            result.by_table[table] = result.by_table.get(table, 0) + written
            result.rows += written
        if "membership_scopes" in operations and len(operations["membership_scopes"]):
            members = operations.get("membership", pd.DataFrame(columns=["category_id", "coin_id"]))
            changed = _apply_membership(con, members, operations["membership_scopes"])
            result.by_table["category_members"] = changed
            result.rows += changed
        if "deactivate" in operations and len(operations["deactivate"]):
            changed = _deactivate(con, operations["deactivate"])
            result.by_table["coins"] = result.by_table.get("coins", 0) + changed
            result.rows += changed
        if batch.watermarks:
            details: Any = {scope: detail for scope, detail in batch.watermark_details.items() if scope in batch.watermarks}
            set_watermarks(con, batch.job, batch.watermarks, detail=details or None)
        run = _merge_run(con, batch, result.rows)
        record_run(con, run)
        result.run = run
    result.lock_ms = db.last_held_ms if db.last_held_ms is not None else (time.perf_counter() - started) * 1000
    return result


__all__ = ["WriteResult", "write_batch"]
