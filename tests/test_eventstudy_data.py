"""Study inputs from the database: point-in-time samples, coin and index benchmarks, hourly
panels, and `tracker study` end to end on a database."""
from __future__ import annotations

import json
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import storage
from tracker.analysis.events import add_events, event_from_mapping
from tracker.analysis.eventstudy import EventStudy, Window
from tracker.analysis.eventstudy.data import build_index, load_study_data
from tracker.errors import EventsError, InputError

SORA = datetime(2024, 2, 15, 18, 0)
COINS = ["fetch-ai", "worldcoin-wld", "render-token", "bittensor", "bitcoin", "ethereum"]
CAPS = {"fetch-ai": 5e8, "worldcoin-wld": 8e8, "render-token": 1.5e9, "bittensor": 3e9, "bitcoin": 8e11, "ethereum": 3e11}


def _price_rows(prices: pd.DataFrame, caps: pd.DataFrame | None, step: pd.Timedelta, granularity: str, source: str) -> pd.DataFrame:
    long = prices.stack().rename("price").reset_index()
    long.columns = ["period", "coin_id", "price"]
    long["ts"] = long["period"] + step  # a period's close is observed when it ends
    long["market_cap"] = caps.stack().to_numpy() if caps is not None else None
    long["vs_currency"] = "usd"
    long["total_volume"] = None
    long["granularity"] = granularity
    long["is_partial"] = False
    long["source"] = source
    long["ingested_at"] = datetime(2024, 6, 1)
    return long.drop(columns="period")


def _random_prices(index, coins, seed, sd=0.03):
    rng = np.random.default_rng(seed)
    market = rng.normal(0, 0.02, len(index))
    steps = market[:, None] * np.linspace(0.6, 1.4, len(coins)) + rng.normal(0, sd, (len(index), len(coins)))
    return pd.DataFrame(100 * np.exp(np.cumsum(steps, axis=0)), index=index, columns=coins)


@pytest.fixture(scope="module")
def study_db_path(tmp_path_factory):
    return tmp_path_factory.mktemp("study") / "tracker.duckdb"


@pytest.fixture(scope="module")
def study_db(study_db_path):
    """One database for the whole module (the tests only read it)."""
    db = storage.open_database(study_db_path, create=True)
    days = pd.date_range("2023-08-01", "2024-03-31", freq="D")
    prices = _random_prices(days, COINS, seed=1)
    # A jump on the Sora day for the AI coins.
    prices.loc["2024-02-15":, ["fetch-ai", "worldcoin-wld", "render-token"]] *= 1.2
    caps = pd.DataFrame({c: CAPS[c] * prices[c] / prices[c].iloc[0] for c in COINS})
    hours = pd.date_range("2024-01-20", "2024-02-20", freq="h", inclusive="left")
    hourly = _random_prices(hours, ["fetch-ai", "worldcoin-wld", "bitcoin"], seed=2, sd=0.005)
    hourly.loc["2024-02-15 18:00":, ["fetch-ai", "worldcoin-wld"]] *= 1.08
    members = pd.DataFrame(
        [
            ("artificial-intelligence", "fetch-ai", datetime(2023, 1, 1), None),
            ("artificial-intelligence", "render-token", datetime(2023, 1, 1), None),
            ("artificial-intelligence", "bittensor", datetime(2023, 1, 1), datetime(2024, 1, 1)),  # left before Sora
            ("artificial-intelligence", "worldcoin-wld", datetime(2024, 3, 1), None),  # joined after Sora
        ],
        columns=["category_id", "coin_id", "valid_from", "valid_to"],
    ).assign(source="test")
    with db.transaction() as con:
        storage.upsert(con, "price_history", _price_rows(prices, caps, pd.Timedelta(days=1), "daily", "csv:daily"))
        storage.upsert(con, "price_history", _price_rows(hourly, None, pd.Timedelta(hours=1), "hourly", "csv:hourly"))
        storage.upsert(con, "category_members", members)
    add_events(db, [event_from_mapping({"id": "sora-demo", "name": "Sora", "timestamp": "2024-02-15T18:00:00Z"})])
    return db, prices, caps, hourly


WINDOWS = dict(estimation_window=Window(-130, -11), event_windows=[Window(0, 0), Window(-1, 1), Window(0, 5)])


