"""Settings ride on results objects, never on ``DataFrame.attrs`` (which pandas calls experimental).

Every frame the public correlation and event-study functions return is a plain frame; the
analyses of a panel carry their settings in ``CorrelationResults.settings``; the one setting a
later step needs (the grid step, the return kind) is an argument.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracker.analysis import correlation as corr
from tracker.analysis.correlation import service
from tracker.analysis.correlation.leadlag import rank_timing
from tracker.analysis.eventstudy import EventStudy, align_benchmark, returns_from_prices
from tracker.analysis.eventstudy.files import read_events_csv, read_returns_csv
from tracker.errors import AnalysisError

ROOT = Path(__file__).resolve().parents[1]


def _prices(days: int = 160) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    index = pd.date_range("2024-01-01", periods=days, freq="D", name="day")
    btc = rng.normal(0, 0.02, days)
    steps = pd.DataFrame({"bitcoin": btc, "fet": 0.7 * btc + rng.normal(0, 0.02, days), "wld": rng.normal(0, 0.03, days)},
                         index=index)
    return 100 * np.exp(steps.cumsum())


def _panel(prices: pd.DataFrame, kind: str = "log") -> service.Panel:
    return service.Panel(prices=prices, external=pd.DataFrame(index=pd.DatetimeIndex([]), dtype=float),
                         series=["fet", "wld"], benchmarks=["bitcoin"], step=pd.Timedelta(days=1), kind=kind, max_span=1)


def _correlation_frames(tmp_path) -> dict[str, pd.DataFrame]:
    prices = _prices()
    returns = corr.to_returns(prices)
    pairs = [("fet", "bitcoin"), ("wld", "fet")]
    ccf = corr.cross_correlation(returns, pairs, max_lag=3)
    index, members = corr.index_returns(prices, weighting="equal")
    matrix = corr.correlation_matrix(returns, min_overlap=20)
    csv = tmp_path / "nvda.csv"
    csv.write_text("Date,Close\n2024-02-15,726.1\n2024-02-16,1700.5\n")
    series = corr.read_series_csv(csv)
    frames = {
        "to_returns": returns,
        "rolling_correlation": corr.rolling_correlation(returns[["fet", "wld"]], returns["bitcoin"], window=20),
        "rolling_beta": corr.rolling_beta(returns[["fet", "wld"]], returns["bitcoin"], window=20),
        "correlation_change": corr.correlation_change(returns, "2024-04-01", 30, 30, pairs=pairs),
        "cross_correlation": ccf,
        "lead_lag_summary": corr.lead_lag_summary(ccf),
        "move_timing": corr.move_timing(returns),
        "granger_causality": corr.granger_causality(returns, pairs, max_lag=3),
        "index_returns": index,
        "index_members": members.to_frame(),
        "read_series_csv": series,
        "read_series_file": corr.read_series_file(csv).frame,
        "to_grid": corr.to_grid(series, "1D").to_frame(),
        "pairwise_correlation": corr.pairwise_correlation(returns, min_overlap=20)[0],
    }
    frames.update({f"matrix.{name}": frame for name, frame in matrix.to_frames().items()})
    panel = _panel(prices)
    for name, results in {
        "rolling_table": service.rolling_table(panel, 20),
        "change_table": service.change_table(panel, "2024-04-01", 30, 30),
        "leadlag_tables": service.leadlag_tables(panel, 3),
        "timing_table": service.timing_table(panel),
        "granger_table": service.granger_table(panel, 3),
        "matrix_result": service.matrix_result(panel, min_overlap=20),
    }.items():
        frames.update({f"{name}.{key}": frame for key, frame in results.to_frames().items()})
    return frames


def _event_study_frames(tmp_path) -> dict[str, pd.DataFrame]:
    prices = _prices()
    returns = returns_from_prices(prices[["fet", "wld"]])
    market = returns_from_prices(prices["bitcoin"])
    aligned, _ = align_benchmark(returns, market.to_frame(), "drop")
    results = EventStudy(returns.iloc[1:], market.iloc[1:], {"e1": returns.index[150]}, event_windows=[(0, 0), (-1, 1)]).fit()
    (tmp_path / "returns.csv").write_text("date,FET\n2024-02-15,0.01\n2024-02-16,-0.02\n")
    (tmp_path / "events.csv").write_text("event_id,date\nsora,2024-02-15T18:00:00Z\n")
    frames = {"returns_from_prices": returns, "align_benchmark": aligned,
              "read_returns_csv": read_returns_csv(tmp_path / "returns.csv"),
              "read_events_csv": read_events_csv(tmp_path / "events.csv")}
    frames.update({f"results.{name}": frame for name, frame in results.to_frames().items()})
    return frames


def test_no_frame_from_the_public_analysis_functions_carries_attrs(tmp_path):
    frames = _correlation_frames(tmp_path) | _event_study_frames(tmp_path)
    assert len(frames) > 30
    carrying = {name: dict(frame.attrs) for name, frame in frames.items() if frame.attrs}
    assert not carrying, carrying


def test_the_panel_analyses_carry_their_settings():
    panel = _panel(_prices())
    rolling = service.rolling_table(panel, 30)
    assert rolling.settings["window"] == 30 and rolling.settings["min_periods"] == 24  # 80% of the window
    assert rolling.settings["methods"] == ["pearson"] and rolling.settings["grid"] == "daily"
    change = service.change_table(panel, "2024-04-01T18:00Z", 30, 30, gap=2)
    assert change.settings["event_period"] == pd.Timestamp("2024-04-01")
    assert change.settings["pre_end"] == pd.Timestamp("2024-03-30") and change.settings["post_end"] == pd.Timestamp("2024-05-01")
    assert change.settings["test"] == "fisher-z, independent windows"
    granger = service.granger_table(panel, 3, lag=2)
    assert granger.settings["criterion"] == "fixed" and granger.settings["max_lag"] == 3
    timing = service.timing_table(panel)
    assert timing.settings["window_start"] == pd.Timestamp("2024-01-02") and timing.settings["fraction"] == 0.5


def test_the_return_kind_and_grid_are_arguments_now():
    prices = _prices()
    simple = corr.to_returns(prices, "simple")
    # move_timing converts simple returns when told they are simple (the frame cannot say so).
    assert corr.move_timing(simple, kind="simple").equals(corr.move_timing(np.log1p(simple)))
    assert not corr.move_timing(simple).equals(corr.move_timing(np.log1p(simple)))
    with pytest.raises(AnalysisError, match="return kind"):
        corr.move_timing(simple, kind="pct")
    # On a calendar with gaps the grid step cannot be inferred from the labels: give it.
    weekdays = corr.to_returns(prices)
    weekdays = weekdays[weekdays.index.day_of_week < 5].iloc[::2]
    given = corr.correlation_change(weekdays, "2024-04-01", 30, 30, freq="1D")
    inferred = corr.correlation_change(weekdays, "2024-04-01", 30, 30)
    assert given.loc[0, "n_pre"] < inferred.loc[0, "n_pre"]  # 30 days, not 30 two-day steps
    # The panel's timing uses its own kind.
    panel = _panel(prices, kind="simple")
    by_hand = rank_timing(corr.move_timing(np.log1p(panel.returns(["fet", "wld", "bitcoin"]))))
    assert service.timing_table(panel).frame["move"].equals(by_hand["move"])


_ATTRS = re.compile(r"\.attrs\b")


def test_library_code_never_uses_dataframe_attrs():
    found: dict[str, list[str]] = {}
    for package in ("tracker", "storage", "jobs"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                code = line.split("#", 1)[0]
                if _ATTRS.search(code) and "``" not in code:
                    found.setdefault(str(path.relative_to(ROOT)), []).append(f"{number}: {line.strip()}")
    assert not found, found
