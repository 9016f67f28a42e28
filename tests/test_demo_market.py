"""The demo's fake market looks like the real one (issue 17, point 2).

The fake server's numbers are a pure function of its seed, so these checks are deterministic:
they read the demo's universe (its seed and size) straight from the series, and through HTTP.
The real closes come from the calibration file and, when ../shared is beside the project, from
the Binance CSV itself.
"""
from __future__ import annotations

import csv
import subprocess
import sys
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import requests

from tracker.report.demo import DEMO_AI_COINS, DEMO_NOW, DEMO_OTHER_COINS, DEMO_SEED
from tracker.sources.fakegecko import FakeGecko, generate
from tracker.sources.fakegecko.calibration import calibration
from tracker.sources.fakegecko.series import EPOCH, daily_shocks, series_for

from .conftest import REALDATA

CHECKED = {"bitcoin": "BTC", "ethereum": "ETH", "fetch-ai": "FET", "worldcoin-wld": "WLD", "near": "NEAR",
           "the-graph": "GRT", "arkham": "ARKM", "internet-computer": "ICP"}
REFERENCE = date(2024, 2, 14)
HISTORY = pd.date_range("2023-05-01", "2024-04-30")  # the demo's year of history


@pytest.fixture(scope="module")
def universe():
    return generate(seed=DEMO_SEED, ai_coins=DEMO_AI_COINS, other_coins=DEMO_OTHER_COINS)