def test_category_sample_is_point_in_time(study_db):
    db, prices, _, _ = study_db
    data = load_study_data(db, ["sora-demo"], category="artificial-intelligence", **WINDOWS)
    assert sorted(data.events["security"]) == ["fetch-ai", "render-token"]
    assert (data.events["timestamp"] == pd.Timestamp(SORA)).all()
    assert data.benchmark_name == "bitcoin"
    day = pd.Timestamp("2024-02-15")
    assert data.returns.loc[day, "fetch-ai"] == pytest.approx(prices.loc[day, "fetch-ai"] / prices.loc[day - pd.Timedelta(days=1), "fetch-ai"] - 1)
    assert data.market[day] == pytest.approx(prices.loc[day, "bitcoin"] / prices.loc[day - pd.Timedelta(days=1), "bitcoin"] - 1)
    results = EventStudy(data.returns, data.market, data.events).fit()
    assert results.caar.set_index("window")["caar"]["[0, 0]"] > 0.1


def test_explicit_tokens_and_their_errors(study_db):
    db, *_ = study_db
    data = load_study_data(db, ["sora-demo"], tokens=["worldcoin-wld", "bitcoin"], **WINDOWS)
    assert data.events["security"].tolist() == ["worldcoin-wld"]  # the benchmark is not its own sample
    assert any("benchmark" in note for note in data.notes)
    with pytest.raises(InputError, match="unknown token 'nope-coin'"):
        load_study_data(db, ["sora-demo"], tokens=["fetch-ai", "nope-coin"], **WINDOWS)
    with pytest.raises(EventsError, match="no event 'gpt-9'"):
        load_study_data(db, ["gpt-9"], tokens=["fetch-ai"], **WINDOWS)
    with pytest.raises(InputError, match="unknown benchmark 'dogecoin'"):
        load_study_data(db, ["sora-demo"], tokens=["fetch-ai"], benchmark="dogecoin", **WINDOWS)
    with pytest.raises(InputError, match="had no members"):
        load_study_data(db, ["sora-demo"], category="gaming", **WINDOWS)


def test_index_benchmark_is_cap_weighted_with_lagged_caps(study_db):
    db, prices, caps, _ = study_db
    data = load_study_data(db, ["sora-demo"], category="artificial-intelligence", benchmark="index", **WINDOWS)
    # Outside the sample (fetch-ai, render-token) and the category at Sora: bitcoin, ethereum,
    # bittensor (it had left), not worldcoin (not a member then, but excluded only if a member).
    assert "cap-weighted index of" in data.benchmark_name
    day, before = pd.Timestamp("2024-02-10"), pd.Timestamp("2024-02-09")
    outside = ["bittensor", "bitcoin", "ethereum", "worldcoin-wld"]
    r = prices.loc[day, outside] / prices.loc[before, outside] - 1
    w = caps.loc[before, outside]
    assert data.market[day] == pytest.approx((r * w).sum() / w.sum(), rel=1e-9)
    equal = load_study_data(db, ["sora-demo"], category="artificial-intelligence", benchmark="index", index_weights="equal", **WINDOWS)
    assert equal.market[day] == pytest.approx(r.mean(), rel=1e-9)


def test_any_price_series_as_benchmark_with_an_equity_calendar(study_db):
    db, prices, _, _ = study_db
    weekdays = pd.date_range("2023-06-01", "2024-03-29", freq="B")
    spx = pd.Series(4500 * np.exp(np.cumsum(np.random.default_rng(9).normal(0, 0.01, len(weekdays)))), index=weekdays, name="SPX")
    data = load_study_data(db, ["sora-demo"], tokens=["fetch-ai", "render-token"], benchmark=spx, **WINDOWS)
    assert data.benchmark_name == "SPX"
    assert np.isnan(data.market[pd.Timestamp("2024-02-10")])  # a Saturday: no equity return
    monday, friday = pd.Timestamp("2024-02-12"), pd.Timestamp("2024-02-09")
    assert data.market[monday] == pytest.approx(spx[monday] / spx[friday] - 1)  # spans the weekend
    results = EventStudy(data.returns, data.market, data.events, benchmark_gaps="drop").fit()
    assert (results.estimation["n_obs"] == 120).all() and results.arrays.index.day_of_week.max() == 4
    long = results.abnormal_returns_long
    row = long[(long["security"] == "fetch-ai") & (long["period"] == pd.Timestamp("2024-02-19"))].iloc[0]
    assert row["return"] == pytest.approx(prices.loc["2024-02-19", "fetch-ai"] / prices.loc["2024-02-16", "fetch-ai"] - 1)


