"""A seeded Monte Carlo of the verdict (issue 16).

Each run is one clustered event: 20 tokens share day 0, and on every day, day 0 included,
their returns share a common shock beyond the market (a sector factor: residual correlation
about 0.1). In the event window the tokens' volatility is tripled (event-induced variance).
The primary window is [0, 0]; the verdict uses KP-adjusted BMP, GRANK and the placebo over the
default 231 pseudo-event days, at alpha 0.05.

A harder variant, with the common shock's own volatility tripled on day 0 too, leaves the KP
adjustment exactly sized, so the verdict's false-robust rate is about the lead tests' joint
5% level: 3.7% of 300 runs and 6.0% of 200 runs on two seeds (docs/eventstudy.md). It is not
asserted here, because its expected rate is not comfortably below 5%.

* Null (no effect): the verdict is ``robust`` in at most 5% of the runs. The tests that take
  their variance from the estimation window (BW1985, KP-Patell) reject far more often here,
  which is why they do not decide the verdict.
* A planted +10% on day 0: ``robust`` in most runs.

Seeded, so the counts are fixed numbers: the assertions cannot fail by chance.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracker.analysis.eventstudy import EventStudy

RUNS = 200
TOKENS = 20
DAYS = pd.date_range("2023-01-01", periods=420, freq="D")
EVENT = 400  # day 0's row: 250 + 130 periods of history before it for the placebo


def one_run(rng: np.random.Generator, effect: float) -> tuple[str, float, float]:
    """(verdict, BW1985 p, KP-Patell p) of one simulated clustered event."""
    n = len(DAYS)
    market = rng.normal(0.0, 0.03, n)
    common = rng.normal(0.0, 0.01, n)
    noise = rng.normal(0.0, 0.03, (n, TOKENS))
    noise[EVENT] *= 3.0    # event-induced volatility; the common shock keeps its scale
    beta = rng.uniform(0.7, 1.3, TOKENS)
    values = beta * market[:, None] + common[:, None] + noise
    values[EVENT] += effect
    returns = pd.DataFrame(values, index=DAYS, columns=[f"T{i:02d}" for i in range(TOKENS)])
    results = EventStudy(returns, pd.Series(market, index=DAYS), {"e": DAYS[EVENT]}, event_windows=[(0, 0)],
                         placebo=True, diagnostics=False).fit()
    window = results.tests[results.tests["scope"] == "window"].set_index("test")["p_value"]
    return results.verdicts["verdict"].iloc[0], float(window["bw1985"]), float(window["kp_patell"])


def simulate(seed: int, effect: float) -> tuple[list[str], np.ndarray]:
    rng = np.random.default_rng(seed)
    runs = [one_run(rng, effect) for _ in range(RUNS)]
    return [r[0] for r in runs], np.array([[r[1], r[2]] for r in runs])


@pytest.mark.slow  # 200 fits with a placebo: about 20 s
def test_clustered_null_with_event_variance_is_rarely_robust():
    verdicts, variance_tests = simulate(1616, 0.0)
    robust = verdicts.count("robust")
    assert robust <= 0.05 * RUNS, robust
    # The tests that assume no event-induced variance over-reject on the same runs.
    assert ((variance_tests < 0.05).mean(axis=0) > 0.15).all(), (variance_tests < 0.05).mean(axis=0)


@pytest.mark.slow  # 200 fits with a placebo: about 20 s
def test_planted_ten_percent_effect_is_found_robust_in_most_runs():
    verdicts, _ = simulate(1617, 0.10)
    assert verdicts.count("robust") > 0.5 * RUNS, verdicts.count("robust")
