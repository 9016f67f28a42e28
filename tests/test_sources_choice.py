"""One source per coin: the best-covered source wins, ties go by the fixed order, --source picks
one, USD equivalents read as USD, and a coin's series never mixes sources."""
from __future__ import annotations

import pandas as pd
import pytest

import storage
from tests.sources_fixture import DAYS, RECENT, SCALE, build, series
from tracker.analysis import panels
from tracker.analysis.source_choice import SourcePolicy, check_source, choose
from tracker.errors import InputError

FULL = (DAYS[0], DAYS[-1])


@pytest.fixture(scope="module")
def sources_db(tmp_path_factory):
    return build(tmp_path_factory.mktemp("sources") / "tracker.duckdb")


def _chosen(db, start, end, policy=None, coins=("bitcoin", "fetch-ai", "worldcoin-wld", "render-token")):
    frame = panels.chosen_sources(db, list(coins), start, end, policy=policy)
    return {row.coin_id: (row.source, row.vs_currency) for row in frame.itertuples()}


def test_each_coin_takes_the_source_that_covers_most_of_the_periods(sources_db):
    chosen = _chosen(sources_db, *FULL)
    assert chosen["fetch-ai"] == ("binance", "usdt")  # CoinGecko covers only from RECENT
    assert chosen["worldcoin-wld"] == ("okx", "usdc")  # the only source, a USD equivalent
    # bitcoin: coingecko and binance cover every day: the fixed order puts coingecko first
    assert chosen["bitcoin"] == ("coingecko", "usd")
    # render-token: two exchanges tie; exchanges go alphabetically
    assert chosen["render-token"] == ("binance", "usdt")


def test_ties_go_coingecko_then_exchanges_then_csv(sources_db):
    chosen = _chosen(sources_db, RECENT, DAYS[-1])  # all three sources of fetch-ai cover every day here
    assert chosen["fetch-ai"] == ("coingecko", "usd")
    coverage = pd.DataFrame({
        "coin_id": ["x"] * 4, "source": ["csv:a.csv", "okx", "binance", "coingecko"], "vs_currency": ["usd", "usdt", "usdc", "usdt"],
        "closes": [5, 5, 5, 4], "snapshots_only": [False] * 4,
    })
    picked = choose(coverage, SourcePolicy(), ["usd", "usdt", "usdc", "fdusd"])
    assert picked.loc[0, "source"] == "binance"  # most closes first, then exchanges before CSV
    assert "okx (usdt, 5 closes)" in picked.loc[0, "alternatives"] and "coingecko" in picked.loc[0, "alternatives"]
    snapshots = coverage.assign(closes=5, snapshots_only=[False, False, False, True])
    assert choose(snapshots, SourcePolicy(), ["usd", "usdt"]).loc[0, "source"] == "binance"  # snapshots-only last


def test_a_coins_series_is_one_source_never_a_mix(sources_db):
    closes = panels.daily_closes(sources_db, ["fetch-ai"], DAYS[0], DAYS[-1])["fetch-ai"].dropna()
    truth = series()["fetch-ai"]
    truth.index = truth.index.rename("day")
    assert len(closes) == len(DAYS)
    pd.testing.assert_series_equal(closes, truth * SCALE["binance"], check_names=False, check_freq=False, rtol=1e-12)
    # The same period read from the recent range comes from CoinGecko alone: no binance close in it.
    recent = panels.daily_closes(sources_db, ["fetch-ai"], RECENT, DAYS[-1])["fetch-ai"].dropna()
    assert (recent / truth[recent.index] - SCALE["coingecko"]).abs().max() < 1e-12


def test_source_option_picks_one_source_or_a_family(sources_db):
    assert _chosen(sources_db, *FULL, SourcePolicy("csv"))["fetch-ai"] == ("csv:fet.csv", "usd")
    assert _chosen(sources_db, *FULL, SourcePolicy("csv:fet.csv"))["fetch-ai"] == ("csv:fet.csv", "usd")
    okx = _chosen(sources_db, *FULL, SourcePolicy("okx"))
    assert okx == {"worldcoin-wld": ("okx", "usdc"), "render-token": ("okx", "usdt")}
    closes = panels.daily_closes(sources_db, ["fetch-ai", "render-token"], *FULL, policy=SourcePolicy("okx"))
    assert list(closes.columns) == ["render-token"]  # fetch-ai has no okx closes: none, not another source's


def test_an_unknown_source_names_the_stored_ones(sources_db):
    with pytest.raises(InputError) as caught:
        check_source(sources_db, SourcePolicy("kraken"))
    message = str(caught.value)
    assert "'kraken'" in message and "binance, coingecko, csv:fet.csv, okx, csv" in message and "\n" not in message
    check_source(sources_db, SourcePolicy("csv"))  # a family prefix is known


def test_usd_equivalents_read_as_usd_only_when_configured(sources_db):
    assert panels.quote_currency(sources_db) == "usd"  # most rows are USDT: read as USD
    assert panels.quote_currency(sources_db, policy=SourcePolicy(usd_equivalents=())) == "usdt"
    strict = _chosen(sources_db, *FULL, SourcePolicy(usd_equivalents=()), coins=["fetch-ai", "worldcoin-wld"])
    assert strict == {"fetch-ai": ("binance", "usdt")}  # studied in the stored quote, usdt: worldcoin's usdc is not read
    usd_only = panels.chosen_sources(sources_db, ["fetch-ai", "worldcoin-wld"], *FULL, vs_currency="usd",
                                     policy=SourcePolicy(usd_equivalents=()))
    assert dict(zip(usd_only.coin_id, usd_only.source)) == {"fetch-ai": "csv:fet.csv"}
    only_usdc = panels.chosen_sources(sources_db, ["fetch-ai", "worldcoin-wld"], *FULL, vs_currency="usd",
                                      policy=SourcePolicy(usd_equivalents=("usdc",)))
    assert dict(zip(only_usdc.coin_id, zip(only_usdc.source, only_usdc.vs_currency))) == {
        "fetch-ai": ("csv:fet.csv", "usd"), "worldcoin-wld": ("okx", "usdc")}


def test_a_single_source_database_reads_exactly_as_the_views(db):
    """CoinGecko history plus the tracker's own snapshots: the panel equals the daily_prices view."""
    s = series()["fetch-ai"]
    from tests.sources_fixture import rows
    history = rows("fetch-ai", DAYS[:-5], s[:-5], source="coingecko", vs="usd", caps=s[:-5] * 1e9)
    snapshots = pd.DataFrame({
        "coin_id": "fetch-ai", "vs_currency": "usd", "observed_at": DAYS[-6:] + pd.Timedelta(hours=23, minutes=58),
        "price": s[-6:].to_numpy() * 1.05, "market_cap": None, "source": "coingecko",
    })
    with db.transaction() as con:
        storage.upsert(con, "price_history", history)
        storage.upsert(con, "market_snapshots", snapshots)
    for complete in (True, False):
        panel = panels.daily_closes(db, ["fetch-ai"], DAYS[0], DAYS[-1], complete_only=complete)["fetch-ai"]
        view = storage.closes_long(db, "daily", "usd", coin_ids=["fetch-ai"], start=DAYS[0].to_pydatetime(),
                                   end=DAYS[-1].to_pydatetime(), complete_only=complete)
        assert panel.to_numpy().tolist() == view.sort_values("day")["close"].tolist()
    chosen = panels.chosen_sources(db, ["fetch-ai"], DAYS[0], DAYS[-1])
    assert chosen["source"].tolist() == ["coingecko"] and not chosen["snapshots_only"].iloc[0]