def _seconds(days) -> np.ndarray:
    return ((pd.DatetimeIndex(days) - pd.Timestamp("1970-01-01")) // pd.Timedelta(seconds=1)).to_numpy().astype(float)


def _closes(universe, coin_ids, days=HISTORY) -> pd.DataFrame:
    """Daily closes as the tracker labels them: day d closes at the next midnight."""
    stamps = _seconds(pd.DatetimeIndex(days) + pd.Timedelta(days=1))
    return pd.DataFrame({c: series_for(universe.coins[c], universe.seed).price(stamps) for c in coin_ids}, index=days)


def _ai_tokens(universe) -> list[str]:
    return [c.coin_id for c in universe.members("artificial-intelligence", DEMO_NOW)]


def _real_closes(day: date) -> dict[str, float]:
    with open(REALDATA / "daily_close_binance_spot_from_hourly.csv", newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["date_utc"] == day.isoformat())
    return {symbol: float(row[symbol]) for symbol in CHECKED.values()}


def test_the_closes_on_2024_02_14_are_within_2x_of_the_real_ones(universe):
    simulated = _closes(universe, list(CHECKED), [pd.Timestamp(REFERENCE)]).iloc[0]
    file_prices = {coin: calibration().coins[coin].price for coin in CHECKED}
    for coin, real in file_prices.items():
        assert 0.5 <= simulated[coin] / real <= 2.0, (coin, simulated[coin], real)
    if REALDATA.is_dir():
        real = _real_closes(REFERENCE)
        for coin, symbol in CHECKED.items():
            assert file_prices[coin] == pytest.approx(real[symbol], rel=1e-4), coin  # the file holds the real close
            assert 0.5 <= simulated[coin] / real[symbol] <= 2.0, (coin, simulated[coin], real[symbol])


def test_the_ai_tokens_move_with_bitcoin_as_the_real_ones_do(universe):
    ai = _ai_tokens(universe)
    returns = np.log(_closes(universe, ai + ["bitcoin"])).diff()
    correlations = returns[ai].corrwith(returns["bitcoin"]).dropna()
    assert len(correlations) >= 15
    assert 0.3 <= correlations.median() <= 0.9, correlations.sort_values()
    # ... and with each other beyond BTC: the common AI factor.
    residuals = returns[ai].sub(returns["bitcoin"], axis=0)
    pairwise = residuals.corr().to_numpy()[np.triu_indices(len(ai), 1)]
    assert np.nanmedian(pairwise) > 0.1


def test_the_factor_model_reproduces_the_calibrated_betas_and_volatilities(universe):
    """Over six years the simulated beta and volatility of each checked coin match the file."""
    days = pd.date_range("2018-02-01", "2024-01-31")
    coins = [c for c in CHECKED if c != "bitcoin" and universe.coins[c].genesis < datetime(2022, 1, 1)]
    returns = np.log(_closes(universe, coins + ["bitcoin"], days)).diff().dropna()
    market = returns["bitcoin"]
    for coin in coins:
        cal = calibration().coins[coin]
        beta = np.cov(returns[coin], market)[0, 1] / market.var()
        assert beta == pytest.approx(cal.beta, abs=0.2), coin
        assert returns[coin].std() == pytest.approx(cal.volatility, rel=0.2), coin


def test_returns_have_fat_tails(universe):
    returns = np.log(_closes(universe, ["fetch-ai"], pd.date_range("2018-02-01", "2024-01-31"))).diff().dropna()["fetch-ai"]
    assert returns.kurt() > 1.0  # a Gaussian walk has excess kurtosis 0


def test_coins_exist_only_from_their_listing_dates(universe):
    listed = {c.coin_id: c.genesis for c in universe.active_coins()}
    assert listed["ai16z"] > DEMO_NOW and listed["aixbt"] > DEMO_NOW
    assert listed["worldcoin-wld"] == datetime(2023, 7, 24) and listed["arkham"] == datetime(2023, 7, 18)
    members = _ai_tokens(universe)
    assert "ai16z" not in members and "aixbt" not in members and "fetch-ai" in members
    with FakeGecko(now=DEMO_NOW, seed=DEMO_SEED, ai_coins=DEMO_AI_COINS, other_coins=DEMO_OTHER_COINS) as fake:
        def chart(coin, start, end):
            params = {"vs_currency": "usd", "from": int(_seconds([start])[0]), "to": int(_seconds([end])[0])}
            return requests.get(f"{fake.base_url}/coins/{coin}/market_chart/range", params=params, timeout=30).json()["prices"]
        for coin in ("ai16z", "aixbt"):
            assert chart(coin, "2023-06-01", "2024-04-30") == []  # keyless: the last 365 days
        wld = chart("worldcoin-wld", "2023-06-01", "2023-09-01")
        assert wld and datetime.utcfromtimestamp(wld[0][0] / 1000) >= datetime(2023, 7, 24)


def test_market_caps_rank_like_coingecko(universe):
    with FakeGecko(now=datetime(2024, 2, 15), seed=DEMO_SEED, ai_coins=DEMO_AI_COINS, other_coins=DEMO_OTHER_COINS) as fake:
        rows = requests.get(f"{fake.base_url}/coins/markets", params={"vs_currency": "usd", "per_page": 250}, timeout=30).json()
    rank = {row["id"]: row["market_cap_rank"] for row in rows}
    cap = {row["id"]: row["market_cap"] for row in rows}
    assert rank["bitcoin"] == 1 and rank["ethereum"] == 2
    assert 0.5e12 < cap["bitcoin"] < 2e12
    assert cap["singularitynet"] < 2e9 and rank["singularitynet"] > 8
    ai_caps = [cap[c] for c in _ai_tokens(universe) if cap.get(c)]
    assert max(ai_caps) < 15e9  # no AI token outweighs the large caps


def test_a_sora_like_rally_with_event_volatility(universe):
    """Days 0..+5 from the Sora demo: the AI tokens rise beyond what BTC explains, and swing more."""
    ai = [c for c in _ai_tokens(universe) if universe.coins[c].genesis < datetime(2023, 6, 1)]
    returns = np.log(_closes(universe, ai + ["bitcoin"])).diff()
    betas = {c: universe.coins[c].beta for c in ai}
    abnormal = pd.DataFrame({c: returns[c] - betas[c] * returns["bitcoin"] for c in ai})
    event = abnormal.loc["2024-02-15":"2024-02-20"]
    estimation = abnormal.loc["2023-09-01":"2024-02-09"]
    caar = event.sum().mean()
    assert caar > 0.10, event.sum().sort_values()
    standardized = (event - estimation.mean()) / estimation.std()
    assert (standardized ** 2).mean().mean() > 1.5  # about 1 outside events
    # Outside the event, no rally: a six-day window a month earlier is no such outlier.
    before = abnormal.loc["2024-01-15":"2024-01-20"].sum().mean()
    assert abs(before) < caar / 2
    day0 = calibration().event_day0
    assert day0 == date(2024, 2, 15) and calibration().event_days == 6
    assert (pd.Timestamp(day0) + timedelta(days=5)).date() == date(2024, 2, 20)


def test_the_event_scales_the_ai_tokens_residuals_and_adds_the_drift(universe):
    """The model itself: on event days an AI token's residual is the no-event residual times the
    multiplier plus the drift (in its AI-factor units); the BTC part and non-AI coins are untouched."""
    cal = calibration()
    quiet = replace(cal, event_factor_drift=0.0, event_volatility_multiplier=1.0)
    first = (datetime.combine(cal.event_day0, datetime.min.time()) - EPOCH).days + 1
    days = slice(first, first + cal.event_days)

    def shocks(spec, c):
        return daily_shocks(spec, DEMO_SEED, np.random.default_rng(1), c)

    assert np.array_equal(shocks(universe.coins["ethereum"], cal), shocks(universe.coins["ethereum"], quiet))
    for coin in ("fetch-ai", "near", "worldcoin-wld"):
        spec = universe.coins[coin]
        residual = np.sqrt(spec.volatility ** 2 - (spec.beta * cal.market_volatility) ** 2)
        alone = replace(spec, beta=0.0, volatility=residual)  # the same draws without the BTC part
        with_event, without = shocks(spec, cal), shocks(spec, quiet)
        assert np.allclose(with_event - shocks(alone, cal), without - shocks(alone, quiet))
        assert np.array_equal(with_event[:first], without[:first]) and np.array_equal(with_event[days.stop:], without[days.stop:])
        expected = cal.event_volatility_multiplier * shocks(alone, quiet)[days] + residual * spec.ai_loading * cal.event_factor_drift
        assert shocks(alone, cal)[days] == pytest.approx(expected, rel=1e-9)


def test_the_shipped_calibration_is_what_the_script_derives_from_the_real_data():
    if not REALDATA.is_dir():
        pytest.skip(f"shared real data not found at {REALDATA} (it lives beside the project, not in it)")
    root = Path(__file__).resolve().parents[1]
    derived = subprocess.run([sys.executable, str(root / "docs" / "demo_calibration.py")], capture_output=True, text=True,
                             timeout=300, cwd=root)
    assert derived.returncode == 0, derived.stderr
    assert derived.stdout == (root / "tracker" / "sources" / "fakegecko" / "calibration.toml").read_text()
