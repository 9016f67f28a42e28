"""The client-side limiter keeps every window inside the budget; the fake server enforces its own."""
from __future__ import annotations

import threading
import time

import pytest

from tracker.coingecko import RateLimiter
from tracker.fakegecko import FakeGecko

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
    limiter = RateLimiter(None)
    started = time.monotonic()
    for _ in range(1000):
        limiter.acquire()
    assert time.monotonic() - started < 0.5


def test_thread_safe_spacing_across_threads():
    limiter = RateLimiter(1200)  # 50 ms apart
    stamps, lock = [], threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    stamps.sort()
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    assert len(stamps) == 20
    assert min(gaps) >= 0.05 - 0.005


JITTER = 0.05


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
    # Arrival times carry the server thread's scheduling jitter (the machine is shared), so a
    # window is counted 50 ms short; the limiter itself spaces calls exactly 100 ms apart.
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
