"""Issue 17, point 4: error messages that pointed the wrong way now say what is wrong."""
from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import EventStudy
from tracker.analysis.eventstudy.windows import as_window
from tracker.errors import InputError

STUDY = ("study", "--event", "sora-demo")


def _prices_csv(tmp_path, name: str, seed: int):
    rng = np.random.default_rng(seed)
    days = pd.date_range("2023-08-01", "2024-03-31", freq="D")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.03, len(days))))
    path = tmp_path / f"{name}.csv"
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "close": close}).to_csv(path, index=False)
    return path


@pytest.fixture
def inited(db_path, cli_runner):
    """`tracker init`: an empty database with the shipped events calendar."""
    import storage

    assert cli_runner("init").exit_code == 0
    return storage.Database(db_path)


@pytest.fixture
def priced_db(inited, cli_runner, tmp_path):
    """bitcoin and render-token with daily prices around the Sora demo; nothing else."""
    for seed, coin in enumerate(("bitcoin", "render-token")):
        result = cli_runner("import", "csv", str(_prices_csv(tmp_path, coin, seed)), "--coin", coin)
        assert result.exit_code == 0, result.output
    return inited


def test_a_well_formed_coin_without_prices_is_named_with_the_coins_that_have_some(priced_db, cli_runner):
    result = cli_runner(*STUDY, "--tokens", "fetch-ai")
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.startswith("error: unknown token 'fetch-ai': no prices stored for it; coins with prices include bitcoin, render-token")
    assert "`tracker ingest history --coin fetch-ai`" in line and "coin ids look like fetch-ai" not in line


def test_text_that_is_no_coin_id_says_so(priced_db, cli_runner):
    result = cli_runner(*STUDY, "--tokens", "FET")
    assert result.exit_code == 1 and "unknown token 'FET': not a CoinGecko coin id" in result.stderr


def test_report_uses_the_same_message(priced_db, cli_runner, tmp_path):
    result = cli_runner("report", "event-study", "--event", "sora-demo", "--tokens", "fetch-ai", "--output", str(tmp_path / "r"))
    assert result.exit_code == 1 and "unknown token 'fetch-ai': no prices stored for it" in result.stderr, result.output


def test_first_known_without_any_membership_says_none_is_stored(priced_db, cli_runner):
    result = cli_runner(*STUDY, "--category", "artificial-intelligence", "--membership", "first-known")
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert ("no membership of category 'artificial-intelligence' is stored at all, so --membership first-known has none "
            "to fall back on; run `tracker ingest members`") in line
    assert "or --membership first-known to use" not in line and "name the coins with --tokens" in line


def test_strict_membership_still_points_to_first_known(priced_db, cli_runner):
    result = cli_runner(*STUDY, "--category", "artificial-intelligence")
    assert result.exit_code == 1 and "or --membership first-known to use the earliest recorded members" in result.stderr


@pytest.mark.parametrize("text, hint", [
    ("130:11", "periods before the event are negative: write it as -130:-11"),
    ("-11:-130", "write it as -130:-11"),
])
def test_a_reversed_estimation_window_suggests_the_window_before_the_event(priced_db, cli_runner, text, hint):
    result = cli_runner(*STUDY, "--tokens", "render-token", "--estimation-window", text)
    assert result.exit_code == 1 and result.stderr.strip().endswith(hint), result.stderr
    assert "11:130" not in result.stderr


def test_a_reversed_event_window_names_both_readings():
    with pytest.raises(InputError, match=r"write it as -5:-2 for periods before the event, or 2:5 for periods after it"):
        as_window("5:2", "event window")
    with pytest.raises(InputError, match=r"write it as -1:1$"):
        as_window("1:-1", "event window")


@pytest.mark.parametrize("args", [
    [*STUDY, "--tokens", "fetch-ai"],
    [*STUDY, "--category", "artificial-intelligence", "--membership", "first-known"],
    ["correlate", "matrix", "--tokens", "fetch-ai"],
    ["correlate", "matrix", "--category", "artificial-intelligence"],
    ["report", "event-study", "--event", "sora-demo", "--tokens", "fetch-ai", "--output", "r"],
])
def test_an_empty_database_says_it_has_no_prices_yet(inited, cli_runner, args):
    result = cli_runner(*args)
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert line.startswith("error: the database data/tracker.duckdb has no prices yet; fetch some with `tracker ingest all`"), line
    assert "`tracker demo`" in line and "check the coin ids" not in line and "bitcoin" not in line


def test_a_coin_without_prices_is_excluded_as_having_none(priced_db, cli_runner):
    with duckdb.connect(str(priced_db.path)) as con:  # a coin CoinGecko listed, with no price stored
        con.execute("INSERT INTO coins (coin_id, symbol, name, updated_at) VALUES ('ghost-coin', 'gho', 'Ghost', now())")
    result = cli_runner(*STUDY, "--tokens", "render-token,ghost-coin", "--show", "excluded", "--format", "json")
    assert result.exit_code == 0, result.output
    excluded = json.loads(result.stdout)["excluded"]
    assert [(e["security"], e["reason"]) for e in excluded] == [("ghost-coin", "no prices in the study period")]


def test_the_library_says_no_prices_not_too_few():
    rng = np.random.default_rng(1)
    index = pd.date_range("2024-01-01", periods=200, freq="D")
    market = pd.Series(rng.normal(0, 0.02, 200), index=index)
    returns = pd.DataFrame({"A": market * 1.2 + rng.normal(0, 0.01, 200), "B": np.nan, "C": np.nan}, index=index)
    returns.loc[index[:150], "C"] = rng.normal(0, 0.02, 150)  # C has prices, only not around the event
    events = pd.DataFrame({"event_id": ["e"], "timestamp": [index[180]], "security": ["all"]})
    reasons = EventStudy(returns, market, events).fit().excluded.set_index("security")["reason"]
    assert reasons["B"] == "no prices in the study period"
    assert reasons["C"] != "no prices in the study period"
