"""A Batch: everything one fetch produced, ready to write in one transaction, or to spool.

Fetching (HTTP, no database lock) and writing (one short transaction) are separate steps. The
fetch step of every job returns :class:`Batch` objects; :func:`tracker.ingest.write.write_batch`
writes one. When the database is locked, a batch can wait on disk (:meth:`Batch.save`) and be
written later (:meth:`Batch.load`), exactly as if it had been written at once.

On disk a batch is a folder::

    manifest.json              format, job, run record, watermarks, and every file with its row count
    coins.parquet              one Parquet file per table to upsert (names from a fixed list)
    op-membership.parquet      one per special operation (membership, partial-point removal, ...)

The folder is written under a temporary name and renamed into place, so a half-written batch
is never mistaken for a whole one; :meth:`Batch.load` checks every file against the manifest.
"""
from __future__ import annotations

import copy
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError, first_line
from .runs import RunRecord, utcnow

FORMAT = "ai-token-tracker-batch"
FORMAT_VERSION = 1
# Tables a batch may upsert, in the order they are written (fixed here, never read from disk).
UPSERT_TABLES = ("coins", "categories", "category_snapshots", "market_snapshots", "price_history")
# Special operations, applied after the upserts (see write.py).
OPERATIONS = {
    "replace_partial": ("coin_id", "vs_currency", "source"),
    "membership": ("category_id", "coin_id"),
    "membership_scopes": ("category_id", "observed_at"),
    "deactivate": ("coin_id", "reason", "at"),
    "new_coins": ("coin_id", "symbol", "at"),
    # Exchange markets seen (storage.markets): first/last seen only widen, the rest is replaced.
    "coin_markets": ("coin_id", "exchange", "symbol", "exchange_symbol", "base", "quote", "mapped_by", "active",
                     "first_seen", "last_seen", "updated_at"),
}


