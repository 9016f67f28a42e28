"""`tracker demo`'s database holds a market that looks like the real one (issue 17, point 2):
the same checks as tests/test_demo_market.py, on what the tour's ingestion jobs stored."""
from __future__ import annotations

import json
from datetime import date

import numpy as np
import pytest

import storage
from jobs import run_jobs_once
from tracker.analysis import panels
from tracker.report.demo import CATEGORY, DEMO_NOW, run_demo
from tracker.sources.fakegecko.calibration import calibration

from .conftest import REALDATA
from .test_demo_market import CHECKED, _real_closes

pytestmark = pytest.mark.slow  # the tour runs every job against the fake server


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "tour", run_jobs=lambda config, clock: run_jobs_once(config, clock=clock))


@pytest.fixture(scope="module")
def closes(tour):
    db = storage.open_database(tour.database)
    return panels.daily_closes(db, start="2023-05-01", end="2024-04-29")


def test_the_stored_closes_on_2024_02_14_are_within_2x_of_the_real_ones(closes):
    day = closes.loc[str(date(2024, 2, 14))]
    real = _real_closes(date(2024, 2, 14)) if REALDATA.is_dir() else {}
    for coin, symbol in CHECKED.items():
        for reference in (calibration().coins[coin].price, real.get(symbol)):
            if reference is not None:
                assert 0.5 <= day[coin] / reference <= 2.0, (coin, day[coin], reference)


def _members(tour) -> list[str]:
    return panels.category_members_at(storage.open_database(tour.database), CATEGORY, DEMO_NOW)


def test_the_stored_ai_tokens_correlate_with_bitcoin(tour, closes):
    returns = np.log(closes).diff()
    ai = [c for c in _members(tour) if c in returns]
    correlations = returns[ai].corrwith(returns["bitcoin"]).dropna()
    assert len(correlations) >= 15 and 0.3 <= correlations.median() <= 0.9, correlations


def test_late_listings_have_no_history_and_the_report_sees_the_rally(tour, closes):
    db = storage.open_database(tour.database)
    first = storage.query(db, "SELECT coin_id, min(ts) AS first FROM price_history GROUP BY coin_id").set_index("coin_id")["first"]
    assert "ai16z" not in first.index and "aixbt" not in first.index
    assert str(first["worldcoin-wld"]) >= "2023-07-24" and str(first["arkham"]) >= "2023-07-18"
    assert "ai16z" not in _members(tour) and "fetch-ai" in _members(tour)
    doc = json.loads((tour.report_dir / "report.json").read_text())
    assert doc["report"]["simulated"] is True and "ai16z" not in doc["report"]["command"]
    moves = closes.loc["2024-02-20", list(CHECKED)] / closes.loc["2024-02-14", list(CHECKED)] - 1
    ai_moves = moves.drop(["bitcoin", "ethereum"])
    assert ai_moves.median() > moves["bitcoin"] + 0.10, moves  # the Sora-like week
