"""Exchange faults through ccxt: 429 with Retry-After, 418 bans, 451/403 geo-blocks, 5xx and timeouts."""
from __future__ import annotations

from datetime import datetime

import pytest

from tracker.cli.flags import with_flags
from tracker.errors import TrackerError, first_line
from tracker.sources.exchange import ExchangeBanned, ExchangeRateLimited, ExchangeUnavailable, GeoBlocked

from . import exchange_helpers
from .exchange_helpers import candles, make_client

fake = exchange_helpers.fake  # fixture

KLINES = "/api/v3/klines"
SINCE = datetime(2023, 1, 1)  # 14 months of 1d candles: two pages would be needed for 1h


def fetch(client, interval="1d"):
    return candles(client, "FET/USDT", interval, SINCE)


def test_429_waits_retry_after_then_goes_on(fake):
    waits: list[float] = []
    client = make_client(fake, waits=waits)
    clean = len(fetch(make_client(fake)))
    fake.reset_stats()
    fake.add_fault("rate_limit", endpoint=KLINES, retry_after=7, times=2)
    assert len(fetch(client)) == clean
    assert waits == [7.0, 7.0]
    assert fake.stats()["by_status"] == {"200": 2, "429": 2}  # market list + page, two refusals


def test_429_without_retry_after_backs_off(fake):
    waits: list[float] = []
    client = make_client(fake, waits=waits, backoff_seconds=0.5, backoff_max_seconds=1.5)
    fake.add_fault("rate_limit", endpoint=KLINES, retry_after="", times=3)
    fetch(client)
    assert waits == [0.5, 1.0, 1.5]


def test_429_asking_longer_than_the_cap_fails_at_once(fake):
    waits: list[float] = []
    client = make_client(fake, waits=waits, retry_after_cap_seconds=60)
    fake.add_fault("rate_limit", endpoint=KLINES, retry_after=3600, times=None)
    with pytest.raises(ExchangeRateLimited) as caught:
        fetch(client)
    assert waits == [] and fake.calls(KLINES) == 1
    assert caught.value.retry_after_seconds == 3600
    assert first_line(caught.value) == str(caught.value)
    assert "asks to wait 60 min, longer than the 60s the client waits" in str(caught.value)


def test_429_every_time_gives_up_after_max_retries(fake):
    waits: list[float] = []
    client = make_client(fake, waits=waits, max_retries=2)
    fake.add_fault("rate_limit", endpoint=KLINES, retry_after=1, times=None)
    with pytest.raises(ExchangeRateLimited, match="kept answering 429"):
        fetch(client)
    assert waits == [1.0, 1.0] and fake.calls(KLINES) == 3


def test_418_ban_is_never_retried_and_says_how_long(fake):
    waits: list[float] = []
    client = make_client(fake, waits=waits)
    fake.add_fault("ban", endpoint=KLINES, retry_after=7200, times=None)
    with pytest.raises(ExchangeBanned) as caught:
        fetch(client)
    assert waits == [] and fake.calls(KLINES) == 1
    assert caught.value.retry_after_seconds == 7200
    assert str(caught.value) == ("binance has banned this IP address for 2.0 h (HTTP 418, after too many requests); "
                                 "wait until the ban ends before fetching again")


def test_418_without_retry_after_reads_binances_banned_until(fake):
    client = make_client(fake, waits=[])
    fake.add_fault("ban", endpoint=KLINES, retry_after="", times=None)
    with pytest.raises(ExchangeBanned) as caught:
        fetch(client)
    assert caught.value.retry_after_seconds == 120  # "IP banned until <now + 120 s>", by the fake's clock


@pytest.mark.parametrize("kind, status", [("geo_block", 451), ("forbidden", 403)])
def test_geo_block_is_one_line_naming_the_exchange_and_the_flag(fake, kind, status):
    waits: list[float] = []
    client = make_client(fake, waits=waits)
    fake.add_fault(kind, endpoint="/api/v3/*", times=None)
    with pytest.raises(GeoBlocked) as caught:
        client.markets()
    message = with_flags(caught.value)
    assert message == (f"binance refuses requests from this location (HTTP {status}); "
                       "choose another exchange with --exchange, e.g. okx or bybit")
    assert isinstance(caught.value, TrackerError) and waits == [] and fake.calls() == 1


