"""Storing a checked file: one :class:`~tracker.ingest.Batch`, written by the one batch writer.

A file is one batch group of one batch, so it lands in one transaction (its rows, the coins new
to ``coins`` and its ``ingest_runs`` record, job ``import``) or not at all; like every batch it
can wait in the spool while the database is locked.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from storage import Database

from ...errors import InputError
from ...ingest import Batch, WriteResult, write_batch
from ...ingest.runs import RunRecord, utcnow
from .options import DEFAULT_OPTIONS, ImportOptions
from .prepare import PreparedImport, prepare_import


@dataclass
class ImportResult:
    """What an import wrote (``run_id`` is None for a dry run, which writes nothing).

    ``spooled``: the database stayed locked, so the checked rows wait in the spool as one batch
    (run ``run_id``); nothing is written yet and the counts are 0.
    """

    prepared: PreparedImport
    written: int = 0
    replaced: int = 0
    new_coins: int = 0
    run_id: str | None = None
    replaced_per_coin: dict[str, int] = field(default_factory=dict)
    spooled: bool = False

    @classmethod
    def from_write(cls, prepared: PreparedImport, written: WriteResult) -> "ImportResult":
        """The result of writing :func:`import_batch`'s batch for ``prepared``."""
        return cls(
            prepared=prepared,
            written=written.by_table.get("price_history", 0),
            replaced=written.replaced.get("price_history", 0),
            new_coins=written.new_coins,
            run_id=written.run.run_id if written.run is not None else None,
            replaced_per_coin=dict(written.replaced_per_coin),
        )

    @property
    def inserted(self) -> int:
        return self.written - self.replaced

    def summary(self) -> dict:
        p = self.prepared
        return {
            "file": p.path.name,
            "layout": p.layout,
            "label": p.label,
            "granularity": p.granularity,
            "source": p.source,
            "vs_currency": p.vs_currency,
            "rows_read": p.rows_read,
            "prices": len(p.rows),
            "written": self.written,
            "inserted": self.inserted,
            "replaced": self.replaced,
            "duplicates": p.duplicates,
            "empty_cells": p.empty_cells,
            "filtered_out": p.filtered_out,
            "skipped_symbols": ",".join(p.skipped_symbols),
            "new_coins": self.new_coins,
            "dry_run": self.run_id is None,
            "run_id": self.run_id,
        }

    def coins_table(self) -> pd.DataFrame:
        """Per coin: rows, first and last ``ts`` stored, and (once written) how many were new or replaced."""
        table = self.prepared.per_coin()
        if self.run_id is None or self.spooled:
            return table
        replaced = table["coin_id"].map(lambda c: int(self.replaced_per_coin.get(c, 0))).astype("int64")
        table.insert(3, "inserted", table["rows"] - replaced)
        table.insert(4, "replaced", replaced)
        return table



def import_batch(prepared: PreparedImport) -> Batch:
    """The batch that stores ``prepared``: its ``price_history`` rows, its coins (added to
    ``coins`` when new, by the writer's new-coins rule) and a run of job ``import``."""
    now = utcnow()
    run = RunRecord(job="import", started_at=now)
    run.details = {
        "file": str(prepared.path.resolve()),
        "layout": prepared.layout,
        "label": prepared.label,
        "granularity": prepared.granularity,
        "source": prepared.source,
        "vs_currency": prepared.vs_currency,
        "coins": prepared.coins["coin_id"].tolist(),
    }
    coins = prepared.coins[["coin_id", "symbol"]].astype(object).assign(at=pd.Timestamp(now))
    return Batch(
        job="import",
        run=run,
        frames={"price_history": prepared.rows.assign(ingested_at=pd.Timestamp(now))},
        operations={"new_coins": coins},
        tally=True,
    )


def write_import(db: Database, prepared: PreparedImport) -> ImportResult:
    """Write a prepared file in one transaction: its rows, coins new to ``coins``, and an ``ingest_runs`` row.

    Raises :class:`storage.DatabaseLockedError` when the file stays locked (the CLI then spools
    the batch instead).

    Returns
    -------
    ImportResult
        Rows written and replaced (in total and per coin), coins added, and the run id.
    """
    return ImportResult.from_write(prepared, write_batch(db, import_batch(prepared)))


def import_csv(db: Database | None, path: str | Path, options: ImportOptions = DEFAULT_OPTIONS, *, dry_run: bool = False,
               progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check a whole CSV file, then write it in one transaction (nothing at all when ``dry_run``).

    Parameters
    ----------
    db:
        The database (may be None for a dry run).
    path, options, progress:
        As for :func:`prepare_import`.
    dry_run:
        Only read and check the file.

    Examples
    --------
    >>> result = import_csv(db, "FETUSDT_1h_close.csv", ImportOptions(coin_id="fetch-ai", symbol="FET"))  # doctest: +SKIP
    >>> result.written  # doctest: +SKIP
    38000
    """
    prepared = prepare_import(path, options, progress=progress)
    if dry_run:
        return ImportResult(prepared=prepared)
    if db is None:
        raise InputError("import_csv needs a database unless dry_run=True")
    return write_import(db, prepared)
