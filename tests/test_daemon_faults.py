"""A stretch of 429s and 5xx slows the daemon down rather than stopping it: it stays alive,
honours Retry-After, logs a bounded number of lines, records the failed runs, and catches up
with a clean run once the faults stop.

The stretch lasts until what it must show has happened (both kinds of fault fired, every job
recorded a failure), not for a fixed time, so a slow machine only makes it longer."""
from __future__ import annotations

import re
import time

import pytest

from tracker.sources.fakegecko import FakeGeckoProcess

from .daemon_harness import (
    DaemonProcess,
    comparable_since,
    duplicate_counts,
    fake_args,
    frozen_now,
    history_frame,
    history_problems,
    log_lines,
    once,
    query,
    status_json,
    table_exists,
    utcnow,
    wait_for,
    watermarks,
    write_config,
)

FAULTS = [
    # /coins/markets (markets and members): a few 503s, then 429s asking for a second's pause.
    {"kind": "server_error", "endpoint": "/coins/markets", "status": 503, "times": 4},
    {"kind": "rate_limit", "endpoint": "/coins/markets", "retry_after": 1, "times": None},
    # /coins/categories: 429 "Throttled" without Retry-After (the client waits backoff_max).
    {"kind": "throttled", "endpoint": "/coins/categories", "times": None},
    # Charts: Cloudflare 502 pages and 500s.
    {"kind": "server_error", "endpoint": "/coins/*/market_chart/range", "status": 502, "times": 3},
    {"kind": "server_error", "endpoint": "/coins/*/market_chart/range", "status": 500, "times": None},
]


@pytest.mark.slow
def test_a_stretch_of_429s_and_5xx_slows_the_daemon_then_it_catches_up(tmp_path):
    live, clean = tmp_path / "live", tmp_path / "clean"
    every = {"markets": "1s", "categories": "2s", "members": "2s", "history": "3s"}
    with FakeGeckoProcess(fake_args(ai_coins=16, other_coins=4, now=frozen_now())) as fake:
        write_config(clean, fake.base_url, every=every)
        clean_started = utcnow()
        reference = once(clean)
        assert reference.returncode == 0, reference.stderr[-2000:]
        coins = len(watermarks(clean / "data" / "tracker.duckdb"))
        fake.control.reset_stats()

        fake.control.add_faults(FAULTS, replace=True)
        write_config(live, fake.base_url, every=every)
        with DaemonProcess(live) as daemon:
            started = time.monotonic()
            wait_for(lambda: _stretch_has_shown_enough(fake, daemon.db_path), 300,
                     what="429s and 5xx to fire and every job to record a failure", interval=0.5)
            during = fake.control.stats()
            stretch_seconds = time.monotonic() - started
            alive_after_stretch = daemon.running()
            status = status_json(live)
            lines_during = len(log_lines(daemon.log()))
            fake.control.clear_faults()
            wait_for(lambda: len(watermarks(daemon.db_path)) == coins, 300, what="the backfill to catch up")
            wait_for(lambda: "markets: ok" in daemon.log(), 120, what="a good markets run")
            assert daemon.terminate() == 0
            log = daemon.log()

    db_path = daemon.db_path
    assert alive_after_stretch and status["daemon"][0]["alive"] is True
    assert "Traceback" not in log
    # The faults really fired, both kinds.
    statuses = during["by_status"]
    assert statuses.get("429", 0) >= 5 and sum(n for code, n in statuses.items() if code.startswith("5")) >= 5, statuses
    # Slowed down: Retry-After is honoured by every job sharing the client, so the stretch
    # cost about two calls a second. Retrying at once instead, markets alone (every second,
    # two calls retried twice) would make about six a second. (A busy machine only lowers it.)
    assert during["calls"] <= 3 * stretch_seconds, (during["calls"], stretch_seconds)
    # After a 429 asking for a second, the same call comes back a second later at the
    # earliest; an identical call the other worker (members asks for the same first page as
    # markets) had already sent may come sooner, hence "most".
    after_429 = _gaps_after_retry_after(during["requests"])
    assert len(after_429) >= 3 and sum(gap >= 0.95 for gap in after_429) >= 0.75 * len(after_429), after_429
    # Bounded log: banner and start (10), one failure line per job, one line per kind of
    # client and ingestion message, a skipped-run note per job and kind: not one per call.
    assert lines_during <= 10 + 4 + 8 + 8, "\n".join(log_lines(log)[:lines_during])
    for job in ("markets", "categories", "history"):
        # Once per distinct failure (markets meets the 503s, then the 429s), not once per run.
        # On a slow machine the start-up history run can reach the end of the stretch, so
        # one coin fails and the next succeeds: a partial run (a WARNING) instead.
        logged = re.findall(rf"(?:ERROR +{job} failed|WARNING +{job} partial)", log)
        assert 1 <= len(logged) <= 2, [line for line in log.splitlines() if job in line]
    # The failures were recorded, then the runs came good.
    runs = query(db_path, "SELECT job, status, error FROM ingest_runs ORDER BY started_at")
    failed = runs[runs["status"].isin(["failed", "partial"])]
    assert {"markets", "categories"} <= set(runs.loc[runs["status"] == "failed", "job"])
    assert "history" in set(failed["job"])
    # A run in flight when SIGTERM arrives ends with the client's "stopped ..." instead (members
    # wraps it: "membership not updated, the pages were incomplete (stopped ...)"); every other
    # failure is one of the stretch's 429s or 5xx.
    stopped = failed["error"].str.contains("stopped (?:before|while waiting to) call", regex=True)
    assert failed.loc[~stopped, "error"].str.contains("429|50[023]", regex=True).all(), failed["error"].tolist()
    assert "recovered after" in log
    # Caught up: the history equals the clean run's.
    since = comparable_since(utcnow())
    assert history_frame(db_path, since).equals(history_frame(clean / "data" / "tracker.duckdb", since))
    assert watermarks(db_path) == watermarks(clean / "data" / "tracker.duckdb")
    assert not history_problems(db_path) and set(duplicate_counts(db_path).values()) == {0}
    assert clean_started < utcnow()


