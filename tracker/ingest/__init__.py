"""Ingestion: CoinGecko into DuckDB, as fetch steps that return Batches and one writer.

Each job (markets, categories, members, history) has a fetch step that only talks HTTP and
yields :class:`Batch` objects, and :func:`write_batch` writes one batch (rows, watermarks and
the run record) in one short transaction. ``ingest_*`` run both steps; a daemon can run them
apart and spool batches with :meth:`Batch.save` / :meth:`Batch.load`. See docs/ingestion.md.
"""
from .batch import OPERATIONS, UPSERT_TABLES, Batch
from .categories import fetch_categories
from .history import HistoryState, fetch_history, read_history_state
from .jobs import CANDLE_JOBS, JOB_ORDER, ingest_all, ingest_categories, ingest_history, ingest_markets, ingest_members
from .markets import CategoryMarkets, MarketsCache, fetch_markets
from .members import fetch_members
from .run import JobRun, RunSummary, drive, read_run, summaries_frame
from .write import WriteResult, write_batch

__all__ = [
    "CANDLE_JOBS",
    "JOB_ORDER",
    "OPERATIONS",
    "UPSERT_TABLES",
    "Batch",
    "CategoryMarkets",
    "HistoryState",
    "JobRun",
    "MarketsCache",
    "RunSummary",
    "WriteResult",
    "drive",
    "fetch_categories",
    "fetch_history",
    "fetch_markets",
    "fetch_members",
    "ingest_all",
    "ingest_categories",
    "ingest_history",
    "ingest_markets",
    "ingest_members",
    "read_history_state",
    "read_run",
    "summaries_frame",
    "write_batch",
]
