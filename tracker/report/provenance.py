"""Where a report's numbers come from: the price source of every token's closes, the CoinGecko
plan of the config, the last ingestion run of each job, and the database file.

The API key is never read here beyond whether one is set (``CoinGeckoConfig.masked_key``).
"""
from __future__ import annotations

import ipaddress
from importlib import metadata
from typing import Sequence
from urllib.parse import urlsplit

import pandas as pd

import storage
from storage import Database

from .. import utc
from ..analysis import panels
from ..analysis.source_choice import SourcePolicy, provenance_rows
from ..config import Config
from ..urls import mask_url

SOURCE_COLUMNS = ["coin_id", "source", "quote", "closes", "first_close", "last_close", "not_used"]


def price_sources(db: Database, coins: Sequence[str], start, end, *, hourly: bool = False,
                  policy: SourcePolicy | None = None) -> pd.DataFrame:
    """The one source each coin's closes came from between ``start`` and ``end``
    (``source_choice``): its quote (``usdt read as usd``), how many closes it gave, and the
    candidates not used."""
    chosen = panels.chosen_sources(db, coins, start, end, hourly=hourly, policy=policy, complete_only=False)
    rows = provenance_rows(chosen, panels.quote_currency(db, None, policy))
    frame = pd.DataFrame(rows).merge(chosen[["coin_id", "first_close", "last_close"]], on="coin_id") if rows else pd.DataFrame()
    return frame.reindex(columns=SOURCE_COLUMNS)


def last_runs(db: Database) -> pd.DataFrame:
    """The newest run of each ingestion job (``ingest_runs``)."""
    with db.connect(read_only=True) as con:
        return storage.last_run_per_job(con)


def is_loopback(url: str) -> bool:
    """True for a URL on this machine (a fake server), which real CoinGecko never is."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plan_info(config: Config) -> dict:
    cg = config.coingecko
    return {
        "plan": cg.plan,
        "base_url": mask_url(cg.base_url),
        "calls_per_minute": cg.calls_per_minute,
        "api_key": cg.masked_key,
        "loopback_server": is_loopback(cg.base_url),
        "vs_currency": config.tracking.vs_currency,
    }


def database_info(db: Database) -> dict:
    with db.connect(read_only=True) as con:
        version = storage.current_version(con)
    return {"path": str(db.path), "schema_version": version}


def generator_info() -> dict:
    try:
        version = metadata.version("ai-token-tracker")
    except metadata.PackageNotFoundError:  # running from a source tree without an install
        version = "unknown"
    return {
        "generator": "ai-token-tracker report event-study",
        "tracker_version": version,
        "generated_at": utc.now().replace(microsecond=0),
    }
