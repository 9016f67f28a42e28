"""Shared pieces for the exchange client and fake exchange tests.

Every test talks real HTTP, through ccxt, to a :class:`tracker.sources.fakeexchange.FakeExchange`
on 127.0.0.1; nothing reaches a real exchange. Waits between retries go to a recorder instead
of sleeping, and ccxt's own call spacing is off except where a test is about it.
"""
from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from tracker.sources.exchange import ExchangeClient
from tracker.sources.fakeexchange import FakeExchange

from .conftest import REALDATA

# The fake's frozen clock: mid-hour, so the candle containing "now" is still open.
NOW = datetime(2024, 3, 1, 12, 30)
HOURLY_DIR = REALDATA / "binance_spot_hourly_mark6"
DAILY_CSV = REALDATA / "daily_close_binance_spot_from_hourly.csv"
KEY_HEADERS = ("authorization", "x-mbx-apikey", "ok-access-key", "ok-access-sign", "x-bapi-api-key")


def make_client(fake, exchange_id: str = "binance", *, waits: list | None = None, **kwargs) -> ExchangeClient:
    """A client of ``fake`` whose retry waits are recorded in ``waits`` instead of slept."""
    options = {"enable_rate_limit": False, "timeout_seconds": 30, **kwargs}
    return ExchangeClient(exchange_id, base_url=fake.base_url, sleep=(waits.append if waits is not None else _no_sleep), **options)


def _no_sleep(seconds: float) -> None:
    return None


def candles(client: ExchangeClient, symbol: str, interval: str, since, until=None) -> pd.DataFrame:
    """Every page of a fetch in one frame."""
    pages = list(client.fetch_candles(symbol, interval, since, until))
    return pd.concat(pages, ignore_index=True) if pages else pd.DataFrame()


def sent_headers(fake) -> list[dict[str, str]]:
    return [r["headers"] for r in fake.stats()["requests"]]


@pytest.fixture
def fake():
    """A synthetic fake exchange frozen at NOW."""
    with FakeExchange(now=NOW) as server:
        yield server


@pytest.fixture
def client(fake):
    return make_client(fake)


@pytest.fixture(scope="module")
def real_fake():
    """A fake built from the shared real Binance hourly closes (skips when ../shared is absent)."""
    if not HOURLY_DIR.is_dir():
        pytest.skip(f"shared real data not found at {HOURLY_DIR} (it lives beside the project, not in it)")
    with FakeExchange(data_dir=HOURLY_DIR) as server:
        yield server
