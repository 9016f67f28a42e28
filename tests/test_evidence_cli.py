"""`tracker study` with the evidence options: --alpha, --primary-window, --placebo, --calendar-time,
--show verdicts/placebo/calendar-time/diagnostics/all, and their one-line errors."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import EventStudy

from .test_placebo import panel


@pytest.fixture
def files(tmp_path):
    returns, market = panel(n=6, effect=0.05)
    frame = returns.assign(BTC=market)
    frame.index.name = "date"
    path = tmp_path / "returns.csv"
    frame.to_csv(path, float_format="%.10f")
    events = tmp_path / "events.csv"
    events.write_text("event_id,date\nsora,2024-02-15T18:00:00Z\nnearby,2024-02-17\n")
    return path, events


def study(cli_runner, files, *args):
    returns, events = files
    return cli_runner("study", "--returns-csv", str(returns), "--market-column", "BTC", "--events-csv", str(events),
                      "--event", "sora", *args)


def test_everything_in_json_matches_the_library(cli_runner, files):
    result = study(cli_runner, files, "--placebo", "--placebo-range", "-100:-20", "--calendar-time", "--primary-window", "0:5",
                   "--alpha", "0.1", "--show", "all", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"verdicts", "placebo", "calendar-time", "diagnostics", "tests"} <= set(data)
    assert all({"window", "verdict"} <= set(row) for row in data["verdicts"])
    assert data["verdicts"][0]["window"] == "[0, 5]" and data["verdicts"][0]["primary"] is True
    frame = pd.read_csv(files[0], index_col="date", parse_dates=True)
    market = frame.pop("BTC")
    direct = EventStudy(frame, market, {"sora": "2024-02-15T18:00:00Z"}, placebo="-100:-20", calendar_time=True,
                        primary_window="0:5", alpha=0.1).fit()
    assert [r["p_value"] for r in data["placebo"]] == pytest.approx(list(direct.placebo.table["p_value"]))
    assert [r["g"] for r in data["calendar-time"]] == pytest.approx(list(direct.calendar_time["g"]), rel=1e-9)
    assert [r["verdict"] for r in data["verdicts"]] == list(direct.verdicts["verdict"])
    overlap = next(r for r in data["diagnostics"] if r["diagnostic"] == "other calendar events in the event span")
    assert overlap["detail"].startswith("nearby")


def test_summary_states_the_verdict(cli_runner, files):
    result = study(cli_runner, files, "--placebo-range", "-60:-20")
    assert result.exit_code == 0, result.output
    assert "verdict over the primary window [0, 0]:" in result.stdout
    assert "Placebo: pseudo-events [-60, -20]" in result.stdout and "Diagnostics" in result.stdout


def test_show_all_without_placebo_leaves_it_out(cli_runner, files):
    result = study(cli_runner, files, "--show", "all", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert "placebo" not in data and "verdicts" in data and "diagnostics" in data


@pytest.mark.parametrize("args, message", [
    (["--show", "placebo"], "error: --show placebo needs --placebo"),
    (["--show", "calendar-time"], "error: --show calendar-time needs --calendar-time"),
    (["--placebo-range", "-10:-2"], "error: --placebo-range -10:-2 puts pseudo-event windows on the real event's periods"),
    (["--placebo-range", "-2000:-20"], "error: no security-event has complete returns over the placebo's"),
    (["--calendar-time", "--portfolio-weights", "cap"], "error: --portfolio-weights cap needs market caps from the database"),
    (["--portfolio-weights", "cap"], "error: --portfolio-weights applies to --calendar-time"),
    (["--alpha", "1.5"], "Invalid value for '--alpha'"),
    (["--primary-window", "5:0"], "error: --primary-window 5:0 starts after it ends"),
])
def test_bad_evidence_options_are_one_line(cli_runner, files, args, message):
    result = study(cli_runner, files, *args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_tests_table_carries_the_flag(cli_runner, files, tmp_path):
    returns, events = files
    frame = pd.read_csv(returns, index_col="date", parse_dates=True)
    noise = np.random.default_rng(4).normal(0, 0.2, (6, 6))
    frame.loc["2024-02-15":"2024-02-20", frame.columns[:-1]] += noise
    frame.to_csv(returns, float_format="%.10f")
    result = study(cli_runner, files, "--windows", "0:5", "--show", "tests", "--format", "json")
    rows = [r for r in json.loads(result.stdout)["tests"] if r["scope"] == "window"]
    flagged = {r["test"] for r in rows if r["flag"]}
    assert flagged == {"bw1980", "bw1985", "patell", "kp_patell", "corrado_rank"}


def test_database_mode_loads_the_placebo_history_and_market_caps(cli_runner, tmp_path):
    """`tracker study` on the database: the placebo reads history before the estimation window,
    and cap weights use the previous day's market caps (checked by hand with statsmodels)."""
    import statsmodels.api as sm

    from tracker.analysis import panels
    from tracker.analysis.eventstudy.calendar_time import newey_west_lags

    from .report_helpers import fixture_database

    db = fixture_database(tmp_path)
    tokens = "fetch-ai,render-token,singularitynet,ocean-protocol"
    result = cli_runner("--db", str(db.path), "study", "--event", "sora-demo", "--tokens", tokens, "--estimation-window", "-60:-11",
                        "--windows", "0:0,0:5", "--placebo-range", "-70:-20", "--calendar-time", "--portfolio-weights", "cap",
                        "--show", "placebo,calendar-time,diagnostics,excluded", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert all(row["n_pseudo"] == 51 for row in data["placebo"])
    row = next(r for r in data["calendar-time"] if r["window"] == "[0, 5]")
    assert row["weights"] == "cap"
    coins = [c for c in tokens.split(",") if c not in {r["security"] for r in data["excluded"]}]
    closes = panels.daily_closes(db, coins + ["bitcoin"], "2023-10-01", "2024-03-31")
    caps = panels.daily_closes(db, coins, "2023-10-01", "2024-03-31", value="market_cap").reindex(closes.index)
    returns = closes / closes.shift(1) - 1
    day0 = closes.index.get_loc(pd.Timestamp("2024-02-15"))
    rows = list(range(day0 - 60, day0 - 10)) + list(range(day0, day0 + 6))
    weights = caps.shift(1).iloc[rows][coins]
    present = returns.iloc[rows][coins].notna() & weights.notna() & (weights > 0)
    w = weights.where(present, 0.0)
    y = (returns.iloc[rows][coins].fillna(0.0) * w).sum(axis=1) / w.sum(axis=1)
    x = np.column_stack([np.ones(len(rows)), returns["bitcoin"].iloc[rows], [0.0] * 50 + [1.0] * 6])
    ok = np.isfinite(y.to_numpy()) & np.isfinite(x).all(axis=1)
    fit = sm.OLS(y.to_numpy()[ok], x[ok]).fit(cov_type="HAC", cov_kwds={"maxlags": newey_west_lags(int(ok.sum()))})
    assert row["g"] == pytest.approx(fit.params[2], abs=1e-9) and row["p_value"] == pytest.approx(fit.pvalues[2], abs=1e-9)
