"""Issue 12 item 6: history points stored with NULL market caps or volumes (the fake's
``drift_nulls``) are re-fetched by later runs, within a per-run call bound, until filled or
confirmed missing; no row is duplicated."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pandas as pd
import pytest

from tracker.config import TrackingConfig
from tracker.ingest import ingest_history
from tracker.sources.fakegecko import FakeGecko

from .gecko_helpers import NOW, assert_no_duplicates, count, frame, make_client

COINS = TrackingConfig("usd", (), ("bitcoin", "ethereum", "near"), 365)
CHARTS = "/coins/*/market_chart/range"
NULLS = [{"kind": "drift_nulls", "endpoint": CHARTS, "times": None}]
VALUES = "SELECT coin_id, ts, price, market_cap, total_volume, granularity FROM price_history WHERE NOT is_partial ORDER BY coin_id, ts"


def _nulls(db) -> int:
    return count(db, "price_history", "WHERE NOT is_partial AND (market_cap IS NULL OR total_volume IS NULL)")


def _last_repair(db) -> dict:
    details = frame(db, "SELECT details FROM ingest_runs WHERE job = 'history' ORDER BY started_at DESC LIMIT 1")["details"][0]
    return json.loads(details).get("null_repair", {})


def _chart_calls(server) -> int:
    return server.stats()["by_endpoint"].get("/coins/{id}/market_chart/range", 0)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """What a clean backfill stores (every cap and volume present)."""
    import storage

    db = storage.open_database(tmp_path_factory.mktemp("clean") / "t.duckdb", create=True)
    with FakeGecko(ai_coins=2, other_coins=2, now=NOW) as server, make_client(server) as client:
        assert ingest_history(db, client, COINS, now=NOW).status == "ok"
    clean = frame(db, VALUES)
    assert clean[["market_cap", "total_volume"]].notna().all().all()
    return clean


def test_a_clean_run_repairs_drifted_nulls_in_two_calls_per_coin(db, reference):
    with FakeGecko(ai_coins=2, other_coins=2, now=NOW) as server, make_client(server) as client:
        server.add_faults(NULLS)
        assert ingest_history(db, client, COINS, now=NOW).status == "ok"
        drifted = _nulls(db)
        assert drifted > 1000  # a third of every chart's caps and volumes
        server.clear_faults()
        server.reset_stats()
        run = ingest_history(db, client, COINS, now=NOW)  # nothing new to top up: only the repair calls
        assert run.status == "ok"
        # old days come back daily in one call, the last 89 days hourly in another, per coin
        assert _chart_calls(server) == run.calls == 6
        assert _last_repair(db) == {"calls": 6, "filled": drifted, "confirmed_missing": 0, "waiting": 0}
        assert _nulls(db) == 0
        pd.testing.assert_frame_equal(frame(db, VALUES), reference, check_dtype=False)
        assert_no_duplicates(db)
        server.reset_stats()
        again = ingest_history(db, client, COINS, now=NOW)
        assert again.calls == 0 and _chart_calls(server) == 0  # nothing left to repair


def test_repair_rides_along_with_a_later_top_up(db, reference):
    with FakeGecko(ai_coins=2, other_coins=2, now=NOW) as server, make_client(server) as client:
        server.add_faults(NULLS)
        ingest_history(db, client, COINS, now=NOW)
        server.clear_faults()
        server.clock.advance(86400)
        later = NOW + timedelta(days=1)
        server.reset_stats()
        assert ingest_history(db, client, COINS, now=later).status == "ok"
        assert _chart_calls(server) == 3 + 6  # one top-up per coin, plus the repair
        # Keyless reaches back 364 days: the day that has just left that reach stays as it is.
        reach = pd.Timestamp(later - timedelta(days=364))
        assert _nulls(db) == count(db, "price_history", f"WHERE ts < '{reach}' AND market_cap IS NULL") == 3
        stored = frame(db, VALUES)
        old = stored[(stored["ts"] < pd.Timestamp(NOW - timedelta(hours=1))) & (stored["ts"] > reach)]
        expected = reference[(reference["ts"] < pd.Timestamp(NOW - timedelta(hours=1))) & (reference["ts"] > reach)]
        pd.testing.assert_frame_equal(old.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)
        assert_no_duplicates(db)


@pytest.mark.slow  # over 3 s on a quiet machine
def test_the_call_bound_holds_and_the_repair_finishes_over_several_runs(db, reference):
    bounded = replace(COINS, repair_calls_per_run=1)
    with FakeGecko(ai_coins=2, other_coins=2, now=NOW) as server, make_client(server) as client:
        server.add_faults(NULLS)
        ingest_history(db, client, bounded, now=NOW)
        server.clear_faults()
        left = [_nulls(db)]
        for _ in range(6):
            server.reset_stats()
            run = ingest_history(db, client, bounded, now=NOW)
            assert run.status == "ok" and _chart_calls(server) == run.calls == 1
            left.append(_nulls(db))
            assert_no_duplicates(db)
        assert left == sorted(left, reverse=True) and len(set(left)) == 7 and left[-1] == 0
        assert _last_repair(db)["waiting"] == 0
        server.reset_stats()
        assert ingest_history(db, client, bounded, now=NOW).calls == 0
    pd.testing.assert_frame_equal(frame(db, VALUES), reference, check_dtype=False)


def test_a_null_that_comes_back_null_is_confirmed_missing_and_not_asked_again(db):
    with FakeGecko(ai_coins=2, other_coins=2, now=NOW) as server, make_client(server) as client:
        server.add_faults(NULLS)
        ingest_history(db, client, COINS, now=NOW)
        drifted = _nulls(db)
        # The source still sends nulls for those instants: the re-fetch confirms them missing.
        run = ingest_history(db, client, COINS, now=NOW)
        assert run.status == "ok" and run.calls == 6
        assert _last_repair(db) == {"calls": 6, "filled": 0, "confirmed_missing": drifted, "waiting": 0}
        assert _nulls(db) == drifted
        details = frame(db, "SELECT scope, detail FROM ingest_state WHERE job = 'history' ORDER BY scope")
        spans = {s: json.loads(d)["confirmed_missing"] for s, d in zip(details["scope"], details["detail"])}
        assert all(json.loads(d)["start"] for d in details["detail"])
        still_null = frame(db, "SELECT coin_id, ts FROM price_history WHERE NOT is_partial AND "
                               "(market_cap IS NULL OR total_volume IS NULL)")
        for coin, ts in zip(still_null["coin_id"], still_null["ts"]):
            assert any(pd.Timestamp(a) <= ts <= pd.Timestamp(b) for a, b in spans[coin]), (coin, ts)
        # Confirmed points are not fetched again, fault or no fault.
        for _ in range(2):
            server.reset_stats()
            assert ingest_history(db, client, COINS, now=NOW).calls == 0 and _chart_calls(server) == 0
            server.clear_faults()
        assert _nulls(db) == drifted
        assert_no_duplicates(db)
        # A top-up rewrites the coin's detail and keeps the record.
        server.clock.advance(86400)
        assert ingest_history(db, client, COINS, now=NOW + timedelta(days=1)).calls == 3
        kept = frame(db, "SELECT detail FROM ingest_state WHERE job = 'history' AND scope = 'bitcoin'")["detail"][0]
        assert json.loads(kept)["confirmed_missing"] == spans["bitcoin"]


def test_caps_never_known_are_not_suspects_and_zero_turns_the_repair_off(db):
    import storage

    with FakeGecko(ai_coins=2, other_coins=2, now=NOW) as server, make_client(server) as client:
        ingest_history(db, client, COINS, now=NOW)
        last_daily = storage.query(db, "SELECT max(ts) AS t FROM price_history WHERE coin_id = 'bitcoin' "
                                       "AND granularity = 'daily'")["t"][0].to_pydatetime()
        with db.transaction() as con:  # a coin with no supply data: caps NULL from its first point
            con.execute("UPDATE price_history SET market_cap = NULL WHERE coin_id = 'ethereum'")
            con.execute("UPDATE price_history SET total_volume = NULL WHERE coin_id = 'bitcoin' AND ts = ?", [last_daily])
        server.reset_stats()
        off = replace(COINS, repair_calls_per_run=0)
        assert ingest_history(db, client, off, now=NOW).calls == 0
        run = ingest_history(db, client, COINS, now=NOW)
        assert run.calls == 1 and _last_repair(db)["filled"] == 1  # bitcoin's one daily volume, not ethereum's caps
        assert count(db, "price_history", "WHERE coin_id = 'ethereum' AND market_cap IS NOT NULL") == 0
