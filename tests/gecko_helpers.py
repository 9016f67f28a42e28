"""Shared pieces for the CoinGecko client, fake server and ingestion tests.

Every test talks real HTTP to a :class:`tracker.sources.fakegecko.FakeGecko` on 127.0.0.1; nothing
reaches the real API. Limiter and backoff delays are made tiny so the suite stays fast.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

import storage
from tracker.config import TrackingConfig
from tracker.sources.coingecko import CoinGeckoClient, RateLimiter, RetryPolicy
from tracker.sources.fakegecko import FakeGecko

# A fixed "now" (a Thursday afternoon, not on an hour boundary) for deterministic runs.
NOW = datetime(2026, 3, 12, 15, 37, 21)
FAST_RETRY = RetryPolicy(max_retries=3, backoff_seconds=0.01, backoff_max_seconds=0.05, retry_after_cap_seconds=5.0)
TRACKING = TrackingConfig(vs_currency="usd", categories=("artificial-intelligence",), benchmarks=("bitcoin", "ethereum"), history_days=365)
DATA_TABLES = ("coins", "categories", "category_snapshots", "category_members", "market_snapshots", "price_history", "ingest_runs", "ingest_state")


def make_client(fake, *, plan: str = "keyless", api_key: str | None = None, retry: RetryPolicy = FAST_RETRY,
                calls_per_minute: float | None = None, timeout: float = 30.0, **kwargs) -> CoinGeckoClient:
    """A client for ``fake`` with no limiter (unless asked) and near-instant retries.

    The default timeout is long enough that no answer times out because the machine is busy
    (a 250-coin page can take seconds then); tests of timeouts pass a short one explicitly,
    with a fault that holds the answer far longer."""
    return CoinGeckoClient(fake.base_url, plan=plan, api_key=api_key, retry=retry, timeout=timeout,
                           limiter=RateLimiter(calls_per_minute), **kwargs)


@pytest.fixture
def fake():
    """A small deterministic fake (12 AI coins) frozen at NOW."""
    with FakeGecko(ai_coins=12, other_coins=8, now=NOW) as server:
        yield server


@pytest.fixture
def client(fake):
    with make_client(fake) as c:
        yield c


def count(db: storage.Database, table: str, where: str = "") -> int:
    return int(storage.query(db, f"SELECT count(*) AS n FROM {table} {where}")["n"][0])


def duplicate_keys(db: storage.Database, table: str) -> int:
    """Rows beyond one per natural key (0 when the table is clean)."""
    key = ", ".join(storage.TABLES[table].key)
    return int(storage.query(db, f"SELECT count(*) - count(DISTINCT ({key})) AS d FROM {table}")["d"][0])


def assert_no_duplicates(db: storage.Database) -> None:
    for table in DATA_TABLES:
        assert duplicate_keys(db, table) == 0, f"{table} has duplicate keys"


def frame(db: storage.Database, sql: str, params=None) -> pd.DataFrame:
    return storage.query(db, sql, params)


def runs(db: storage.Database) -> pd.DataFrame:
    return storage.query(db, "SELECT job, status, calls, rows, error, details FROM ingest_runs ORDER BY started_at")


def all_text(db: storage.Database) -> str:
    """Every cell of every table as text, for secret scans."""
    with db.connect(read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
        ).fetchall()]
        parts = []
        for table in tables:
            for row in con.execute(f'SELECT * FROM "{table}"').fetchall():
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


def python_blocks(markdown: str) -> list[str]:
    """The ```python blocks of a Markdown file, in order."""
    import re

    return re.findall(r"```python\n(.*?)```", markdown, re.S)


def run_python_blocks(path) -> int:
    """Execute every ```python block of a doc (each in a fresh namespace); returns how many ran."""
    from pathlib import Path

    blocks = python_blocks(Path(path).read_text())
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"{Path(path).name}:python-block-{number}", "exec"), {"__name__": "__doc_example__"})
        except Exception as exc:  # name the block, keep the cause
            raise AssertionError(f"{Path(path).name}: python block {number} failed: {type(exc).__name__}: {exc}") from exc
    return len(blocks)
