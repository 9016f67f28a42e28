"""Retries: backoff with jitter on transient failures, Retry-After honoured up to a cap, no retry where it cannot help."""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from tracker.sources.coingecko import (
    AccessDeniedError,
    AuthenticationError,
    BadRequestError,
    CoinGeckoConnectionError,
    CoinGeckoTimeout,
    HistoryLimitError,
    NotFoundError,
    PlanLimitError,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from tracker.sources.coingecko.errors import ResponseFormatError
from tracker.sources.coingecko.retry import parse_retry_after

from .gecko_helpers import FAST_RETRY, fake, make_client  # noqa: F401 (fixture)


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(backoff_seconds=1.0, backoff_max_seconds=8.0, jitter=0.5)
    rng = random.Random(1)
    for attempt, full in enumerate([1, 2, 4, 8, 8, 8]):
        waits = [policy.backoff(attempt, rng) for _ in range(200)]
        assert full * 0.5 <= min(waits) and max(waits) <= full
        assert max(waits) - min(waits) > full * 0.3  # really jittered


def test_delay_rules():
    policy = RetryPolicy(max_retries=2, retry_after_cap_seconds=120, backoff_max_seconds=60)
    rng = random.Random(0)
    assert policy.delay_for(ServerError("x"), 0, rng) is not None
    assert policy.delay_for(ServerError("x"), 2, rng) is None  # retries used up
    assert policy.delay_for(NotFoundError("x"), 0, rng) is None
    waited = policy.delay_for(RateLimitError("x", retry_after=119), 0, rng)
    assert 119 <= waited <= 120  # all of it, plus a little jitter: CoinGecko has sent 119 s
    assert policy.delay_for(RateLimitError("x", retry_after=121), 0, rng) is None
    assert policy.over_cap(RateLimitError("x", retry_after=121))
    assert policy.delay_for(RateLimitError("x"), 0, rng) == 60  # no Retry-After: wait out the minute
    assert policy.delay_for(ResponseFormatError("cut", retryable=True), 0, rng) is not None
    assert policy.delay_for(ResponseFormatError("wrong shape"), 0, rng) is None


def test_parse_retry_after():
    assert parse_retry_after("119") == 119.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now=now) == 0.0


@pytest.mark.parametrize(
    "kind, options",
    [
        ("rate_limit", {"retry_after": 0.05}),
        ("throttled", {}),
        ("server_error", {"status": 500}),
        ("server_error", {"status": 502}),
        ("server_error", {"status": 503}),
        ("reset", {}),
        ("truncated", {}),
        ("truncated_transfer", {}),
        ("timeout", {"delay": 60}),
    ],
)
def test_transient_faults_are_retried_once_and_succeed(fake, kind, options):
    fake.add_fault(kind, endpoint="/coins/markets", **options)
    policy = RetryPolicy(max_retries=3, backoff_seconds=0.01, backoff_max_seconds=0.05)
    with make_client(fake, retry=policy, timeout=2.0) as client:
        frame = client.markets("usd", ids=["bitcoin"])
        assert frame["coin_id"].tolist() == ["bitcoin"]
        assert client.calls == 2
    assert fake.stats()["faults_fired"] == {kind: 1}


def test_retry_after_is_honoured(fake):
    fake.add_fault("rate_limit", endpoint="/ping", retry_after=1)
    with make_client(fake) as client:
        client.ping()
    first, second = fake.stats()["requests"]
    assert first["status"] == 429 and second["status"] == 200
    assert second["t"] - first["t"] >= 1.0


def test_retry_after_over_the_cap_fails_at_once(fake):
    fake.add_fault("rate_limit", endpoint="/ping", retry_after=600)
    with make_client(fake, retry=RetryPolicy(retry_after_cap_seconds=5)) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            client.ping()
        assert time.monotonic() - started < 60  # not the 600 s asked for
        assert client.calls == 1
    assert caught.value.retry_after == 600
    assert "longer than the 5s cap" in str(caught.value)


def test_rate_limit_pauses_the_limiter_for_everyone(fake):
    fake.add_fault("rate_limit", endpoint="/ping", retry_after=1)
    with make_client(fake, calls_per_minute=6000) as client:
        client.ping()
        started = time.monotonic()
        client.ping()  # was not the one refused, but waits out the same Retry-After
        assert time.monotonic() - started < 1.0  # ...which had already passed by now
    stamps = [r["t"] for r in fake.stats()["requests"]]
    assert stamps[1] - stamps[0] >= 1.0


@pytest.mark.parametrize(
    "kind, error",
    [
        ("bad_request", BadRequestError),
        ("unauthorized", AuthenticationError),
        ("not_found", NotFoundError),
        ("paid_only", PlanLimitError),
        ("history_limit", HistoryLimitError),
        ("cloudflare_403", AccessDeniedError),
    ],
)
def test_no_retry_where_it_cannot_help(fake, kind, error):
    fake.add_fault(kind, endpoint="/coins/*/market_chart/range", times=None)
    with make_client(fake) as client:
        with pytest.raises(error):
            client.market_chart_range("bitcoin", "usd", datetime(2026, 3, 1), datetime(2026, 3, 5))
        assert client.calls == 1
    assert fake.stats()["calls"] == 1


def test_retries_are_bounded(fake):
    fake.add_fault("server_error", endpoint="/ping", status=503, times=None)
    with make_client(fake, retry=RetryPolicy(max_retries=2, backoff_seconds=0.01, backoff_max_seconds=0.02)) as client:
        with pytest.raises(ServerError) as caught:
            client.ping()
        assert client.calls == 3
    assert caught.value.status == 503 and "temporarily unavailable" in caught.value.message


def test_every_call_has_a_timeout(fake):
    fake.add_fault("slow", endpoint="/ping", delay=60, times=None)
    with make_client(fake, retry=RetryPolicy(max_retries=1, backoff_seconds=0.01), timeout=1.0) as client:
        started = time.monotonic()
        with pytest.raises(CoinGeckoTimeout):
            client.ping()
        assert time.monotonic() - started < 30  # two 1 s timeouts, not the 60 s the server holds
        assert client.calls == 2


def test_connection_refused_is_tried_twice_not_like_a_5xx():
    # Issue 17: offline, retrying a refused connection like a 5xx only made the user wait.
    from tracker.sources.coingecko import CoinGeckoClient, RateLimiter, UnreachableError

    client = CoinGeckoClient("http://127.0.0.1:9/api/v3", limiter=RateLimiter(None), retry=FAST_RETRY, timeout=1)
    with pytest.raises(UnreachableError) as caught:
        client.ping()
    assert isinstance(caught.value, CoinGeckoConnectionError)
    assert client.calls == 2
    assert "\n" not in str(caught.value) and "connection refused" in str(caught.value)


def test_an_incomplete_chart_is_asked_for_again(fake):
    fake.add_fault("drift_missing", endpoint="/coins/*/market_chart/range", fields=["total_volumes"])
    with make_client(fake) as client:
        chart = client.market_chart_range("bitcoin", "usd", datetime(2026, 3, 1), datetime(2026, 3, 5))
        assert client.calls == 2
    assert chart["total_volume"].notna().all()
