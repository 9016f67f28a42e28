"""The SQL views: present and right in a fresh database and in one upgraded from every older version.

Each view is checked against small cases worked out by hand (in the comments), not against
another query: closes and source preference, returns across gaps, index weights while the
membership changes, the category's market cap, the latest price, event windows' day 0, and
coverage. Every view also answers on an empty database and through the stock duckdb 1.5 CLI.
"""
from __future__ import annotations

import math
import subprocess
from datetime import date, datetime

import pandas as pd
import pytest

import storage
from storage import Database, latest_version, migrate

from .conftest import subprocess_env, venv_bin

VIEWS = [
    "price_observations", "daily_prices", "hourly_prices", "daily_returns", "hourly_returns", "category_membership",
    "member_daily_closes", "category_member_returns", "index_constituents", "ai_index", "category_market_cap",
    "coin_latest", "event_windows", "coverage", "coverage_gaps",
]
STARTS = ["fresh"] + list(range(0, latest_version()))
T0 = datetime(2024, 6, 1)


def _history(rows):
    frame = pd.DataFrame(rows, columns=["coin_id", "ts", "price", "market_cap", "granularity", "source", "is_partial"])
    frame.insert(1, "vs_currency", "usd")
    frame["total_volume"] = None
    frame["ingested_at"] = T0
    return frame


def _load_cases(db: Database) -> None:
    d = datetime
    history = _history([
        # coin a: close rule, jitter, source preference, snapshot fallback, a gap, a partial point
        ("a", d(2024, 1, 1, 12), 10.0, None, "hourly", "coingecko", False),
        ("a", d(2024, 1, 2, 0, 0, 4), 11.0, None, "hourly", "coingecko", False),   # 00:00:04 closes 01-01
        ("a", d(2024, 1, 2, 0, 0, 0), 99.0, None, "daily", "csv:x", False),        # loses to coingecko
        ("a", d(2024, 1, 3), 12.0, None, "daily", "csv:x", False),                 # 01-02: csv:b < csv:x
        ("a", d(2024, 1, 3), 13.0, None, "daily", "csv:b", False),
        ("a", d(2024, 1, 6), 16.0, None, "daily", "coingecko", False),             # 01-05 (01-04 missing)
        ("a", d(2024, 1, 6, 10), 17.0, None, "hourly", "coingecko", True),         # 01-06: a live point
        # coin h: hourly closes for 09:00, 10:00 and 12:00 (11:00 missing)
        ("h", d(2024, 1, 1, 10, 0, 7), 100.0, None, "hourly", "coingecko", False),
        ("h", d(2024, 1, 1, 11, 0, 7), 110.0, None, "hourly", "coingecko", False),
        ("h", d(2024, 1, 1, 13, 0, 7), 121.0, None, "hourly", "coingecko", False),
        ("h", d(2024, 1, 1, 13, 30), 500.0, None, "hourly", "coingecko", True),    # partial: not an hourly close
        # the index's coins x, y, z: daily closes for 03-01..03-04 with caps
        *[("x", d(2024, 3, day + 1), p, c, "daily", "coingecko", False)
          for day, p, c in ((1, 10.0, 100.0), (2, 11.0, 110.0), (3, 12.1, 121.0), (4, 12.1, 121.0))],
        *[("y", d(2024, 3, day + 1), p, c, "daily", "coingecko", False)
          for day, p, c in ((1, 20.0, 300.0), (2, 20.0, 300.0), (3, 22.0, 330.0), (4, 11.0, 165.0))],
        *[("z", d(2024, 3, day + 1), p, c, "daily", "coingecko", False)
          for day, p, c in ((1, 5.0, 50.0), (2, 6.0, 60.0), (3, 6.0, 60.0), (4, 6.0, 60.0))],
        # coin t: a history point and a snapshot at the same instant
        ("t", d(2024, 5, 1, 12), 1.0, None, "hourly", "coingecko", False),
    ])
    snapshots = pd.DataFrame([
        {"coin_id": "a", "vs_currency": "usd", "observed_at": d(2024, 1, 3, 15), "price": 14.0, "market_cap": 140.0,
         "market_cap_rank": 9, "source": "coingecko"},
        {"coin_id": "a", "vs_currency": "usd", "observed_at": d(2024, 1, 3, 20), "price": 15.0, "market_cap": 150.0,
         "market_cap_rank": 7, "source": "coingecko"},
        {"coin_id": "t", "vs_currency": "usd", "observed_at": d(2024, 5, 1, 12), "price": 2.0, "market_cap": 20.0,
         "market_cap_rank": 1, "source": "coingecko"},
    ])
    members = pd.DataFrame([
        {"category_id": "cat", "coin_id": "x", "valid_from": d(2024, 2, 1), "valid_to": None, "source": "test"},
        {"category_id": "cat", "coin_id": "y", "valid_from": d(2024, 2, 1), "valid_to": d(2024, 3, 4), "source": "test"},
        {"category_id": "cat", "coin_id": "z", "valid_from": d(2024, 3, 2, 12), "valid_to": None, "source": "test"},
        # x listed twice for the same stretch: it must still count once
        {"category_id": "cat", "coin_id": "x", "valid_from": d(2024, 2, 15), "valid_to": d(2024, 3, 3), "source": "other"},
        # w: two touching stretches (one membership) and a later one
        {"category_id": "cat2", "coin_id": "w", "valid_from": d(2024, 1, 1), "valid_to": d(2024, 1, 10), "source": "test"},
        {"category_id": "cat2", "coin_id": "w", "valid_from": d(2024, 1, 10), "valid_to": d(2024, 1, 20), "source": "test"},
        {"category_id": "cat2", "coin_id": "w", "valid_from": d(2024, 2, 1), "valid_to": None, "source": "test"},
    ])
    category = pd.DataFrame([
        {"category_id": "cat", "observed_at": d(2024, 3, 2, 10), "market_cap": 1000.0, "source": "coingecko"},
        {"category_id": "cat", "observed_at": d(2024, 3, 2, 23, 59), "market_cap": None, "source": "coingecko"},
        {"category_id": "cat", "observed_at": d(2024, 3, 3, 0, 2), "market_cap": 1200.0, "source": "coingecko"},
    ])
    events = pd.DataFrame([
        {"event_id": "late", "name": "Late", "ts": d(2024, 3, 2, 23, 30), "time_known": True, "kind": "test", "added_at": T0},
        {"event_id": "midnight", "name": "Midnight", "ts": d(2024, 3, 3), "time_known": False, "kind": "test", "added_at": T0},
    ])
    coins = pd.DataFrame([{"coin_id": "a", "symbol": "aaa", "name": "Coin A", "active": True, "updated_at": T0}])
    with db.transaction() as con:
        storage.upsert(con, "price_history", history)
        storage.upsert(con, "market_snapshots", snapshots)
        storage.upsert(con, "category_members", members)
        storage.upsert(con, "category_snapshots", category)
        storage.upsert(con, "events", events)
        storage.upsert(con, "coins", coins)


