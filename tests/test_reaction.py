"""Minute-resolution reaction on synthetic minute panels with known jumps and half-lives, and
hand-worked index cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.reaction import INDEX_NAME, half_life, minute_reaction, reaction_chart
from tracker.errors import InputError

T0 = pd.Timestamp("2024-02-15 18:00")
MINUTES = pd.date_range(T0 - pd.Timedelta(hours=2), T0 + pd.Timedelta(hours=25), freq="min")
REL = ((MINUTES - T0) / pd.Timedelta(minutes=1)).to_numpy()


def bitcoin(seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(40000 * np.exp(np.cumsum(rng.normal(0, 3e-4, len(MINUTES)))), MINUTES, name="bitcoin")


def token(btc: pd.Series, log_path: np.ndarray, level: float = 0.5) -> pd.Series:
    """A token whose abnormal log return over bitcoin is exactly ``log_path``."""
    return pd.Series(level * btc.to_numpy() / btc.iloc[0] * np.exp(log_path), MINUTES)


def speed(results, name: str) -> dict:
    return results.speed.set_index("series").loc[name].to_dict()


def test_a_step_jump_is_the_days_move_and_its_half_life_is_the_jump_minute():
    btc = bitcoin()
    prices = pd.DataFrame({"fetch-ai": token(btc, np.where(REL >= 7, np.log(1.10), 0.0))})
    results = minute_reaction(prices, btc, T0, event_id="sora-demo")
    row = speed(results, "fetch-ai")
    assert row["day_move"] == pytest.approx(np.log(1.10), abs=1e-12)
    assert row["half_move_minutes"] == 7 and row["half_move_at"] == T0 + pd.Timedelta(minutes=7)
    curve = results.curves["fetch-ai"]
    assert curve.index[0] == -60 and curve.index[-1] == 1440 and curve.loc[0] == 0
    assert curve.loc[6] == pytest.approx(0, abs=1e-12) and curve.loc[7] == pytest.approx(np.log(1.10), abs=1e-12)


def test_an_exponential_approach_has_the_injected_half_life():
    btc = bitcoin(1)
    tau = 45 / np.log(2)  # half of the move after 45 minutes
    path = np.where(REL > 0, -0.08 * (1 - np.exp(-np.clip(REL, 0, None) / tau)), 0.0)  # a fall: direction matters
    prices = pd.DataFrame({"render-token": token(btc, path)})
    row = speed(minute_reaction(prices, btc, T0), "render-token")
    assert row["half_move_minutes"] == 45
    assert row["day_move"] == pytest.approx(-0.08, rel=1e-9)
    # With idiosyncratic noise (seeded) the half-life stays within a few minutes of 45.
    noisy = path + np.random.default_rng(7).normal(0, 2e-4, len(path))
    row = speed(minute_reaction(pd.DataFrame({"render-token": token(btc, noisy)}), btc, T0), "render-token")
    assert abs(row["half_move_minutes"] - 45) <= 3


def test_the_benchmarks_own_move_is_taken_out():
    btc = bitcoin(2)
    market = np.where(REL >= 10, np.log(1.05), 0.0)  # the whole market jumps at minute 10
    moved_btc = pd.Series(btc.to_numpy() * np.exp(market), MINUTES, name="bitcoin")
    prices = pd.DataFrame({"fetch-ai": token(moved_btc, np.where(REL >= 100, np.log(1.2), 0.0))})
    results = minute_reaction(prices, moved_btc, T0)
    curve = results.curves["fetch-ai"]
    assert curve.loc[10:99].abs().max() < 1e-12  # the token moved with the market: no abnormal return
    assert speed(results, "fetch-ai")["half_move_minutes"] == 100


def test_the_ai_index_is_equal_weighted_hand_worked():
    flat = pd.Series(30000.0, MINUTES, name="bitcoin")
    a = pd.Series(np.where(REL >= 10, 1.10, 1.0), MINUTES)  # +10% at minute 10
    b = pd.Series(np.where(REL >= 50, 2.4, 2.0), MINUTES)   # +20% at minute 50
    results = minute_reaction(pd.DataFrame({"a": a, "b": b}), flat, T0)
    # Minute 10: mean simple return (0.10 + 0) / 2; minute 50: (0 + 0.20) / 2.
    day_move = np.log(1.05) + np.log(1.10)
    row = speed(results, INDEX_NAME)
    assert row["day_move"] == pytest.approx(day_move, abs=1e-12)
    assert row["half_move_minutes"] == 50  # ln(1.05) = 0.0488 is short of half of 0.1441
    assert results.curves[INDEX_NAME].loc[10] == pytest.approx(np.log(1.05), abs=1e-12)
    assert row["note"] == "2 tokens"


def test_gaps_are_carried_and_thin_or_late_series_are_left_out_with_a_reason():
    btc = bitcoin(3)
    path = np.where(REL >= 30, 0.1, 0.0)
    gappy = token(btc, path).where((REL < 20) | (REL > 40))  # no candle from minute 20 to 40: the close carries
    late = token(btc, path).where(REL > 5)  # nothing before the announcement
    thin = token(btc, path).where(REL % 3 == 0)  # a candle every third minute
    results = minute_reaction(pd.DataFrame({"gappy": gappy, "late": late, "thin": thin}), btc, T0, index=False)
    assert speed(results, "gappy")["half_move_minutes"] == 41  # the jump shows when trading resumes
    assert "no minute close within 15 minutes before" in speed(results, "late")["note"]
    assert "fewer than 50%" in speed(results, "thin")["note"] and np.isnan(speed(results, "thin")["day_move"])
    assert list(results.curves.columns) == ["gappy"]


def test_no_move_has_no_half_life_and_bad_windows_are_refused():
    assert half_life(pd.Series([0.0, 0.0, 0.0], index=[0, 1, 2])) == (0.0, None)
    assert half_life(pd.Series([0.0, -0.01, -0.04, -0.03], index=[0, 1, 2, 3])) == (-0.03, 2)
    with pytest.raises(InputError, match="`pre` must be"):
        minute_reaction(pd.DataFrame({"a": bitcoin()}), bitcoin(), T0, post=0)


def test_an_approximate_time_is_said_and_the_chart_draws():
    btc = bitcoin(4)
    results = minute_reaction(pd.DataFrame({"a": token(btc, np.where(REL >= 3, 0.05, 0.0)),
                                            "b": token(btc, np.where(REL >= 9, 0.02, 0.0))}),
                              btc, T0, time_known=False, event_id="chatgpt-launch")
    assert results.settings.time_known is False and "approximate" in results.settings.time_note
    assert "approximate" in results.summary()
    frames = results.to_frames()
    assert set(frames) == {"speed", "curves"} and len(frames["curves"]) == 3 * 1501
    from tracker.analysis.plotting import to_svg
    svg = to_svg(reaction_chart(results))
    assert "<svg" in svg and "time approximate" in svg and INDEX_NAME in svg
