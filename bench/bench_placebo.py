"""Placebo inference benchmark: 231 pseudo-events (-250:-20) x 20 tokens, three windows.

Run from the project root::

    python bench/bench_placebo.py          # a few seconds, most of it the naive loops

* Vectorised: the engine's placebo (:mod:`tracker.analysis.eventstudy.placebo`), every
  (token, pseudo-event) market model from prefix sums at once: the pseudo-CAARs alone, the
  whole placebo step (gathering the blocks, choosing the sample, p-values, frames), and
  ``fit()`` with ``placebo=True`` beside the same ``fit()`` without it.
* Naive per-d loop: for each pseudo-event day d, for each token, an OLS fit of the shifted
  estimation window (numpy ``lstsq``) and the shifted window CARs, in Python loops.
* Naive study loop: for each d, ``EventStudy(...).fit()`` with the event moved to day d (what
  "rerun the study exactly as configured" means without the vectorisation); on
  ``--study-days`` of the 231 days, scaled to 231.

Each naive result is checked against the engine: the pseudo-CAARs agree to 1e-9.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import pandas as pd

from tracker.analysis.eventstudy import EventStudy
from tracker.analysis.eventstudy.placebo import pseudo_caars, run_placebo
from tracker.analysis.eventstudy.windows import Window

ESTIMATION = Window(-130, -11)
WINDOWS = [Window(0, 0), Window(-1, 1), Window(0, 5)]
RANGE = (-250, -20)


def make_panel(tokens: int, seed: int = 16):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2022-06-01", "2024-03-31", freq="D")
    market = pd.Series(rng.normal(0.001, 0.03, len(index)), index=index, name="BTC")
    factor = rng.normal(0, 0.015, len(index))
    returns = pd.DataFrame({f"T{i:02d}": 0.0005 + rng.uniform(0.6, 1.4) * market + factor + rng.normal(0, 0.04, len(index))
                            for i in range(tokens)}, index=index)
    return returns, market


def best(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def naive_loop(r: np.ndarray, m: np.ndarray, position: int, days: list[int]) -> np.ndarray:
    """(D, W) pseudo-CAARs: one least-squares fit per token and day."""
    out = np.empty((len(days), len(WINDOWS)))
    for i, d in enumerate(days):
        sums = [0.0] * len(WINDOWS)
        for k in range(r.shape[1]):
            lo, hi = position + d + ESTIMATION.start, position + d + ESTIMATION.end + 1
            x = np.column_stack([np.ones(hi - lo), m[lo:hi]])
            (a, b), *_ = np.linalg.lstsq(x, r[lo:hi, k], rcond=None)
            for j, w in enumerate(WINDOWS):
                span = slice(position + d + w.start, position + d + w.end + 1)
                sums[j] += float(np.sum(r[span, k] - a - b * m[span]))
        out[i] = [s / r.shape[1] for s in sums]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--study-days", type=int, default=20, help="pseudo-event days of the study loop (scaled to 231)")
    args = parser.parse_args()
    returns, market = make_panel(args.tokens)
    event = pd.Timestamp("2024-02-15")
    position = returns.index.get_loc(event)
    days = list(range(RANGE[0], RANGE[1] + 1))
    first = RANGE[0] + ESTIMATION.start
    last = max(w.end for w in WINDOWS)
    r_block = returns.to_numpy()[position + first:position + last + 1].T
    m_block = np.tile(market.to_numpy()[position + first:position + last + 1], (args.tokens, 1))

    core, vectorised = best(lambda: pseudo_caars("market", r_block, m_block, first, np.array(days), ESTIMATION, WINDOWS), args.repeat)
    options = dict(event_windows=WINDOWS, diagnostics=False)
    with_placebo, fitted = best(lambda: EventStudy(returns, market, {"e": event}, placebo=True, **options).fit(), args.repeat)
    without, _ = best(lambda: EventStudy(returns, market, {"e": event}, **options).fit(), args.repeat)
    study = EventStudy(returns, market, {"e": event}, placebo=True, **options)
    stacked = study._stack()
    step, _ = best(lambda: run_placebo(study, stacked, np.ones(args.tokens, dtype=bool), study.placebo), args.repeat)
    naive, reference = best(lambda: naive_loop(returns.to_numpy(), market.to_numpy(), position, days), 1)
    assert np.allclose(reference, vectorised, atol=1e-9), "naive loop and engine disagree"
    pseudo = fitted.placebo.pseudo.pivot(index="relative_period", columns="window", values="caar")
    assert np.allclose(pseudo[[w.label for w in WINDOWS]].to_numpy(), vectorised, atol=1e-9)

    sample = days[:: max(1, len(days) // args.study_days)][: args.study_days]
    start = time.perf_counter()
    for d in sample:
        moved = EventStudy(returns, market, {"e": returns.index[position + d]}, **options).fit()
        assert np.allclose(moved.caar["caar"].to_numpy(), vectorised[days.index(d)], atol=1e-9)
    study_loop = (time.perf_counter() - start) / len(sample) * len(days)

    print(f"placebo benchmark: {len(days)} pseudo-events x {args.tokens} tokens x {len(WINDOWS)} windows "
          f"(python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} cpus, best of {args.repeat})")
    print(f"  vectorised pseudo-CAARs (engine core)     {core * 1000:9.2f} ms")
    print(f"  whole placebo step (gather, sample, p)    {step * 1000:9.2f} ms  "
          f"(fit() with placebo {with_placebo * 1000:.1f} ms, without {without * 1000:.1f} ms)")
    print(f"  naive per-d loop (lstsq per token and d)  {naive * 1000:9.2f} ms  ratio {naive / core:8.0f}x")
    print(f"  naive study loop (fit() per d, scaled)    {study_loop * 1000:9.2f} ms  ratio {study_loop / core:8.0f}x "
          f"({len(sample)} days timed)")


if __name__ == "__main__":
    sys.exit(main())