def _database(path, start) -> Database:
    if start != "fresh":
        with Database(path).connect(create=True) as con:
            migrate(con, target=start)
    return storage.open_database(path, create=True)  # upgrades an older file in place


@pytest.fixture(scope="module", params=STARTS, ids=[f"from-{s}" for s in STARTS])
def loaded(request, tmp_path_factory):
    db = _database(tmp_path_factory.mktemp("views") / "views.duckdb", request.param)
    _load_cases(db)
    return db


def rows(db, sql, params=None) -> list[tuple]:
    with db.connect(read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.parametrize("start", STARTS)
def test_every_view_exists_and_answers_on_an_empty_database(tmp_path, start):
    db = _database(tmp_path / "empty.duckdb", start)
    with db.connect(read_only=True) as con:
        present = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'VIEW'").fetchall()}
        assert set(VIEWS) <= present
        for view in VIEWS:
            assert con.execute(f"SELECT count(*) FROM {view}").fetchall() == [(0,)], view


def test_daily_close_is_the_last_observation_with_jitter_and_source_preference(loaded):
    got = rows(loaded, "SELECT day, close, source, close_ts, complete FROM daily_prices WHERE coin_id = 'a' ORDER BY day")
    assert got == [
        (date(2024, 1, 1), 11.0, "coingecko", datetime(2024, 1, 2, 0, 0, 4), True),  # jitter: 00:00:04 closes 01-01
        (date(2024, 1, 2), 13.0, "csv:b", datetime(2024, 1, 3), True),               # csv:b before csv:x
        (date(2024, 1, 3), 15.0, "snapshot:coingecko", datetime(2024, 1, 3, 20), False),  # before 22:55
        (date(2024, 1, 5), 16.0, "coingecko", datetime(2024, 1, 6), True),
        (date(2024, 1, 6), 17.0, "coingecko", datetime(2024, 1, 6, 10), False),      # a partial "now" point
    ]
    # market_cap is the one observed with the close (the snapshot's 150, not the earlier 140)
    assert rows(loaded, "SELECT market_cap FROM daily_prices WHERE coin_id = 'a' AND day = '2024-01-03'") == [(150.0,)]


def test_daily_returns_are_null_across_a_gap(loaded):
    got = rows(loaded, "SELECT day, prev_day, gap_days, simple_return, log_return, complete FROM daily_returns "
                       "WHERE coin_id = 'a' ORDER BY day")
    assert [(r[0], r[1], r[2]) for r in got] == [
        (date(2024, 1, 1), None, None),
        (date(2024, 1, 2), date(2024, 1, 1), 1),
        (date(2024, 1, 3), date(2024, 1, 2), 1),
        (date(2024, 1, 5), date(2024, 1, 3), 2),
        (date(2024, 1, 6), date(2024, 1, 5), 1),
    ]
    assert got[0][3] is None and got[0][4] is None
    assert got[1][3] == pytest.approx(13 / 11 - 1) and got[1][4] == pytest.approx(math.log(13 / 11))
    assert got[2][3] == pytest.approx(15 / 13 - 1)
    assert got[3][3] is None and got[3][4] is None   # 01-03 -> 01-05 is not a one-day return
    assert got[4][3] == pytest.approx(17 / 16 - 1)
    assert [r[5] for r in got] == [True, True, False, False, False]  # both ends must be full-day closes


def test_hourly_returns_skip_partial_points_and_flag_gaps(loaded):
    got = rows(loaded, "SELECT hour, close, gap_hours, simple_return, log_return FROM hourly_returns "
                       "WHERE coin_id = 'h' ORDER BY hour")
    assert [(r[0], r[1], r[2]) for r in got] == [
        (datetime(2024, 1, 1, 9), 100.0, None),
        (datetime(2024, 1, 1, 10), 110.0, 1),
        (datetime(2024, 1, 1, 12), 121.0, 2),   # the 13:30 partial point is no close
    ]
    assert got[1][3] == pytest.approx(0.1) and got[1][4] == pytest.approx(math.log(1.1))
    assert got[2][3] is None and got[2][4] is None
    # daily-granularity points never make hourly closes
    assert rows(loaded, "SELECT count(*) FROM hourly_prices WHERE coin_id IN ('x', 'y', 'z')") == [(0,)]


def test_membership_stretches_are_merged(loaded):
    got = rows(loaded, "SELECT category_id, coin_id, valid_from, valid_to FROM category_membership ORDER BY ALL")
    assert got == [
        ("cat", "x", datetime(2024, 2, 1), None),
        ("cat", "y", datetime(2024, 2, 1), datetime(2024, 3, 4)),
        ("cat", "z", datetime(2024, 3, 2, 12), None),
        ("cat2", "w", datetime(2024, 1, 1), datetime(2024, 1, 20)),
        ("cat2", "w", datetime(2024, 2, 1), None),
    ]


def test_index_weights_follow_point_in_time_membership(loaded):
    weights = rows(loaded, "SELECT day, coin_id, cap_weight, equal_weight FROM index_constituents "
                           "WHERE category_id = 'cat' ORDER BY day, coin_id")
    by_day: dict = {}
    for day, coin, cap, equal in weights:
        by_day.setdefault(day, {})[coin] = (cap, equal)
    # 03-01: x and y are members but have no previous close: no weights
    assert by_day[date(2024, 3, 1)] == {"x": (None, None), "y": (None, None)}
    # 03-02: z joins at 12:00, after the previous close: x and y only, caps 100 and 300
    assert by_day[date(2024, 3, 2)] == {"x": (pytest.approx(0.25), pytest.approx(0.5)),
                                        "y": (pytest.approx(0.75), pytest.approx(0.5))}
    # 03-03: x, y, z with previous-day caps 110, 300, 60 (total 470)
    assert by_day[date(2024, 3, 3)] == {"x": (pytest.approx(110 / 470), pytest.approx(1 / 3)),
                                        "y": (pytest.approx(300 / 470), pytest.approx(1 / 3)),
                                        "z": (pytest.approx(60 / 470), pytest.approx(1 / 3))}
    # 03-04: y left at 03-04 00:00, so its -50% that day is not in the index
    # and the weights use the caps at the close of 03-03: x 121, z 60
    assert by_day[date(2024, 3, 4)] == {"x": (pytest.approx(121 / 181), pytest.approx(0.5)),
                                        "z": (pytest.approx(60 / 181), pytest.approx(0.5))}


def test_ai_index_levels_are_chain_linked_from_base_100(loaded):
    got = rows(loaded, "SELECT day, members_priced, constituents, cap_return, equal_return, cap_index, equal_index "
                       "FROM ai_index WHERE category_id = 'cat' ORDER BY day")
    assert [(r[0], r[1], r[2]) for r in got] == [
        (date(2024, 3, 1), 2, 0), (date(2024, 3, 2), 2, 2), (date(2024, 3, 3), 3, 3), (date(2024, 3, 4), 2, 2),
    ]
    base, d2, d3, d4 = got
    assert base[3] is None and base[5] == pytest.approx(100) and base[6] == pytest.approx(100)
    # 03-02: x +10% (weight 1/4), y 0% (3/4)
    assert d2[3] == pytest.approx(0.025) and d2[4] == pytest.approx(0.05)
    assert d2[5] == pytest.approx(102.5) and d2[6] == pytest.approx(105)
    # 03-03: x +10%, y +10%, z 0% with caps 110, 300, 60
    assert d3[3] == pytest.approx(41 / 470) and d3[4] == pytest.approx(0.2 / 3)
    assert d3[5] == pytest.approx(102.5 * (1 + 41 / 470)) and d3[6] == pytest.approx(112)
    # 03-04: only x (0%) and z (0%): y's crash is outside the index
    assert d4[3] == pytest.approx(0) and d4[5] == pytest.approx(d3[5]) and d4[6] == pytest.approx(112)


def test_category_market_cap_from_snapshots_and_members(loaded):
    got = rows(loaded, "SELECT day, market_cap, market_cap_source, snapshot_market_cap, snapshot_observed_at, snapshots, "
                       "members_market_cap, members_priced FROM category_market_cap WHERE category_id = 'cat' ORDER BY day")
    assert got == [
        # members at the close of 03-01 (03-02 00:00): x, y
        (date(2024, 3, 1), 400.0, "members", None, None, 0, 400.0, 2),
        # the 00:02 snapshot closes 03-02 (jitter); the NULL one is skipped; z joined at 12:00
        (date(2024, 3, 2), 1200.0, "snapshot", 1200.0, datetime(2024, 3, 3, 0, 2), 2, 470.0, 3),
        # y left at 03-04 00:00, the close of 03-03
        (date(2024, 3, 3), 181.0, "members", None, None, 0, 181.0, 2),
        (date(2024, 3, 4), 181.0, "members", None, None, 0, 181.0, 2),
    ]


def test_coin_latest_takes_the_newest_point_and_a_snapshot_on_a_tie(loaded):
    got = rows(loaded, "SELECT coin_id, symbol, price, observed_at, source, market_cap_rank FROM coin_latest "
                       "WHERE coin_id IN ('a', 't') ORDER BY coin_id")
    assert got == [
        ("a", "aaa", 17.0, datetime(2024, 1, 6, 10), "coingecko", 7),   # rank from its newest snapshot
        ("t", None, 2.0, datetime(2024, 5, 1, 12), "snapshot:coingecko", 1),
    ]


def test_event_windows_day_zero_is_the_utc_day_of_the_event(loaded):
    got = rows(loaded, "SELECT event_id, rel_day, day, close, cum_return FROM event_windows WHERE coin_id = 'x' "
                       "ORDER BY event_id, rel_day")
    late = [r for r in got if r[0] == "late"]
    # 23:30 on 03-02 is still day 0 = 03-02; cum_return runs from the close of 03-01 (10.0)
    assert [(r[1], r[2], r[3]) for r in late] == [
        (-1, date(2024, 3, 1), 10.0), (0, date(2024, 3, 2), 11.0), (1, date(2024, 3, 3), 12.1), (2, date(2024, 3, 4), 12.1)]
    assert late[0][4] == pytest.approx(0) and late[1][4] == pytest.approx(0.1) and late[2][4] == pytest.approx(0.21)
    midnight = [r for r in got if r[0] == "midnight"]
    assert [(r[1], r[2]) for r in midnight][:2] == [(-2, date(2024, 3, 1)), (-1, date(2024, 3, 2))]
    assert midnight[2][1:3] == (0, date(2024, 3, 3)) and midnight[2][4] == pytest.approx(0.1)


def test_coverage_counts_points_and_gaps(loaded):
    got = rows(loaded, "SELECT coin_id, granularity, first_point, last_point, points, expected, missing, gaps, longest_gap "
                       "FROM coverage WHERE coin_id IN ('a', 'h') ORDER BY coin_id, granularity")
    assert got == [
        ("a", "daily", datetime(2024, 1, 1), datetime(2024, 1, 6), 5, 6, 1, 1, 1),
        # hourly closes 01-01 11:00 and 23:00 (hourly history), 01-03 14:00 and 19:00 (snapshots)
        ("a", "hourly", datetime(2024, 1, 1, 11), datetime(2024, 1, 3, 19), 4, 57, 53, 3, 38),
        ("h", "daily", datetime(2024, 1, 1), datetime(2024, 1, 1), 1, 1, 0, 0, 0),
        ("h", "hourly", datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 12), 3, 4, 1, 1, 1),
    ]
    gaps = rows(loaded, "SELECT coin_id, granularity, gap_start, gap_end, missing FROM coverage_gaps "
                        "WHERE coin_id IN ('a', 'h') ORDER BY coin_id, granularity, gap_start")
    assert gaps == [
        ("a", "daily", datetime(2024, 1, 4), datetime(2024, 1, 4), 1),
        ("a", "hourly", datetime(2024, 1, 1, 12), datetime(2024, 1, 1, 22), 11),
        ("a", "hourly", datetime(2024, 1, 2, 0), datetime(2024, 1, 3, 13), 38),
        ("a", "hourly", datetime(2024, 1, 3, 15), datetime(2024, 1, 3, 18), 4),
        ("h", "hourly", datetime(2024, 1, 1, 11), datetime(2024, 1, 1, 11), 1),
    ]