@dataclass
class Batch:
    """What one fetch produced for one job.

    Attributes
    ----------
    job:
        ``markets``, ``categories``, ``members`` or ``history``.
    run:
        The run record as of this batch (a run may span several batches; ``final`` marks its last).
    frames:
        Rows to upsert, by table (see :data:`UPSERT_TABLES`).
    operations:
        Frames for the special operations (see :data:`OPERATIONS`): ``replace_partial`` drops a
        coin's old partial "now" points, ``membership`` / ``membership_scopes`` are a full
        observation of categories' members, ``deactivate`` marks delisted coins, ``new_coins``
        names coins (with a symbol) to add to ``coins`` when not stored yet (the one new-coins
        rule: a stored coin is left alone; a delisted coin not stored yet gets its row the same way),
        ``coin_markets`` records exchange markets and the span of candles stored from each.
    watermarks:
        ``scope -> instant`` for ``ingest_state`` (job = ``job``); ``watermark_details`` adds a
        JSON detail per scope.
    final:
        The last batch of its run: its run status is the run's outcome.
    tally:
        Count, per coin, the ``price_history`` rows the batch replaces, and record ``replaced``
        and ``new_coins`` in the run's details (an import reports both).
    """

    job: str
    run: RunRecord
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    operations: dict[str, pd.DataFrame] = field(default_factory=dict)
    watermarks: dict[str, datetime | None] = field(default_factory=dict)
    watermark_details: dict[str, dict[str, Any]] = field(default_factory=dict)
    final: bool = True
    tally: bool = False

    def __post_init__(self) -> None:
        for table in self.frames:
            if table not in UPSERT_TABLES:
                raise ValueError(f"a batch cannot write table {table!r}")
        for name, frame in self.operations.items():
            if name not in OPERATIONS:
                raise ValueError(f"unknown batch operation {name!r}")
            missing = [c for c in OPERATIONS[name] if c not in frame.columns]
            if missing:
                raise ValueError(f"operation {name} lacks column(s) {', '.join(missing)}")

    def describe(self) -> str:
        parts = [f"{t}={len(f)}" for t, f in self.frames.items()] + [f"{o}={len(f)}" for o, f in self.operations.items()]
        return f"{self.job} batch ({'final' if self.final else 'partial run'}): {', '.join(parts) or 'no rows'}"

    # -- spool ------------------------------------------------------------------------------

    def save(self, folder: str | Path) -> Path:
        """Write the batch to a new ``folder`` (which must not exist yet); returns its path."""
        target = Path(folder)
        if target.exists():
            raise InputError(f"cannot spool a batch to {target}: it already exists")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        staging.mkdir()
        try:
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "saved_at": utcnow().isoformat(),
                "job": self.job,
                "final": self.final,
                "tally": self.tally,
                "run": _run_to_json(self.run),
                "watermarks": {k: (v.isoformat() if v is not None else None) for k, v in self.watermarks.items()},
                "watermark_details": self.watermark_details,
                "frames": {},
                "operations": {},
            }
            for kind, items, prefix in (("frames", self.frames, ""), ("operations", self.operations, "op-")):
                for name, frame in items.items():
                    file_name = f"{prefix}{name}.parquet"
                    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), staging / file_name)
                    manifest[kind][name] = {"file": file_name, "rows": int(len(frame))}
            with open(staging / "manifest.json", "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=2, default=str)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return target

    @classmethod
    def load(cls, folder: str | Path) -> "Batch":
        """Read a batch saved by :meth:`save`; a one-line InputError if it is incomplete or foreign."""
        source = Path(folder)
        manifest_path = source / "manifest.json"
        if not manifest_path.is_file():
            raise InputError(f"{source} is not a spooled batch (no manifest.json)")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise InputError(f"{manifest_path} is not readable JSON: {exc}") from None
        if manifest.get("format") != FORMAT:
            raise InputError(f"{source} is not a tracker batch (format {manifest.get('format')!r})")
        if manifest.get("version") != FORMAT_VERSION:
            raise InputError(f"{source} has batch format version {manifest.get('version')}; this tracker reads version {FORMAT_VERSION}")

        def read(kind: str, allowed) -> dict[str, pd.DataFrame]:
            out = {}
            for name, entry in (manifest.get(kind) or {}).items():
                if name not in allowed:
                    raise InputError(f"{source}: {kind[:-1]} {name!r} is not one a batch may carry")
                path = source / Path(str(entry.get("file", ""))).name
                try:
                    frame = pq.read_table(path).to_pandas()
                except (OSError, pa.ArrowException) as exc:
                    raise InputError(f"{source}: cannot read {path.name}: {first_line(exc)}") from None
                if len(frame) != entry.get("rows"):
                    raise InputError(f"{source}: {path.name} has {len(frame)} rows, the manifest says {entry.get('rows')}")
                out[name] = frame
            return out

        try:
            watermarks = {k: (datetime.fromisoformat(v) if v else None) for k, v in manifest.get("watermarks", {}).items()}
            run = _run_from_json(manifest["run"])
        except (KeyError, TypeError, ValueError) as exc:
            raise InputError(f"{source}: the manifest is damaged ({exc})") from None
        return cls(
            job=str(manifest["job"]),
            run=run,
            frames=read("frames", UPSERT_TABLES),
            operations=read("operations", OPERATIONS),
            watermarks=watermarks,
            watermark_details=dict(manifest.get("watermark_details") or {}),
            final=bool(manifest.get("final", True)),
            tally=bool(manifest.get("tally", False)),
        )


def snapshot_run(run: RunRecord) -> RunRecord:
    """A copy of ``run`` that later changes to the live record cannot reach."""
    return copy.deepcopy(run)


def _run_to_json(run: RunRecord) -> dict[str, Any]:
    out = {}
    for f in fields(run):
        value = getattr(run, f.name)
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _run_from_json(data: dict[str, Any]) -> RunRecord:
    values = dict(data)
    for name in ("started_at", "finished_at"):
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    known = {f.name for f in fields(RunRecord)}
    return RunRecord(**{k: v for k, v in values.items() if k in known})


__all__ = ["FORMAT_VERSION", "OPERATIONS", "UPSERT_TABLES", "Batch", "snapshot_run"]
