"""The client-side limiter keeps every window inside the budget; the fake server enforces its own."""
from __future__ import annotations

import threading
import time

import pytest

from tracker.sources.coingecko import RateLimiter
from tracker.sources.fakegecko import FakeGecko

from .gecko_helpers import NOW, fake, make_client  # noqa: F401 (fixture)


class FakeTime:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_calls_are_spaced_by_the_budget():
    t = FakeTime()
    limiter = RateLimiter(30, clock=t.clock, sleep=t.sleep)  # one call every 2 s
    starts = []
    for _ in range(5):
        limiter.acquire()
        starts.append(t.now)
    assert [b - a for a, b in zip(starts, starts[1:])] == [2.0] * 4
    assert limiter.waited_seconds == pytest.approx(8.0)


def test_idle_time_is_not_banked_into_a_burst():
    t = FakeTime()
    limiter = RateLimiter(60, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    t.now += 300  # a long pause
    starts = []
    for _ in range(3):
        limiter.acquire()
        starts.append(t.now)
    assert starts[1] - starts[0] == 1.0 and starts[2] - starts[1] == 1.0


def test_defer_holds_every_caller_back():
    t = FakeTime()
    limiter = RateLimiter(600, clock=t.clock, sleep=t.sleep)
    limiter.acquire()
    limiter.defer(30)
    limiter.acquire()
    assert t.now == pytest.approx(130.0)


def test_disabled_limiter_never_waits():
    t = FakeTime()
    limiter = RateLimiter(None, clock=t.clock, sleep=t.sleep)
    for _ in range(1000):
        assert limiter.acquire() == 0.0
    assert t.sleeps == [] and limiter.waited_seconds == 0.0


def test_thread_safe_spacing_across_threads():
    """The grants themselves (the clock reading that let each call through, recorded by the
    limiter's own clock) are spaced, whatever the threads' scheduling does afterwards."""
    limiter_clock = threading.local()

    def clock():
        limiter_clock.last = time.monotonic()
        return limiter_clock.last

    limiter = RateLimiter(1200, clock=clock)  # 50 ms apart
    grants, lock = [], threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire()
            with lock:
                grants.append(limiter_clock.last)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    grants.sort()
    gaps = [b - a for a, b in zip(grants, grants[1:])]
    assert len(grants) == 20
    assert min(gaps) >= 0.05


# Arrival times at the server carry its thread's scheduling delay, which a busy machine makes
# tens of milliseconds; the limiter itself spaces calls exactly 100 ms apart.
JITTER = 0.25


def _max_in_window(times: list[float], window: float) -> int:
    best = 0
    for i, start in enumerate(times):
        best = max(best, sum(1 for t in times[i:] if t < start + window))
    return best


def test_budget_never_exceeded_at_the_server(fake):
    # 600/min = 10 per second; measure when the requests actually arrived at the server.
    with make_client(fake, calls_per_minute=600) as client:
        for _ in range(25):
            client.ping()
    arrivals = [r["t"] for r in fake.stats()["requests"]]
    assert len(arrivals) == 25
    # A window is counted JITTER short: ten calls a second fit, eleven never do.
    assert _max_in_window(arrivals, 1.0 - JITTER) <= 10, arrivals
    assert arrivals[-1] - arrivals[0] >= 2.4 - JITTER


def test_client_at_budget_is_never_refused_by_an_enforcing_server():
    with FakeGecko(ai_coins=3, other_coins=2, now=NOW, rate_limit_per_minute=10, rate_window_seconds=1.0) as server:
        with make_client(server, calls_per_minute=600) as client:
            for _ in range(25):
                client.ping()
        stats = server.stats()
    assert stats["rate_limited"] == 0 and stats["by_status"] == {"200": 25}


def test_server_enforces_its_limit_and_the_client_recovers():
    with FakeGecko(ai_coins=3, other_coins=2, now=NOW, rate_limit_per_minute=5, rate_window_seconds=1.0) as server:
        with make_client(server) as client:  # no client-side limiter: it will be refused
            started = time.monotonic()
            for _ in range(8):
                assert client.ping() == "(V3) To the Moon!"
            elapsed = time.monotonic() - started
        stats = server.stats()
    assert stats["rate_limited"] >= 1
    assert stats["by_status"]["200"] == 8
    # Each refusal named a Retry-After the client waited out.
    assert elapsed >= 0.9
    refused = [r for r in stats["requests"] if r["status"] == 429]
    assert all(r["fault"] is None for r in refused)