def test_build_index_skips_constituents_without_data():
    index = pd.date_range("2024-01-01", periods=3, freq="D")
    prices = pd.DataFrame({"a": [1.0, 1.1, 1.21], "b": [2.0, np.nan, 2.2]}, index=index)
    caps = pd.DataFrame({"a": [1.0, 1.0, 1.0], "b": [3.0, 3.0, 3.0]}, index=index)
    series = build_index(prices, caps)
    assert np.isnan(series.iloc[0])
    assert series.iloc[1] == pytest.approx(0.1)  # b has no price on day 2: a alone
    assert series.iloc[2] == pytest.approx((1.0 * 0.1 + 3.0 * 0.1) / 4.0)  # b's return spans its gap


def test_hourly_panel_from_the_database(study_db):
    db, _, _, hourly = study_db
    data = load_study_data(
        db, ["sora-demo"], tokens=["fetch-ai", "worldcoin-wld"], hourly=True,
        estimation_window=Window(-240, -25), event_windows=[Window(0, 0), Window(0, 5)],
    )
    assert data.period == pd.Timedelta(hours=1)
    results = EventStudy(data.returns, data.market, data.events, estimation_window=(-240, -25), event_windows=[(0, 0), (0, 5)]).fit()
    assert (results.estimation["day0"] == pd.Timestamp("2024-02-15T18:00")).all()
    assert results.caar.set_index("window")["caar"]["[0, 0]"] == pytest.approx(0.08, abs=0.03)


# ---- the CLI on the database ----------------------------------------------------------------
def test_cli_study_on_the_database(study_db, study_db_path, cli_runner):
    db_path = study_db_path
    result = cli_runner("--db", str(db_path), "study", "--event", "sora-demo", "--category", "artificial-intelligence",
                        "--benchmark", "bitcoin", "--model", "market", "--estimation-window", "-130:-11",
                        "--windows", "0:0,-1:1,0:5", "--format", "json", "--show", "summary,car")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["study"][0]["security_events"] == 2 and data["study"][0]["benchmark"] == "bitcoin"
    assert {row["security"] for row in data["car"]} == {"fetch-ai", "render-token"}
    assert data["lead_tests"][0]["robust_to_cross_correlation"] is True  # one shared date: clustered

    table = cli_runner("--db", str(db_path), "study", "--event", "sora-demo", "--tokens", "fetch-ai,worldcoin-wld")
    assert table.exit_code == 0, table.output
    assert "CAAR per window" in table.stdout and "bitcoin" in table.stdout

    index = cli_runner("--db", str(db_path), "study", "--event", "sora-demo", "--benchmark", "index", "--format", "csv", "--show", "caar")
    assert index.exit_code == 0, index.output
    assert index.stdout.startswith("# caar")

    hourly = cli_runner("--db", str(db_path), "study", "--event", "sora-demo", "--tokens", "fetch-ai,worldcoin-wld", "--hourly",
                        "--estimation-window", "-240:-25", "--windows", "0:0,0:5", "--format", "json", "--show", "estimation")
    assert hourly.exit_code == 0, hourly.output
    assert {row["day0"] for row in json.loads(hourly.stdout)["estimation"]} == {"2024-02-15T18:00:00"}


@pytest.mark.parametrize(
    "args, message",
    [
        (["--event", "gpt-9", "--tokens", "fetch-ai"], "no event 'gpt-9'"),
        (["--event", "sora-demo", "--tokens", "fetch-ai,nope"], "unknown token 'nope'"),
        (["--event", "sora-demo", "--tokens", "fetch-ai", "--category", "artificial-intelligence"], "not both"),
        (["--tokens", "fetch-ai"], "name the event(s) with --event"),
        (["--event", "sora-demo", "--day-boundary", "16:00"], "--day-boundary applies to --returns-csv"),
        (["--event", "sora-demo", "--windows", "0:0", "--estimation-window", "-10:2"], "overlaps event window"),
        (["--event", "sora-demo", "--estimation-window=-11:-130"], "starts after it ends"),
    ],
)
def test_cli_database_errors_are_one_line(study_db, study_db_path, cli_runner, args, message):
    result = cli_runner("--db", str(study_db_path), "study", *args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
