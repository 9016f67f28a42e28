"""Ingestion: CoinGecko into DuckDB, as fetch steps that return Batches and one writer.

Each job (markets, categories, members, history) has a fetch step that only talks HTTP and
yields :class:`Batch` objects, and :func:`write_batch` writes one batch (rows, watermarks and
the run record) in one short transaction. ``ingest_*`` run both steps; a daemon can run them
apart and spool batches with :meth:`Batch.save` / :meth:`Batch.load`. See docs/ingestion.md.
"""
from __future__ import annotations

from .. import lazy_exports

# name -> submodule. Loaded on first use, so importing one light submodule (for `tracker status`)
# does not load them all (pandas among them). Add new exports here.
_EXPORTS = {
    "OPERATIONS": "batch",
    "UPSERT_TABLES": "batch",
    "Batch": "batch",
    "fetch_categories": "categories",
    "HistoryState": "history",
    "fetch_history": "history",
    "read_history_state": "history",
    "CANDLE_JOBS": "jobs",
    "JOB_ORDER": "jobs",
    "ingest_all": "jobs",
    "ingest_categories": "jobs",
    "ingest_history": "jobs",
    "ingest_markets": "jobs",
    "ingest_members": "jobs",
    "CategoryMarkets": "markets",
    "MarketsCache": "markets",
    "fetch_markets": "markets",
    "fetch_members": "members",
    "JobRun": "run",
    "RunSummary": "run",
    "drive": "run",
    "read_run": "run",
    "summaries_frame": "run",
    "WriteResult": "write",
    "write_batch": "write",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
