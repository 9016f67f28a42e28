"""--membership first-known: studying events from before the first membership sync."""
from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

import storage
from tracker.analysis.events import seed_events
from tracker.analysis.eventstudy.data import load_study_data
from tracker.analysis.eventstudy.windows import Window
from tracker.errors import InputError

COINS = ["bitcoin", "fetch-ai", "worldcoin-wld", "near"]
FIRST_SYNC = datetime(2024, 4, 1, 12, 0)


@pytest.fixture
def late_members_db(db):
    """Daily closes around the Sora demo, but membership recorded only from April 2024."""
    seed_events(db)
    rng = np.random.default_rng(7)
    days = pd.date_range("2023-08-01", "2024-03-31", freq="D")
    rows = []
    for coin in COINS:
        prices = 10 * np.exp(np.cumsum(rng.normal(0, 0.03, len(days))))
        for day, price in zip(days, prices):
            rows.append({"coin_id": coin, "vs_currency": "usd", "ts": (day + timedelta(days=1)).to_pydatetime(),
                         "price": float(price), "granularity": "daily", "is_partial": False, "source": "coingecko",
                         "ingested_at": FIRST_SYNC})
    members = pd.DataFrame({"category_id": "artificial-intelligence", "coin_id": COINS[1:], "valid_from": FIRST_SYNC,
                            "valid_to": None, "source": "coingecko"})
    coins = pd.DataFrame({"coin_id": COINS, "symbol": ["btc", "fet", "wld", "near"], "name": COINS, "active": True,
                          "updated_at": FIRST_SYNC})
    with db.transaction() as con:
        storage.upsert(con, "price_history", pd.DataFrame(rows))
        storage.upsert(con, "category_members", members)
        storage.upsert(con, "coins", coins)
    return db


def _load(db, membership):
    return load_study_data(db, ["sora-demo"], category="artificial-intelligence", benchmark="bitcoin",
                           estimation_window=Window(-130, -11), event_windows=[Window(0, 0), Window(0, 5)],
                           membership=membership)


def test_strict_membership_says_how_to_proceed(late_members_db):
    with pytest.raises(InputError, match=r"had no members at 2024-02-15 18:00 UTC .*`membership` first-known"):
        _load(late_members_db, "event")


def test_first_known_membership_is_used_with_a_survivorship_note(late_members_db):
    data = _load(late_members_db, "first-known")
    assert sorted(data.returns.columns) == sorted(COINS[1:])
    assert any("survivorship bias" in note and "2024-04-01 12:00" in note for note in data.notes)


def test_the_cli_takes_the_option(late_members_db, cli_runner):
    args = ["--db", str(late_members_db.path), "study", "--event", "sora-demo", "--category", "artificial-intelligence"]
    strict = cli_runner(*args)
    assert strict.exit_code == 1 and "--membership first-known" in strict.output
    relaxed = cli_runner(*args, "--membership", "first-known", "--format", "json")
    assert relaxed.exit_code == 0, relaxed.output
    assert "survivorship bias" in relaxed.output


def test_a_database_quoted_in_eur_is_studied_in_eur(late_members_db):
    """Panels default to the database's own quote currency, so vs_currency = "eur" works."""
    from tracker.analysis import panels

    with late_members_db.transaction() as con:
        con.execute("UPDATE price_history SET vs_currency = 'eur'")
    assert panels.quote_currency(late_members_db) == "eur"
    closes = panels.daily_closes(late_members_db, ["bitcoin"])
    assert len(closes) > 200
    data = _load(late_members_db, "first-known")
    assert sorted(data.returns.columns) == sorted(COINS[1:])
