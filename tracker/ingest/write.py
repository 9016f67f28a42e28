"""Write one Batch in one short transaction: its rows, its watermarks and its run record.

Either all of a batch lands or none of it, so a crash or a lock never leaves rows without the
watermark that says they are there, or a run record that disagrees with the rows. Every step is
set-based SQL over registered frames (in ``storage.batches``), and every step is idempotent:
writing the same batch twice changes nothing the second time (apart from the run's row count,
which is what was written). This is the one writer of every source: the CoinGecko jobs and CSV
import (a file is one batch) alike, with one rule for coins new to ``coins`` (``new_coins``).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

import storage
from storage import Database

from .batch import UPSERT_TABLES, Batch
from .runs import RunRecord, record_run, set_watermarks, utcnow

FINAL_STATUSES = ("ok", "partial", "failed", "stopped")


@dataclass
class WriteResult:
    """What :func:`write_batch` did."""

    rows: int = 0
    by_table: dict[str, int] = field(default_factory=dict)
    lock_ms: float = 0.0
    run: RunRecord | None = None
    replaced: dict[str, int] = field(default_factory=dict)  # per table: keys that were already stored
    new_coins: int = 0  # coins the batch named that ``coins`` did not hold yet
    replaced_per_coin: dict[str, int] = field(default_factory=dict)  # price_history, only for a tally batch


def _merge_run(con: duckdb.DuckDBPyConnection, batch: Batch, rows: int) -> RunRecord:
    """The run's row after this batch: rows add up over its batches, calls and times widen,
    and only the final batch decides the outcome (a late, non-final batch cannot undo it)."""
    run = RunRecord(**{k: v for k, v in vars(batch.run).items()})
    run.details = dict(batch.run.details)
    existing = storage.stored_run(con, run.run_id)
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
            result.by_table["price_history_partial_removed"] = storage.replace_partial(con, operations["replace_partial"])
        prices = batch.frames.get("price_history")
        if batch.tally and prices is not None and not prices.empty:
            result.replaced_per_coin = storage.replaced_prices_per_coin(con, prices)
        for table in UPSERT_TABLES:
            frame = batch.frames.get(table)
            if frame is None or frame.empty:
                continue
            upserted = storage.upsert(con, table, storage.keep_known(con, table, frame))
            result.by_table[table] = result.by_table.get(table, 0) + upserted.written
            result.replaced[table] = result.replaced.get(table, 0) + upserted.replaced
            result.rows += upserted.written
        if "new_coins" in operations and len(operations["new_coins"]):
            # Bookkeeping that keeps every coin the batch names in `coins`, not data the
            # source delivered: not counted in the run's rows.
            result.new_coins = storage.add_new_coins(con, operations["new_coins"])
        if "coin_markets" in operations and len(operations["coin_markets"]):
            # The mapping the rows came through: bookkeeping, not counted in the run's rows.
            result.by_table["coin_markets"] = storage.upsert_coin_markets(con, operations["coin_markets"])
        if "membership_scopes" in operations and len(operations["membership_scopes"]):
            members = operations.get("membership", pd.DataFrame(columns=["category_id", "coin_id"]))
            changed = storage.apply_membership(con, members, operations["membership_scopes"])
            result.by_table["category_members"] = changed
            result.rows += changed
        if "deactivate" in operations and len(operations["deactivate"]):
            gone = operations["deactivate"]
            # A coin not stored yet gets its row by the one new-coins rule, then is marked.
            storage.add_new_coins(con, gone.assign(symbol=None)[["coin_id", "symbol", "at"]])
            changed = storage.deactivate_coins(con, gone)
            result.by_table["coins"] = result.by_table.get("coins", 0) + changed
            result.rows += changed
        if batch.watermarks:
            details: Any = {scope: detail for scope, detail in batch.watermark_details.items() if scope in batch.watermarks}
            set_watermarks(con, batch.job, batch.watermarks, detail=details or None)
        run = _merge_run(con, batch, result.rows)
        if batch.tally:
            run.details = {**run.details, "replaced": result.replaced.get("price_history", 0), "new_coins": result.new_coins}
        record_run(con, run)
        result.run = run
    result.lock_ms = db.last_held_ms if db.last_held_ms is not None else (time.perf_counter() - started) * 1000
    return result


__all__ = ["WriteResult", "write_batch"]
