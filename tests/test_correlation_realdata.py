"""The Sora demo (2024-02-15) on the shared Binance data: correlation change and lead-lag.

The data is read by a small loader here (not `tracker import csv`), and the same figures are
then reproduced through the database and the CLI. Run with ``-s`` to see the tables.

What the data shows (documented in docs/correlation.md):
* daily, 30 days before against 30 days after: AI tokens decoupled from BTC (FET-BTC 0.79 ->
  0.19, WLD-BTC 0.76 -> 0.00, Fisher z p < 0.01);
* Sora week, hourly: WLD and FET move in the same hour (peak cross-correlation at lag 0), but
  WLD made half of its week's gain 30 hours before FET did.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.correlation import (
    correlation_change,
    cross_correlation,
    granger_causality,
    lead_lag_summary,
    move_timing,
    pairs_against,
    to_returns,
)
from tracker.analysis.events import seed_events

from .correlation_synthetic import store_prices

COINS = {"BTC": "bitcoin", "ETH": "ethereum", "FET": "fetch-ai", "WLD": "worldcoin-wld", "GRT": "the-graph",
         "NEAR": "near", "ARKM": "arkham"}
AI = ["FET", "WLD", "GRT", "NEAR", "ARKM"]
SORA = pd.Timestamp("2024-02-15 18:00")


def load_daily(root: Path, symbols, start="2023-11-01", end="2024-05-31") -> pd.DataFrame:
    """Daily closes from the wide Binance file (label = UTC day of the close)."""
    frame = pd.read_csv(root / "daily_close_binance_spot_from_hourly.csv", index_col="date_utc", parse_dates=True)
    frame.index.name = "day"
    return frame.loc[start:end, list(symbols)]


def load_hourly(root: Path, symbols, start="2024-01-15", end="2024-03-15 23:00") -> pd.DataFrame:
    """Hourly closes (label = the candle's open hour; its close is observed an hour later)."""
    columns = {}
    for symbol in symbols:
        raw = pd.read_csv(root / "binance_spot_hourly_mark6" / f"{symbol}USDT_1h_close.csv", parse_dates=["open_time"])
        columns[symbol] = raw.set_index("open_time")["close"]
    frame = pd.DataFrame(columns).loc[start:end]
    frame.index.name = "hour"
    return frame


def test_ai_tokens_decoupled_from_btc_after_sora(realdata):
    returns = to_returns(load_daily(realdata, ["BTC", "ETH", *AI]))
    change = correlation_change(returns, SORA, 30, 30, pairs=pairs_against(AI, ["BTC", "ETH"]))
    print("\n" + change.round(3).to_string())
    rows = change.set_index(["x", "y"])
    assert (rows["n_pre"] == 30).all() and (rows["n_post"] == 30).all()
    fet, wld = rows.loc[("FET", "BTC")], rows.loc[("WLD", "BTC")]
    assert fet["r_pre"] == pytest.approx(0.788, abs=0.005) and fet["r_post"] == pytest.approx(0.193, abs=0.005)
    assert wld["r_pre"] == pytest.approx(0.763, abs=0.005) and abs(wld["r_post"]) < 0.01
    assert fet["p_value"] < 0.01 and wld["p_value"] < 0.001
    against_btc = change[change["y"] == "BTC"]
    assert (against_btc["delta"] < 0).all() and (against_btc["p_adj"] < 0.15).all()


def test_sora_week_who_moved_first(realdata):
    prices = load_hourly(realdata, ["BTC", "FET", "WLD"])
    returns = to_returns(prices)
    assert returns.notna().all().all()  # no outage hours in this window
    week = returns.loc["2024-02-12":"2024-02-19 23:00"]
    ccf = cross_correlation(week, [("WLD", "FET")], max_lag=12)
    summary = lead_lag_summary(ccf).iloc[0]
    at = ccf.set_index("lag")
    print("\n" + lead_lag_summary(ccf).round(4).to_string())
    print(at.loc[-3:3, ["n", "corr", "p_value"]].round(4).to_string())
    # Hour by hour they move together: the peak is the same hour.
    assert summary["peak_lag"] == 0 and summary["peak_corr"] == pytest.approx(0.386, abs=0.005)
    assert at.loc[0, "n"] == 192
    # Over the week, WLD made half of its rise well before FET.
    timing = move_timing(week[["FET", "WLD"]]).set_index("series")
    print(timing.to_string())
    # (labels are the hour whose return completed half the move; its close is an hour later)
    assert timing.loc["WLD", "reached_at"] == pd.Timestamp("2024-02-16 17:00")
    assert timing.loc["FET", "reached_at"] == pd.Timestamp("2024-02-17 23:00")
    assert timing.loc["FET", "hours_after_first"] == 30
    assert timing.loc["WLD", "move"] == pytest.approx(1.163, abs=0.005) and timing.loc["FET", "move"] == pytest.approx(0.439, abs=0.005)
    # Granger over two months of hours: the one-hour feedback runs both ways, FET -> WLD stronger.
    granger = granger_causality(returns, [("WLD", "FET")], max_lag=24, criterion="bic").set_index(["cause", "effect"])
    print(granger.round(4).to_string())
    assert granger.loc[("FET", "WLD"), "p_value"] < 0.001 and granger.loc[("FET", "WLD"), "lag"] == 1
    assert granger.loc[("FET", "WLD"), "f_stat"] > granger.loc[("WLD", "FET"), "f_stat"]


def test_the_same_through_the_database_and_the_cli(realdata, db, cli_runner, tmp_path):
    symbols = ["BTC", "ETH", "FET", "WLD"]
    store_prices(db, load_daily(realdata, symbols).rename(columns=COINS), source="binance-test")
    store_prices(db, load_hourly(realdata, symbols, "2024-02-01", "2024-02-29 23:00").rename(columns=COINS), hourly=True,
                 source="binance-test")
    seed_events(db)
    chart = tmp_path / "sora-change.svg"
    result = cli_runner("correlate", "change", "--event", "sora-demo", "--pre", "30", "--post", "30",
                        "--tokens", "fetch-ai,worldcoin-wld", "--against", "bitcoin", "--format", "json", "--chart", str(chart))
    assert result.exit_code == 0, result.output
    rows = {(r["x"], r["y"]): r for r in json.loads(result.stdout)["change"]}
    library = correlation_change(to_returns(load_daily(realdata, ["BTC", "FET", "WLD"])), SORA, 30, 30,
                                 pairs=[("FET", "BTC"), ("WLD", "BTC")]).set_index("x")
    for symbol in ("FET", "WLD"):
        got = rows[(COINS[symbol], "bitcoin")]
        assert got["r_pre"] == pytest.approx(library.loc[symbol, "r_pre"], abs=1e-9)
        assert got["r_post"] == pytest.approx(library.loc[symbol, "r_post"], abs=1e-9)
        assert got["p_value"] == pytest.approx(library.loc[symbol, "p_value"], rel=1e-6)
    assert "<svg" in chart.read_text()

    result = cli_runner("correlate", "leadlag", "--hourly", "--tokens", "worldcoin-wld,fetch-ai", "--against", "none",
                        "--start", "2024-02-12", "--end", "2024-02-19", "--max-lag", "12", "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    timing = {r["series"]: r for r in payload["timing"]}
    assert timing["worldcoin-wld"]["order"] == 1 and timing["fetch-ai"]["hours_after_first"] == 30
    assert payload["summary"][0]["peak_lag"] == 0 and payload["summary"][0]["n_peak"] == 192
    assert np.isclose(payload["summary"][0]["peak_corr"], 0.386, atol=0.005)


def test_the_decoupling_shows_in_hourly_returns_too(realdata):
    returns = to_returns(load_hourly(realdata, ["BTC", "FET", "WLD", "GRT"]))
    change = correlation_change(returns, SORA, "14d", "14d", pairs=pairs_against(["FET", "WLD", "GRT"], ["BTC"]))
    print("\n" + change.round(3).to_string())
    rows = change.set_index("x")
    assert (rows["n_pre"] == 336).all() and (rows["n_post"] == 336).all()
    assert rows.loc["FET", "r_pre"] == pytest.approx(0.569, abs=0.005) and rows.loc["FET", "r_post"] == pytest.approx(0.290, abs=0.005)
    assert (rows["p_value"] < 0.01).all() and (rows["delta"] < 0).all()
