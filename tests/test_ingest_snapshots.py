"""The markets, categories and members jobs: what they store, what they cost, and that re-runs are idempotent."""
from __future__ import annotations

from datetime import timedelta

import pytest

from tracker.config import TrackingConfig
from tracker.ingest import (
    MarketsCache,
    fetch_markets,
    ingest_categories,
    ingest_markets,
    ingest_members,
)
from tracker.sources.fakegecko import FakeGecko

from .gecko_helpers import NOW, TRACKING, assert_no_duplicates, client, count, fake, frame, make_client, runs  # noqa: F401


def test_markets_fill_coins_and_snapshots(db, fake, client):
    run = ingest_markets(db, client, TRACKING, now=NOW)
    members = fake.members("artificial-intelligence")
    assert (run.status, run.calls) == ("ok", 2)  # one page of 12 coins, one call for bitcoin + ethereum
    assert count(db, "coins") == count(db, "market_snapshots") == len(members) + 2
    snap = frame(db, "SELECT * FROM market_snapshots WHERE coin_id = 'bitcoin'").iloc[0]
    assert snap["observed_at"] == NOW and snap["vs_currency"] == "usd" and snap["source"] == "coingecko"
    assert snap["price"] > 0 and snap["source_updated_at"] <= NOW
    coins = frame(db, "SELECT * FROM coins WHERE coin_id = 'ethereum'").iloc[0]
    assert (coins["symbol"], coins["name"], bool(coins["active"])) == ("eth", "Ethereum", True)
    assert run.rows == 2 * (len(members) + 2)
    stored = frame(db, "SELECT status, calls, rows FROM ingest_runs WHERE run_id = ?", [run.run_id]).iloc[0]
    assert (stored["status"], stored["calls"], stored["rows"]) == ("ok", 2, run.rows)


def test_zero_or_null_market_caps_are_stored_as_null():
    with FakeGecko(now=NOW) as server, make_client(server) as c:
        from storage import open_database

        db = open_database("caps.duckdb", create=True)
        ingest_markets(db, c, TRACKING, now=NOW)
        raw = c.markets("usd", category="artificial-intelligence").set_index("coin_id")["market_cap"]
    stored = frame(db, "SELECT coin_id, market_cap FROM market_snapshots").set_index("coin_id")["market_cap"]
    unknown = raw[(raw == 0) | raw.isna()].index
    assert len(unknown) >= 3
    assert stored[unknown].isna().all()
    assert (stored.drop(list(unknown) + ["bitcoin", "ethereum"]) > 0).all()


def test_a_category_costs_ceil_n_over_250_calls():
    tracking = TrackingConfig("usd", ("artificial-intelligence",), ("bitcoin", "ethereum", "fetch-ai"), 365)
    with FakeGecko(ai_coins=300, other_coins=10, now=NOW) as server, make_client(server) as c:
        from storage import open_database

        db = open_database("big.duckdb", create=True)
        run = ingest_markets(db, c, tracking, now=NOW)
        # 2 pages for 300 coins; fetch-ai was on them, so the benchmarks cost one call for two ids.
        assert run.calls == 2 + 1
        assert server.stats()["by_endpoint"] == {"/coins/markets": 3}
        assert count(db, "market_snapshots") == 302
        ids_query = [r["query"] for r in server.stats()["requests"] if "ids=" in r["query"]][0]
        assert "fetch-ai" not in ids_query


def test_benchmarks_already_seen_cost_nothing(db, fake, client):
    tracking = TrackingConfig("usd", ("layer-1",), ("bitcoin", "ethereum"), 365)
    run = ingest_markets(db, client, tracking, now=NOW)
    assert run.calls == 1


def test_rerun_at_the_same_instant_is_idempotent(db, client):
    first = ingest_markets(db, client, TRACKING, now=NOW)
    again = ingest_markets(db, client, TRACKING, now=NOW)
    later = ingest_markets(db, client, TRACKING, now=NOW + timedelta(minutes=10))
    assert count(db, "market_snapshots") == 2 * count(db, "coins")
    assert first.rows == again.rows == later.rows
    assert_no_duplicates(db)
    assert list(runs(db)["status"]) == ["ok", "ok", "ok"]


def test_categories_one_call_fills_both_tables(db, fake, client):
    run = ingest_categories(db, client, TRACKING, now=NOW)
    assert (run.status, run.calls) == ("ok", 1)
    n = len(fake.universe.categories)
    assert count(db, "categories") == count(db, "category_snapshots") == n
    ai = frame(db, "SELECT * FROM category_snapshots WHERE category_id = 'artificial-intelligence'").iloc[0]
    assert ai["market_cap"] > 0 and len(ai["top_3_coins"]) == 3 and ai["observed_at"] == NOW
    assert frame(db, "SELECT name FROM categories WHERE category_id = 'artificial-intelligence'")["name"][0] == "Artificial Intelligence (AI)"