def test_geo_block_on_candles_too(fake):
    client = make_client(fake)
    client.markets()
    fake.add_fault("geo_block", endpoint=KLINES, times=None)
    with pytest.raises(GeoBlocked, match="HTTP 451"):
        fetch(client)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_back_off_and_retry(fake, status):
    waits: list[float] = []
    client = make_client(fake, waits=waits, backoff_seconds=1, backoff_max_seconds=3)
    clean = len(fetch(make_client(fake)))
    fake.add_fault("server_error", endpoint=KLINES, status=status, times=3)
    assert len(fetch(client)) == clean
    assert waits == [1, 2, 3]


def test_server_errors_that_last_end_in_one_line(fake):
    client = make_client(fake, waits=[], max_retries=2)
    fake.add_fault("server_error", endpoint=KLINES, status=502, times=None)
    with pytest.raises(ExchangeUnavailable) as caught:
        fetch(client)
    assert str(caught.value) == "binance candles FET/USDT 1d failed after 3 attempts: HTTP 502"
    assert fake.calls(KLINES) == 3


@pytest.mark.slow  # over 4 s on a quiet machine
def test_a_timeout_is_retried(fake):
    waits: list[float] = []
    client = make_client(fake, waits=waits, timeout_seconds=4)
    fake.add_fault("timeout", endpoint=KLINES, delay=30, times=1)
    assert len(fetch(client)) > 0
    assert len(waits) == 1 and fake.stats()["faults_fired"] == {"timeout": 1}


@pytest.mark.parametrize("kind", ["html_200", "truncated"])
def test_an_answer_that_is_not_json_is_retried_not_taken_for_the_end(fake, kind):
    waits: list[float] = []
    client = make_client(fake, waits=waits)
    clean = len(fetch(make_client(fake), "1h"))
    fake.add_fault(kind, endpoint=KLINES, skip=1, times=2)  # the second page, twice
    assert len(fetch(client, "1h")) == clean
    assert waits == [1.0, 2.0]


def test_an_answer_that_is_never_json_ends_in_one_line(fake):
    client = make_client(fake, waits=[], max_retries=1)
    fake.add_fault("html_200", endpoint=KLINES, times=None)
    with pytest.raises(ExchangeUnavailable, match="^binance candles FET/USDT 1d failed after 2 attempts: the answer was not JSON$"):
        fetch(client)


def test_a_503_retry_after_is_honoured(fake):
    waits: list[float] = []
    client = make_client(fake, waits=waits)
    fake.add_fault("server_error", endpoint=KLINES, status=503, retry_after=9, times=1)
    fetch(client)
    assert waits == [9.0]


def test_nothing_listening_ends_in_one_line_after_the_retries():
    import socket

    from tracker.sources.exchange import ExchangeClient

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    with ExchangeClient("binance", base_url=f"http://127.0.0.1:{port}", max_retries=2, sleep=waits.append, enable_rate_limit=False) as client:
        with pytest.raises(ExchangeUnavailable) as caught:
            client.markets()
    assert waits == [1.0, 2.0] and client.calls == 3
    assert str(caught.value).startswith("binance market list failed after 3 attempts: no connection, ConnectionError (binance GET http://127.0.0.1:")
    assert "\n" not in str(caught.value)


@pytest.mark.slow  # over 4 s on a quiet machine
def test_a_timeout_that_lasts_says_so(fake):
    client = make_client(fake, waits=[], max_retries=1, timeout_seconds=4)  # long enough for the market list on a busy machine
    fake.add_fault("timeout", endpoint=KLINES, delay=20, times=None)
    with pytest.raises(ExchangeUnavailable, match=r"failed after 2 attempts: no answer in time \(binance GET http://127.0.0.1:\d+/api/v3/klines"):
        fetch(client)
