"""The history job: backfill cost, incremental top-ups from watermarks, partial "now" points, resume, delisting."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest

from tracker.config import TrackingConfig
from tracker.ingest import fetch_history, ingest_history, ingest_members, read_history_state, write_batch
from tracker.sources.fakegecko import FakeGecko

from .gecko_helpers import NOW, TRACKING, assert_no_duplicates, count, fake, frame, make_client, runs  # noqa: F401

BENCH = TrackingConfig("usd", (), ("bitcoin", "ethereum", "fetch-ai"), 365)


def test_first_backfill_costs_two_calls_per_coin(db, fake):
    with make_client(fake) as client:
        ingest_members(db, client, TRACKING, now=NOW)
        state = read_history_state(db, TRACKING)
        assert state.coins[:2] == ["bitcoin", "ethereum"] and len(state.coins) == 14
        client.reset_counters()
        run = ingest_history(db, client, TRACKING, now=NOW)
    assert run.status == "ok" and run.calls == client.calls == 2 * 14
    assert fake.stats()["by_endpoint"]["/coins/{id}/market_chart/range"] == 28
    by = frame(db, "SELECT granularity, count(*) AS n, min(ts) AS first, max(ts) AS last FROM price_history "
                   "WHERE coin_id = 'bitcoin' GROUP BY 1").set_index("granularity")
    # Keyless sees 364 days (a day's margin inside CoinGecko's 365): the first midnight after that.
    assert by.loc["daily", "first"] == pd.Timestamp((NOW - timedelta(days=364)).date() + timedelta(days=1))
    assert by.loc["daily", "last"] < pd.Timestamp(NOW - timedelta(days=89)) <= by.loc["hourly", "first"]
    assert by.loc["hourly", "n"] == pytest.approx(89 * 24, abs=2)
    partial = frame(db, "SELECT coin_id, ts FROM price_history WHERE is_partial")
    assert len(partial) == 14 and (partial["ts"] == pd.Timestamp(NOW)).all()
    marks = frame(db, "SELECT scope, watermark, detail FROM ingest_state WHERE job = 'history'").set_index("scope")
    assert marks.loc["bitcoin", "watermark"] < pd.Timestamp(NOW) and '"start"' in marks.loc["bitcoin", "detail"]
    assert_no_duplicates(db)


def test_top_up_is_one_call_per_coin_and_replaces_the_partial_point(db, fake):
    with make_client(fake) as client:
        ingest_history(db, client, BENCH, now=NOW)
        later = NOW + timedelta(hours=7, minutes=5)
        fake.set_now(later)
        client.reset_counters()
        run = ingest_history(db, client, BENCH, now=later)
        assert run.calls == 3 and run.status == "ok"
    partial = frame(db, "SELECT coin_id, ts FROM price_history WHERE is_partial ORDER BY coin_id")
    assert partial["ts"].tolist() == [pd.Timestamp(later)] * 3  # the old "now" points are gone
    hourly = frame(db, "SELECT ts FROM price_history WHERE coin_id = 'bitcoin' AND granularity = 'hourly' AND NOT is_partial ORDER BY ts")["ts"]
    gaps = hourly.diff().dropna()
    assert gaps.max() <= pd.Timedelta(hours=1, seconds=5) and gaps.min() >= pd.Timedelta(minutes=59)
    assert hourly.iloc[-1] > pd.Timestamp(later - timedelta(hours=1))
    assert_no_duplicates(db)


def test_nothing_is_fetched_when_up_to_date(db, fake):
    with make_client(fake) as client:
        ingest_history(db, client, BENCH, now=NOW)
        run = ingest_history(db, client, BENCH, now=NOW + timedelta(minutes=20))
    assert run.calls == 0 and run.status == "ok"


def test_stored_history_matches_a_direct_fetch(db, fake):
    """Incremental runs end with the same rows as one fetch of the final stretch."""
    with make_client(fake) as client:
        ingest_history(db, client, BENCH, now=NOW)
        for hours in (3, 9, 30):
            fake.set_now(NOW + timedelta(hours=hours))
            ingest_history(db, client, BENCH, now=NOW + timedelta(hours=hours))
        end = NOW + timedelta(hours=30)
        direct = client.market_chart_range("fetch-ai", "usd", NOW - timedelta(days=40), end)
    stored = frame(db, "SELECT ts, price FROM price_history WHERE coin_id = 'fetch-ai' AND ts >= ? ORDER BY ts",
                   [direct["ts"].iloc[0]])
    assert stored["ts"].tolist() == direct["ts"].tolist()
    assert stored["price"].tolist() == pytest.approx(direct["price"].tolist(), rel=1e-12)


def test_interrupted_backfill_resumes_where_it_stopped(db, fake):
    tracking = TrackingConfig("usd", ("artificial-intelligence",), ("bitcoin", "ethereum"), 365)
    with make_client(fake) as client:
        ingest_members(db, client, tracking, now=NOW)
        state = read_history_state(db, tracking)
        batches = fetch_history(client, tracking, state, now=NOW)
        for _ in range(5):  # five coins written, then the process "dies"
            write_batch(db, next(batches))
        batches.close()
        done = set(frame(db, "SELECT DISTINCT coin_id FROM price_history")["coin_id"])
        assert len(done) == 5
        interrupted = runs(db).iloc[-1]
        assert interrupted["status"] == "running" and interrupted["calls"] == 10

        client.reset_counters()
        fake.reset_stats()
        run = ingest_history(db, client, tracking, now=NOW + timedelta(minutes=10))
        assert run.calls == 2 * (len(state.coins) - 5)  # only the coins not yet stored
        fetched = {r["path"].split("/")[2] for r in fake.stats()["requests"]}
        assert not fetched & done
    assert count(db, "price_history", "WHERE is_partial") == len(state.coins)
    assert_no_duplicates(db)


def test_a_delisted_coin_is_recorded_and_skipped(db, fake):
    fake.add_fault("not_found", endpoint="/coins/ethereum/market_chart/range", times=None)
    with make_client(fake) as client:
        run = ingest_history(db, client, BENCH, now=NOW)
        assert run.status == "partial" and "ethereum" in run.error and "404" in run.error
        coin = frame(db, "SELECT active, inactive_reason FROM coins WHERE coin_id = 'ethereum'").iloc[0]
        assert not coin["active"] and "404" in coin["inactive_reason"] and "coin not found" in coin["inactive_reason"]
        assert set(frame(db, "SELECT DISTINCT coin_id FROM price_history")["coin_id"]) == {"bitcoin", "fetch-ai"}

        client.reset_counters()
        fake.set_now(NOW + timedelta(hours=3))
        again = ingest_history(db, client, BENCH, now=NOW + timedelta(hours=3))
        assert again.status == "ok" and again.calls == 2  # ethereum is no longer asked for
        # Asked for by name, it is tried again.
        explicit = ingest_history(db, client, BENCH, coins=["ethereum"], now=NOW + timedelta(hours=3))
        assert explicit.status == "partial"


def test_a_failing_server_stops_the_run_after_a_few_coins(db, fake):
    fake.add_fault("server_error", endpoint="/coins/*/market_chart/range", status=500, times=None)
    tracking = TrackingConfig("usd", ("artificial-intelligence",), ("bitcoin", "ethereum"), 365)
    with make_client(fake) as client:
        ingest_members(db, client, tracking, now=NOW)
        client.reset_counters()
        run = ingest_history(db, client, tracking, now=NOW)
    assert run.status == "failed" and "in a row" in (frame(db, "SELECT details FROM ingest_runs WHERE job = 'history'")["details"][0])
    assert run.calls == 3 * 4  # three coins, each tried 1 + 3 times, then the run stops
    assert count(db, "price_history") == 0


def test_access_denied_stops_at_once(db, fake):
    fake.add_fault("cloudflare_403", endpoint="/coins/*/market_chart/range", times=None)
    with make_client(fake) as client:
        run = ingest_history(db, client, BENCH, now=NOW)
    assert run.status == "failed" and run.calls == 1 and "Access denied" in run.error


def test_pro_plan_reaches_further_back_in_daily_chunks():
    with FakeGecko(host_type="pro", ai_coins=3, other_coins=2, now=NOW) as server:
        from storage import open_database

        db = open_database("pro.duckdb", create=True)
        with make_client(server, plan="pro", api_key="CG-pro") as client:
            run = ingest_history(db, client, TrackingConfig("usd", (), ("bitcoin",), 1000), now=NOW)
        assert run.calls == 4 and run.status == "ok"  # 3 daily chunks of <= 365 days, 1 hourly
        first = frame(db, "SELECT min(ts) AS t FROM price_history")["t"][0]
        assert first <= pd.Timestamp(NOW - timedelta(days=999))


def test_keyless_clamp_is_noted_in_the_run(db, fake):
    with make_client(fake) as client:
        run = ingest_history(db, client, BENCH, now=NOW, history_days=800)
    assert run.status == "ok"
    details = frame(db, "SELECT details FROM ingest_runs")["details"][0]
    assert "clamped to the past 364 days" in details and "10012" in details
    assert frame(db, "SELECT min(ts) AS t FROM price_history")["t"][0] >= pd.Timestamp(NOW - timedelta(days=364))


def test_progress_is_reported_per_coin(db, fake):
    seen = []
    with make_client(fake) as client:
        ingest_history(db, client, BENCH, now=NOW, progress=lambda done, total, coin: seen.append((done, total, coin)))
    assert seen == [(1, 3, "bitcoin"), (2, 3, "ethereum"), (3, 3, "fetch-ai")]


def test_history_without_members_fetches_benchmarks_and_says_so(db, fake):
    with make_client(fake) as client:
        run = ingest_history(db, client, TRACKING, now=NOW)
    assert run.calls == 4
    assert "run `tracker ingest members` first" in frame(db, "SELECT details FROM ingest_runs")["details"][0]


def test_daily_closes_come_out_of_the_views(db, fake):
    from tracker.analysis.panels import daily_closes

    with make_client(fake) as client:
        ingest_history(db, client, BENCH, now=NOW)
    closes = daily_closes(db, ["bitcoin", "fetch-ai"], NOW - timedelta(days=300), NOW)
    assert len(closes) >= 290 and closes.notna().all().all()
    assert closes.index.max() < pd.Timestamp(NOW.date())  # today's close is not complete yet