def test_unknown_category_is_checked_against_the_list(db, client):
    tracking = TrackingConfig("usd", ("artificial-intelligence", "no-such-thing"), (), 365)
    run = ingest_categories(db, client, tracking, now=NOW)
    assert run.status == "partial" and run.calls == 2
    assert "no-such-thing" in run.error and "categories/list" in run.error


def test_members_join_leave_and_rejoin(db, fake, client):
    members = fake.members("artificial-intelligence")
    ingest_members(db, client, TRACKING, now=NOW)
    assert count(db, "category_members", "WHERE valid_to IS NULL") == len(members)

    leaver, newcomer = members[0], "fresh-ai-coin"
    fake.set_members("artificial-intelligence", remove=[leaver], add=[newcomer])
    t1 = NOW + timedelta(days=1)
    ingest_members(db, client, TRACKING, now=t1)
    rows = frame(db, "SELECT coin_id, valid_from, valid_to FROM category_members ORDER BY coin_id, valid_from")
    left = rows[rows.coin_id == leaver].iloc[0]
    assert (left["valid_from"], left["valid_to"]) == (NOW, t1)
    joined = rows[rows.coin_id == newcomer].iloc[0]
    assert joined["valid_from"] == t1 and joined["valid_to"] is None or str(joined["valid_to"]) in ("NaT", "None")

    fake.set_members("artificial-intelligence", add=[leaver])
    t2 = NOW + timedelta(days=2)
    ingest_members(db, client, TRACKING, now=t2)
    stretches = frame(db, "SELECT valid_from, valid_to FROM category_members WHERE coin_id = ? ORDER BY valid_from", [leaver])
    assert stretches["valid_from"].tolist() == [NOW, t2]
    assert stretches["valid_to"].iloc[0] == t1 and stretches["valid_to"].isna().iloc[1]

    before = count(db, "category_members")
    again = ingest_members(db, client, TRACKING, now=t2 + timedelta(hours=1))  # nothing changed
    assert count(db, "category_members") == before and again.rows == len(members) + 1  # coins rows only
    assert_no_duplicates(db)


def test_members_are_point_in_time_for_panels(db, fake, client):
    from tracker.analysis.panels import category_members_at

    members = fake.members("artificial-intelligence")
    ingest_members(db, client, TRACKING, now=NOW)
    fake.set_members("artificial-intelligence", remove=members[:2])
    ingest_members(db, client, TRACKING, now=NOW + timedelta(days=3))
    assert set(category_members_at(db, "artificial-intelligence", NOW + timedelta(days=1))) == set(members)
    assert set(category_members_at(db, "artificial-intelligence", NOW + timedelta(days=4))) == set(members[2:])


def test_incomplete_paging_never_reads_as_coins_leaving():
    tracking = TrackingConfig("usd", ("artificial-intelligence",), (), 365)
    with FakeGecko(ai_coins=300, other_coins=5, now=NOW) as server, make_client(server) as c:
        from storage import open_database

        db = open_database("members.duckdb", create=True)
        ingest_members(db, c, tracking, now=NOW)
        server.add_fault("server_error", endpoint="/coins/markets", params={"page": "2"}, times=None)
        run = ingest_members(db, c, tracking, now=NOW + timedelta(days=1))
        assert run.status == "failed" and "incomplete" in run.error
        assert count(db, "category_members", "WHERE valid_to IS NOT NULL") == 0
        assert count(db, "category_members", "WHERE valid_to IS NULL") == 300


def test_members_reuse_the_markets_pages(db, fake, client):
    cache = MarketsCache()
    ingest_markets(db, client, TRACKING, now=NOW, cache=cache)
    before = client.calls
    run = ingest_members(db, client, TRACKING, now=NOW, cache=cache)
    assert client.calls == before and run.calls == 0
    assert count(db, "category_members") == len(fake.members("artificial-intelligence"))


def test_a_stale_membership_batch_cannot_undo_a_newer_one(db, fake, client):
    stale = list(__import__("tracker.ingest", fromlist=["fetch_members"]).fetch_members(client, TRACKING, now=NOW))
    fake.set_members("artificial-intelligence", remove=fake.members("artificial-intelligence")[:1])
    ingest_members(db, client, TRACKING, now=NOW + timedelta(hours=2))
    from tracker.ingest import write_batch

    write_batch(db, stale[-1])  # e.g. a spooled batch loaded late
    assert count(db, "category_members") == len(fake.members("artificial-intelligence"))
    assert count(db, "category_members", "WHERE valid_to IS NOT NULL") == 0


@pytest.mark.parametrize("job", ["markets", "categories", "members"])
def test_fetch_steps_hold_no_database(job, fake, client, tmp_path):
    # The fetch step runs without any database at all: only write_batch touches it.
    from tracker.ingest import fetch_categories, fetch_members

    fetch = {"markets": fetch_markets, "categories": fetch_categories, "members": fetch_members}[job]
    batches = list(fetch(client, TRACKING, now=NOW))
    assert len(batches) == 1 and batches[0].final and batches[0].run.status == "ok"
    assert not list(tmp_path.glob("**/*.duckdb"))
