"""The ingestion jobs end to end: fetch, then write each batch, and report the run.

These are what ``tracker ingest ...`` calls. A daemon that must not hold the database lock
while fetching uses the fetch steps (``fetch_markets`` ...) and ``write_batch`` directly, and
can spool a batch (``Batch.save``) when the database is busy.
"""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from storage import Database

from ..config import TrackingConfig
from ..sources.coingecko import CoinGeckoClient
from .categories import fetch_categories
from .history import Progress, fetch_history, read_history_state
from .markets import MarketsCache, fetch_markets
from .members import fetch_members
from .run import RunSummary, drive

JOB_ORDER = ("categories", "markets", "members", "history")
# The exchange-candle jobs and their interval; they run after JOB_ORDER's, only when enabled.
CANDLE_JOBS = {"candles": "1d", "candles_hourly": "1h"}


def ingest_markets(db: Database, client: CoinGeckoClient, tracking: TrackingConfig, *, now: datetime | None = None,
                   cache: MarketsCache | None = None) -> RunSummary:
    """Snapshot ``/coins/markets`` for the tracked categories and benchmarks into ``coins`` and ``market_snapshots``."""
    return drive(db, fetch_markets(client, tracking, now=now, cache=cache))


def ingest_categories(db: Database, client: CoinGeckoClient, tracking: TrackingConfig, *, now: datetime | None = None) -> RunSummary:
    """Snapshot ``/coins/categories`` into ``categories`` and ``category_snapshots``."""
    return drive(db, fetch_categories(client, tracking, now=now))


def ingest_members(db: Database, client: CoinGeckoClient, tracking: TrackingConfig, *, now: datetime | None = None,
                   cache: MarketsCache | None = None) -> RunSummary:
    """Sync ``category_members`` with each tracked category's current coins."""
    return drive(db, fetch_members(client, tracking, now=now, cache=cache))


def ingest_history(db: Database, client: CoinGeckoClient, tracking: TrackingConfig, *, coins: Sequence[str] | None = None,
                   now: datetime | None = None, history_days: int | None = None, progress: Progress | None = None) -> RunSummary:
    """Bring ``price_history`` up to date for the tracked coins (or ``coins``), coin by coin."""
    state = read_history_state(db, tracking, coins=coins)
    return drive(db, fetch_history(client, tracking, state, now=now, history_days=history_days, progress=progress))


def ingest_all(db: Database, client: CoinGeckoClient, tracking: TrackingConfig, *, now: datetime | None = None,
               history_days: int | None = None, progress: Progress | None = None) -> list[RunSummary]:
    """Every job once, in order (categories, markets, members, history), each recorded as its own run.

    The members job reuses the pages the markets job fetched, so a category costs its markets
    pages once; history then covers the members just stored. When a run finds the host
    unreachable (its summary's ``unreachable``), the jobs after it are not started.
    """
    cache = MarketsCache()
    jobs = [
        lambda: ingest_categories(db, client, tracking, now=now),
        lambda: ingest_markets(db, client, tracking, now=now, cache=cache),
        lambda: ingest_members(db, client, tracking, now=now, cache=cache),
        lambda: ingest_history(db, client, tracking, now=now, history_days=history_days, progress=progress),
    ]
    summaries: list[RunSummary] = []
    for job in jobs:
        summaries.append(job())
        if summaries[-1].unreachable:
            break
    return summaries


__all__ = ["CANDLE_JOBS", "JOB_ORDER", "ingest_all", "ingest_categories", "ingest_history", "ingest_markets", "ingest_members"]