def _stretch_has_shown_enough(fake, db_path) -> bool:
    statuses = fake.control.stats()["by_status"]
    if statuses.get("429", 0) < 5 or sum(n for code, n in statuses.items() if code.startswith("5")) < 5:
        return False
    if len(_gaps_after_retry_after(fake.control.stats()["requests"])) < 3 or not table_exists(db_path):
        return False
    runs = query(db_path, "SELECT DISTINCT job FROM ingest_runs WHERE status IN ('failed', 'partial')")
    return {"markets", "categories", "history"} <= set(runs["job"])


def _gaps_after_retry_after(requests: list[dict]) -> list[float]:
    """Seconds from each 429 that asked for a 1 s pause to the next call on the same endpoint
    and query (the same job's retry)."""
    gaps = []
    for index, request in enumerate(requests):
        if request["fault"] != "rate_limit":
            continue
        for later in requests[index + 1:]:
            if later["path"] == request["path"] and later["query"] == request["query"]:
                gaps.append(round(later["t"] - request["t"], 3))
                break
    return gaps


def test_a_429_that_ends_the_retries_still_holds_back_the_next_call():
    """The daemon's jobs share one client: when a call gives up on a 429 asking for a pause,
    the next call (another job's, or the next page) still waits that pause out."""
    from tracker.sources.coingecko import RateLimitError, RetryPolicy
    from tracker.sources.fakegecko import FakeGecko

    from .gecko_helpers import make_client

    with FakeGecko(ai_coins=2, other_coins=1) as fake:
        fake.add_fault("rate_limit", endpoint="/coins/categories", retry_after=1, times=1)
        with make_client(fake, retry=RetryPolicy(max_retries=0, retry_after_cap_seconds=5.0)) as client:
            with pytest.raises(RateLimitError):
                client.categories()
            client.ping()
        first, second = fake.stats()["requests"][:2]
    assert second["path"] == "/ping" and second["t"] - first["t"] >= 0.95