def test_views_read_the_same_in_the_duckdb_15_cli(loaded):
    """The views are stored as SQL text; the 1.5 shell re-parses and runs every one of them."""
    counts = " UNION ALL ".join(f"SELECT '{view}' AS view, count(*) AS n FROM {view}" for view in VIEWS)
    expected = dict(rows(loaded, counts))
    check = (
        f"{counts} UNION ALL SELECT 'cap_index_0303', CAST(round(cap_index * 1e6) AS BIGINT) FROM ai_index "
        "WHERE category_id = 'cat' AND day = '2024-03-03'"
    )
    done = subprocess.run(
        [venv_bin("duckdb"), "-readonly", str(loaded.path), "-csv", "-noheader", "-c", check],
        capture_output=True, text=True, env=subprocess_env(), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    got = dict(line.split(",") for line in done.stdout.strip().splitlines())
    assert {view: int(got[view]) for view in VIEWS} == expected
    assert float(got["cap_index_0303"]) == round(102.5 * (1 + 41 / 470) * 1e6)


@pytest.fixture(scope="module")
def cookbook_db(tmp_path_factory):
    from .sqlfixture import build_fixture

    return build_fixture(tmp_path_factory.mktemp("consistency") / "fixture.duckdb")


def test_faster_views_agree_with_the_plain_ones(cookbook_db):
    """member_daily_closes, category_member_returns and event_windows repeat the close rule on
    fewer rows; on the cookbook fixture they must give exactly what daily_prices/daily_returns give."""
    assert rows(cookbook_db, """
        SELECT count(*) FROM member_daily_closes m
        FULL JOIN (SELECT * FROM daily_prices WHERE coin_id IN (SELECT coin_id FROM category_members)) p
          USING (coin_id, vs_currency, day)
        WHERE m.close IS DISTINCT FROM p.close OR m.market_cap IS DISTINCT FROM p.market_cap""") == [(0,)]
    assert rows(cookbook_db, """
        SELECT count(*), count(*) FILTER (WHERE c.simple_return IS DISTINCT FROM
                                          CASE WHEN r.gap_days = 1 THEN r.simple_return END)
        FROM category_member_returns c JOIN daily_returns r USING (coin_id, vs_currency, day)""")[0][1] == 0
    checked, different = rows(cookbook_db, """
        SELECT count(*), count(*) FILTER (WHERE w.close IS DISTINCT FROM r.close
                                             OR w.simple_return IS DISTINCT FROM r.simple_return
                                             OR w.log_return IS DISTINCT FROM r.log_return
                                             OR w.complete IS DISTINCT FROM r.complete
                                             OR (w.gap_days IS NOT NULL AND w.gap_days <> r.gap_days))
        FROM event_windows w JOIN daily_returns r USING (coin_id, vs_currency, day)""")[0]
    assert checked > 1000 and different == 0
    # and every daily close inside a window is there
    assert rows(cookbook_db, """
        SELECT count(*) FROM events e JOIN daily_prices p
          ON p.day BETWEEN CAST(e.ts AS DATE) - 60 AND CAST(e.ts AS DATE) + 30
        ANTI JOIN event_windows w ON w.event_id = e.event_id AND w.coin_id = p.coin_id AND w.day = p.day""") == [(0,)]


def test_ai_index_matches_an_independent_pandas_computation(cookbook_db):
    """The cookbook fixture's AI index rebuilt from raw rows in pandas: closes with the source
    rule, point-in-time membership from the fixture's own list, previous-day cap weights."""
    import numpy as np

    from .sqlfixture import AI, MEMBERSHIP

    with cookbook_db.connect(read_only=True) as con:
        raw = con.execute(
            "SELECT coin_id, ts, price, market_cap, source FROM price_history WHERE vs_currency = 'usd' "
            "UNION ALL SELECT coin_id, observed_at, price, market_cap, 'snapshot:' || source FROM market_snapshots"
        ).df()
        sql = con.execute(
            "SELECT day, constituents, cap_constituents, cap_index, equal_index FROM ai_index "
            "WHERE category_id = ? AND vs_currency = 'usd' ORDER BY day", [AI]).df()
    raw["day"] = (raw["ts"] - pd.Timedelta(minutes=5)).dt.floor("D")
    raw["rank"] = np.where(raw["source"] == "coingecko", 0, np.where(raw["source"].str.startswith("snapshot:"), 2, 1))
    # the whole best row per coin and day (groupby.first() would fill a NULL cap from another row)
    closes = (raw.sort_values(["rank", "ts"], ascending=[True, False]).groupby(["coin_id", "day"]).head(1)
              .set_index(["coin_id", "day"]))
    price = closes["price"].unstack(0)
    cap = closes["market_cap"].unstack(0)
    calendar = pd.date_range(price.index.min(), price.index.max(), freq="D")
    price, cap = price.reindex(calendar), cap.reindex(calendar)
    member = pd.DataFrame(False, index=calendar, columns=price.columns)
    for category, coin, start, end in MEMBERSHIP:
        if category == AI:
            member.loc[(calendar >= start) & ((calendar < end) if end else True), coin] = True
    returns = (price / price.shift(1) - 1).where(member)
    prev_cap = cap.shift(1).where(member & returns.notna() & cap.shift(1).gt(0))
    cap_return = (returns * prev_cap).sum(axis=1) / prev_cap.sum(axis=1)
    equal_return = returns.mean(axis=1)
    first = price.where(member).dropna(how="all").index.min()
    days = calendar[calendar > first]
    cap_index = 100 * (1 + cap_return.reindex(days).fillna(0)).cumprod()
    equal_index = 100 * (1 + equal_return.reindex(days).fillna(0)).cumprod()

    sql["day"] = pd.to_datetime(sql["day"])
    sql = sql.set_index("day")
    assert sql.index[0] == first and sql.loc[first, "cap_index"] == pytest.approx(100)
    later = sql.index[1:]
    np.testing.assert_allclose(sql.loc[later, "cap_index"], cap_index.reindex(later), rtol=1e-10)
    np.testing.assert_allclose(sql.loc[later, "equal_index"], equal_index.reindex(later), rtol=1e-10)
    assert (sql.loc[later, "constituents"] == returns.notna().sum(axis=1).reindex(later)).all()
    assert (sql.loc[later, "cap_constituents"] == prev_cap.notna().sum(axis=1).reindex(later)).all()


# ---- values stored by older versions: no view may give a non-finite return (issue 12 item 7) --

BAD_PRICES = [1.0, 2.0, math.inf, 3.0, 0.0, -5.0, 1e308, 1e-320, 4.0, math.nan, 5.0, -math.inf]


@pytest.fixture(scope="module", params=["fresh", 3, 4], ids=["fresh", "from-3", "from-4"])
def spoiled(request, tmp_path_factory):
    """Absurd prices, caps and outside values written straight into the tables, as old importers did."""
    db = _database(tmp_path_factory.mktemp("spoiled") / "spoiled.duckdb", request.param)
    d = datetime
    history = []
    for coin in ("p", "q"):
        for i, price in enumerate(BAD_PRICES):
            cap = {2: math.inf, 6: 1e308, 7: 1e308}.get(i, 1e6 * (i + 1)) if coin == "p" else 1e308
            history.append((coin, d(2024, 4, 1 + i), price, cap, "daily", "coingecko", False))
            history.append((coin, d(2024, 4, 1, i), price, cap, "hourly", "coingecko", False))
    members = pd.DataFrame([{"category_id": "bad", "coin_id": c, "valid_from": d(2024, 1, 1), "valid_to": None, "source": "test"}
                            for c in ("p", "q")])
    events = pd.DataFrame([{"event_id": "e", "name": "E", "ts": d(2024, 4, 5, 12), "time_known": True, "kind": "test",
                            "added_at": T0}])
    series = pd.DataFrame({"series_id": "s", "ts": [d(2024, 4, 2 + i) for i in range(5)],
                           "value": [2.0, math.inf, -5.0, 0.0, 3.0], "unit": None, "source": "test", "ingested_at": T0})
    with db.transaction() as con:
        storage.upsert(con, "price_history", _history(history))
        storage.upsert(con, "category_members", members)
        storage.upsert(con, "events", events)
        storage.upsert(con, "external_series", series)
    return db


def _all_finite_or_null(db, sql):
    values = [v for row in rows(db, sql) for v in row]
    assert values, sql
    bad = [v for v in values if v is not None and not math.isfinite(v)]
    assert not bad, (sql, bad)
    return values


def test_views_give_null_not_inf_for_absurd_stored_prices(spoiled):
    returns = rows(spoiled, "SELECT day, close, simple_return, log_return FROM daily_returns WHERE coin_id = 'p' ORDER BY day")
    # Only 04-01 -> 04-02 (1 -> 2) is a real one-day return; inf, 0, -5, NaN and -inf are not closes,
    # and 1e308 -> 1e-320 -> 4 under- and overflow.
    assert [(r[0], r[1]) for r in returns] == [(date(2024, 3, 31), 1.0), (date(2024, 4, 1), 2.0), (date(2024, 4, 3), 3.0),
                                               (date(2024, 4, 6), 1e308), (date(2024, 4, 7), 1e-320),
                                               (date(2024, 4, 8), 4.0), (date(2024, 4, 10), 5.0)]
    assert [(r[2], r[3]) for r in returns] == [(None, None), (1.0, math.log(2.0))] + [(None, None)] * 5
    for sql in (
        "SELECT simple_return, log_return FROM daily_returns",
        "SELECT simple_return, log_return FROM hourly_returns",
        "SELECT simple_return, prev_market_cap FROM category_member_returns",
        "SELECT cap_return, equal_return, cap_index, equal_index FROM ai_index",
        "SELECT simple_return, log_return, cum_return FROM event_windows",
        "SELECT market_cap, total_volume FROM price_observations",
        "SELECT close, market_cap FROM daily_prices",
        "SELECT value FROM external_daily",
        "SELECT value FROM external_hourly",
    ):
        _all_finite_or_null(spoiled, sql)
    assert rows(spoiled, "SELECT count(*) FROM hourly_returns WHERE simple_return IS NOT NULL") == [(2,)]  # p and q, 00:00 -> 01:00
    assert rows(spoiled, "SELECT min(price) > 0 FROM price_observations") == [(True,)]
    assert rows(spoiled, "SELECT day, value FROM external_daily ORDER BY day") == [(date(2024, 4, 1), 2.0), (date(2024, 4, 5), 3.0)]


def test_the_duckdb_15_cli_reads_the_views_over_absurd_prices(spoiled):
    """ln() of an underflowed ratio raises in the 1.5 shell: the guards must keep it away."""
    check = " UNION ALL ".join(
        f"SELECT '{view}', count(*) FROM {view}" for view in ("daily_returns", "hourly_returns", "ai_index", "event_windows")
    )
    done = subprocess.run([venv_bin("duckdb"), "-readonly", str(spoiled.path), "-csv", "-noheader", "-c", check],
                          capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert dict(line.split(",") for line in done.stdout.strip().splitlines())["daily_returns"] == "14"
