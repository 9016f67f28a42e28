"""`tracker correlate ...` end to end on a database of synthetic prices with planted structure."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

import storage
from tracker.analysis.correlation import to_returns
from tracker.analysis.events import seed_events

from .correlation_synthetic import market, prices_from_returns, store_member, store_prices

TOKENS = "fetch-ai,render-token,worldcoin-wld"


@pytest.fixture
def daily(db):
    """400 days of daily closes (2023-05-31 .. 2024-07-03) with caps, and the events calendar."""
    prices = prices_from_returns(market())
    caps = prices * np.array([1e9, 5e8, 2e8, 1e8, 3e8])  # constant supply: caps follow prices
    store_prices(db, prices, caps=caps)
    seed_events(db)
    return prices


@pytest.fixture
def nvda_csv(tmp_path, daily):
    """An equity-like series: weekdays only, following bitcoin over each trading-day interval."""
    btc = daily["bitcoin"]
    weekdays = btc[btc.index.day_of_week < 5]
    rng = np.random.default_rng(8)
    steps = np.log(weekdays).diff().fillna(0.0) * 0.9 + rng.normal(0, 0.01, len(weekdays))
    nvda = 400 * np.exp(steps.cumsum())
    path = tmp_path / "nvda.csv"
    pd.DataFrame({"Date": weekdays.index.strftime("%Y-%m-%d"), "Close": nvda.round(4)}).to_csv(path, index=False)
    return path


def ok(result):
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def data(result):
    return json.loads(ok(result).stdout)


def test_matrix_in_every_format_and_the_heatmap(cli_runner, daily, tmp_path):
    table = ok(cli_runner("correlate", "matrix", "--tokens", TOKENS)).output
    assert "correlation" in table and "observations" in table and "clustered" in table
    payload = data(cli_runner("correlate", "matrix", "--tokens", TOKENS, "--format", "json"))
    assert set(payload["order"]) == {"fetch-ai", "render-token", "worldcoin-wld", "bitcoin", "ethereum"}
    pairs = {(p["x"], p["y"]): p for p in payload["pairs"]} | {(p["y"], p["x"]): p for p in payload["pairs"]}
    returns = to_returns(daily)
    assert pairs[("bitcoin", "ethereum")]["corr"] == pytest.approx(returns["bitcoin"].corr(returns["ethereum"]), abs=1e-9)
    assert pairs[("bitcoin", "ethereum")]["n"] == 400
    csv = pd.read_csv(io.StringIO(ok(cli_runner("correlate", "matrix", "--tokens", TOKENS, "--format", "csv")).stdout))
    assert list(csv.columns) == ["x", "y", "method", "n", "corr", "p_value"] and len(csv) == 10
    chart = tmp_path / "charts" / "heat.svg"
    ok(cli_runner("correlate", "matrix", "--tokens", TOKENS, "--chart", str(chart), "--method", "spearman"))
    assert chart.read_text().lstrip().startswith("<?xml") or "<svg" in chart.read_text()[:500]


def test_matrix_range_and_overlap(cli_runner, daily):
    payload = data(cli_runner("correlate", "matrix", "--tokens", "fetch-ai", "--start", "2024-01-01", "--end", "2024-01-20",
                              "--format", "json", "--min-overlap", "25"))
    assert all(p["n"] == 20 and p["corr"] is None for p in payload["pairs"])
    assert payload["settings"]["start"].startswith("2024-01-01")


def test_rolling_matches_pandas_on_the_stored_closes(cli_runner, daily, tmp_path):
    chart = tmp_path / "rolling.png"
    out = ok(cli_runner("correlate", "rolling", "--tokens", "fetch-ai", "--against", "bitcoin", "--window", "30",
                        "--method", "both", "--format", "csv", "--chart", str(chart)))
    frame = pd.read_csv(io.StringIO(out.stdout), parse_dates=["ts"])
    assert list(frame.columns) == ["ts", "series", "benchmark", "window", "n", "pearson", "spearman", "beta"]
    returns = to_returns(daily)
    expected = returns["fetch-ai"].rolling(30, min_periods=24).corr(returns["bitcoin"]).dropna()
    got = frame.set_index("ts")["pearson"].dropna()
    assert len(got) == len(expected)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=1e-9)
    assert chart.stat().st_size > 1000
    # The planted regime: fetch-ai follows bitcoin until period 250, then stops.
    assert got.loc[:"2024-01-15"].mean() > 0.5 and abs(got.loc["2024-03-15":].mean()) < 0.25


def test_rolling_with_an_equal_and_a_cap_weighted_index(cli_runner, daily):
    equal = pd.read_csv(io.StringIO(ok(cli_runner("correlate", "rolling", "--tokens", TOKENS, "--index", "equal",
                                                  "--format", "csv")).stdout))
    assert "ai-index" in set(equal["series"]) and {"bitcoin", "ethereum"} == set(equal["benchmark"])
    cap = data(cli_runner("correlate", "rolling", "--tokens", TOKENS, "--index", "cap", "--against", "bitcoin",
                          "--format", "json"))
    rows = [r for r in cap["rolling"] if r["series"] == "ai-index" and r["beta"] is not None]
    assert rows and cap["settings"]["index"] == "cap"


def test_category_members_are_point_in_time(cli_runner, daily, db):
    store_member(db, "artificial-intelligence", "fetch-ai", "2023-01-01")
    store_member(db, "artificial-intelligence", "render-token", "2023-01-01", "2024-01-01")
    store_member(db, "artificial-intelligence", "worldcoin-wld", "2024-03-01")
    payload = data(cli_runner("correlate", "matrix", "--category", "artificial-intelligence", "--start", "2023-11-01",
                              "--end", "2024-04-30", "--index", "equal", "--format", "json"))
    assert {"fetch-ai", "render-token", "worldcoin-wld", "ai-index"} <= set(payload["order"])
    # An index of render-token alone before 2024-01-01 ... and fet + wld from March: compare a
    # window where only fetch-ai is a member: the index IS fetch-ai there.
    rolling = data(cli_runner("correlate", "rolling", "--category", "artificial-intelligence", "--start", "2024-01-01",
                              "--end", "2024-02-28", "--index", "equal", "--against", "bitcoin", "--window", "10",
                              "--format", "json"))
    index = {r["ts"]: r["pearson"] for r in rolling["rolling"] if r["series"] == "ai-index"}
    fet = {r["ts"]: r["pearson"] for r in rolling["rolling"] if r["series"] == "fetch-ai"}
    assert index and all(index[t] == pytest.approx(fet[t], abs=1e-12) for t in index if index[t] is not None)


def test_change_detects_the_planted_break_and_uses_the_calendar(cli_runner, daily, tmp_path):
    chart = tmp_path / "change.svg"
    payload = data(cli_runner("correlate", "change", "--at", "2024-02-06T00:00Z", "--pre", "60", "--post", "60",
                              "--tokens", "fetch-ai,worldcoin-wld", "--format", "json", "--chart", str(chart)))
    rows = {(r["x"], r["y"]): r for r in payload["change"]}
    planted = rows[("fetch-ai", "bitcoin")]
    assert planted["n_pre"] == 60 and planted["n_post"] == 60
    assert planted["r_pre"] > 0.4 and abs(planted["r_post"]) < 0.25 and planted["p_value"] < 0.01
    assert rows[("worldcoin-wld", "bitcoin")]["p_value"] > 0.05
    assert "<svg" in chart.read_text()
    sora = ok(cli_runner("correlate", "change", "--event", "sora-demo", "--tokens", "fetch-ai", "--pre", "14d", "--post", "14d"))
    assert "event_period  2024-02-15" in sora.output and "sora-demo" in sora.output


def test_leadlag_finds_the_planted_two_day_lead(cli_runner, daily, tmp_path):
    payload = data(cli_runner("correlate", "leadlag", "--tokens", "worldcoin-wld,fetch-ai", "--against", "none",
                              "--max-lag", "5", "--format", "json", "--chart", str(tmp_path / "ccf.svg")))
    summary = payload["summary"][0]
    assert (summary["x"], summary["y"], summary["peak_lag"], summary["leader"]) == ("worldcoin-wld", "fetch-ai", 2, "worldcoin-wld")
    assert len(payload["cross_correlation"]) == 11 and payload["timing"]
    table = ok(cli_runner("correlate", "leadlag", "--tokens", "worldcoin-wld,fetch-ai", "--against", "none")).output
    assert "who made half the move first" in table


def test_granger_finds_the_planted_direction(cli_runner, daily):
    out = ok(cli_runner("correlate", "granger", "--tokens", "worldcoin-wld,fetch-ai", "--against", "none", "--format", "csv"))
    frame = pd.read_csv(io.StringIO(out.stdout)).set_index(["cause", "effect"])
    assert frame.loc[("worldcoin-wld", "fetch-ai"), "p_value"] < 1e-10
    assert frame.loc[("worldcoin-wld", "fetch-ai"), "selected_lag"] == 2
    assert frame.loc[("fetch-ai", "worldcoin-wld"), "p_value"] > 0.01


def test_outside_series_imported_and_straight_from_csv(cli_runner, daily, nvda_csv):
    imported = data(cli_runner("correlate", "series", "import", str(nvda_csv), "--id", "nvda", "--unit", "usd", "--format", "json"))
    assert imported[0]["rows"] > 250 and imported[0]["dates_only"] is True
    again = data(cli_runner("correlate", "series", "import", str(nvda_csv), "--id", "nvda", "--format", "json"))
    assert again[0]["replaced"] == again[0]["rows"] and again[0]["inserted"] == 0
    listed = data(cli_runner("correlate", "series", "list", "--format", "json"))
    assert listed[0]["series_id"] == "nvda" and listed[0]["rows"] == imported[0]["rows"]

    stored = data(cli_runner("correlate", "matrix", "--tokens", "fetch-ai", "--series", "nvda", "--format", "json"))
    direct = data(cli_runner("correlate", "matrix", "--tokens", "fetch-ai", "--series-csv", str(nvda_csv), "--format", "json"))
    by_pair = lambda payload: {frozenset((p["x"], p["y"])): p for p in payload["pairs"]}
    s, d = by_pair(stored), by_pair(direct)
    assert s[frozenset(("nvda", "bitcoin"))]["corr"] == pytest.approx(d[frozenset(("nvda", "bitcoin"))]["corr"], abs=1e-12)

    # By hand: returns between consecutive trading days (Friday -> Monday spans 3 days for
    # bitcoin too), never a forward-filled weekend.
    nvda = pd.read_csv(nvda_csv, parse_dates=["Date"]).set_index("Date")["Close"]
    btc = daily["bitcoin"].loc[nvda.index]
    expected = np.log(nvda).diff().corr(np.log(btc).diff())
    pair = s[frozenset(("nvda", "bitcoin"))]
    assert pair["corr"] == pytest.approx(expected, abs=1e-6)
    assert pair["n"] == len(nvda) - 1
    assert pair["corr"] > 0.7
    # Crypto pairs keep every day of the grid.
    assert s[frozenset(("fetch-ai", "bitcoin"))]["n"] == 400

    rolling = data(cli_runner("correlate", "rolling", "--tokens", "fetch-ai", "--series", "nvda", "--against", "none",
                              "--format", "json"))
    assert {r["benchmark"] for r in rolling["rolling"]} == {"nvda"} and rolling["settings"]["max_span"] == 4
    change = data(cli_runner("correlate", "change", "--at", "2024-02-06", "--tokens", "fetch-ai", "--series", "nvda",
                             "--pre", "60", "--post", "60", "--format", "json"))
    nvda_row = [r for r in change["change"] if r["y"] == "nvda"][0]
    assert 38 <= nvda_row["n_pre"] <= 45 and 38 <= nvda_row["n_post"] <= 45  # trading days in 60 calendar days
    granger = data(cli_runner("correlate", "granger", "--tokens", "fetch-ai", "--series-csv", str(nvda_csv),
                              "--against", "bitcoin", "--format", "json"))
    assert len(granger["granger"]) == 6


def test_hourly_grid(cli_runner, db, tmp_path):
    returns = market(days=24 * 20, freq="h", start="2024-02-08")
    store_prices(db, prices_from_returns(returns), hourly=True)
    payload = data(cli_runner("correlate", "leadlag", "--hourly", "--tokens", "worldcoin-wld,fetch-ai", "--against", "none",
                              "--start", "2024-02-10", "--end", "2024-02-20", "--max-lag", "6", "--format", "json"))
    assert payload["summary"][0]["peak_lag"] == 2 and payload["settings"]["grid"] == "hourly"
    assert payload["cross_correlation"][6]["n"] == 11 * 24 - 0  # lag 0: every hour of 10..20 Feb
    assert payload["settings"]["end"].startswith("2024-02-20T23:00")
    daily_csv = tmp_path / "daily.csv"
    daily_csv.write_text("date,value\n2024-02-10,1\n2024-02-11,2\n2024-02-12,3\n")
    sparse = cli_runner("correlate", "matrix", "--hourly", "--tokens", "fetch-ai", "--series-csv", str(daily_csv))
    assert sparse.exit_code == 1 and "has one value every 24 periods" in sparse.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["matrix", "--tokens", "no-such-coin"], "no prices in the database for token no-such-coin"),
        (["matrix"], "name the tokens with --tokens"),
        (["matrix", "--tokens", "fetch-ai", "--against", "nope"], "benchmark nope"),
        (["matrix", "--tokens", "fetch-ai", "--chart", "out.txt"], "must end in .svg or .png"),
        (["matrix", "--tokens", "fetch-ai", "--start", "yesterday-ish"], "--start 'yesterday-ish' is not a date"),
        (["matrix", "--tokens", "fetch-ai", "--start", "2024-03-01", "--end", "2024-01-01"], "is after end"),
        (["matrix", "--tokens", "fetch-ai", "--series", "nvda"], "no outside series 'nvda'"),
        (["matrix", "--tokens", "fetch-ai", "--series", "NVDA!"], "series id 'NVDA!'"),
        (["matrix", "--tokens", "fetch-ai", "--series-csv", "missing.csv"], "series file missing.csv does not exist"),
        (["change", "--tokens", "fetch-ai"], "give the event with --event ID or --at TIMESTAMP"),
        (["change", "--tokens", "fetch-ai", "--event", "nope"], "no event 'nope'"),
        (["change", "--tokens", "fetch-ai", "--at", "2024-02-06", "--pre", "soon"], "--pre 'soon' is not a number"),
        (["change", "--tokens", "fetch-ai", "--at", "2030-01-01"], "no prices in the database for benchmark bitcoin"),
        (["rolling", "--tokens", "fetch-ai", "--window", "10", "--min-periods", "12"], "--min-periods 12 is larger"),
        (["rolling", "--tokens", "fetch-ai", "--against", "none"], "rolling needs at least one benchmark"),
        (["granger", "--tokens", "fetch-ai", "--against", "bitcoin", "--max-lag", "150", "--start", "2024-06-01"], "usable rows"),
        (["leadlag", "--tokens", "fetch-ai", "--against", "none"], "no pairs to study"),
        (["series", "import", "missing.csv", "--id", "x"], "does not exist"),
        (["series", "import", "bad.csv", "--id", "x"], "line 3: value value 'n/a?' is not a number"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(cli_runner, daily, tmp_path, args, message):
    (tmp_path / "bad.csv").write_text("date,value\n2024-01-01,1\n2024-01-02,n/a?\n")
    result = cli_runner("correlate", *args)
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.output


@pytest.mark.parametrize("cell", ["inf", "-5", "0", "1e300", "1e-320", "-inf"])
def test_series_values_that_are_not_positive_finite_levels_are_refused(cli_runner, db, daily, tmp_path, cell):
    """Issue 12 item 7: `series import` stored inf, -5 and 0; a series read straight from a CSV
    gets the same rule. The error names the line and the column, and nothing is stored."""
    path = tmp_path / "gpu.csv"
    path.write_text(f"date,close\n2024-01-01,2.5\n2024-01-02,{cell}\n2024-01-03,2.6\n")
    for args in (("series", "import", str(path), "--id", "gpu"), ("matrix", "--tokens", "fetch-ai", "--series-csv", str(path))):
        result = cli_runner("correlate", *args)
        lines = result.output.strip().splitlines()
        assert result.exit_code != 0 and len(lines) == 1, result.output
        assert lines[0].startswith("error:") and f"line 3: close {cell} is " in lines[0], result.output
    assert storage.query(db, "SELECT count(*) AS n FROM external_series")["n"].iloc[0] == 0


def test_chart_path_is_checked_before_any_work(cli_runner, daily, tmp_path):
    folder = tmp_path / "a-folder.svg"
    folder.mkdir()
    result = cli_runner("correlate", "matrix", "--tokens", "fetch-ai", "--chart", str(folder))
    assert result.exit_code == 1 and "is a folder" in result.output


def test_every_command_has_help_and_format(cli_runner):
    for command in ("rolling", "matrix", "change", "leadlag", "granger", "series import", "series list"):
        text = ok(cli_runner("correlate", *command.split(), "--help")).output
        assert "--format [table|json|csv]" in text, command
