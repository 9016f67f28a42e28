"""Correlation analyser benchmark: 500 tokens x 3 years of daily closes.

Run from the project root::

    python bench/bench_correlation.py            # about 30 s on 2 cores, most of it the baselines

The panel is 1,095 daily closes for 500 tokens driven by a market factor and four sector
factors, with the gaps real data has: 30% of the tokens list during the period (no closes
before), and 0.5% of the closes are missing at random (so 1% of the returns are). Column 0
is "bitcoin".

Timed (best of ``--repeat`` runs for ours, one run for each baseline):

* the full matrix with pairwise overlap counts: ``pairwise_correlation`` (Pearson + n for
  all 124,750 pairs), and ``correlation_matrix`` (the same plus p-values and the
  hierarchical-clustering order); baseline: a Python loop over the pairs, each masked to
  its overlap and passed to ``scipy.stats.pearsonr``; reference: pandas ``DataFrame.corr``
  (no counts);
* a 30-day rolling correlation of every token against bitcoin: ``rolling_correlation``
  (tidy output with n, 550k rows); baseline: a per-token pandas loop,
  ``returns[c].rolling(30, min_periods=24).corr(btc)``.

Every pair of results is compared: the largest difference is printed and must be tiny.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracker.analysis.correlation import correlation_matrix, pairwise_correlation, rolling_correlation, to_returns  # noqa: E402


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_prices(tokens: int, days: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2022-01-01", periods=days, freq="D", name="day")
    market = rng.normal(0.0, 0.03, days)
    sectors = rng.normal(0.0, 0.02, (days, 4))
    loadings = rng.uniform(0.3, 1.5, tokens)
    sector_of = rng.integers(0, 4, tokens)
    noise = rng.normal(0.0, 0.04, (days, tokens))
    log_returns = loadings * market[:, None] + sectors[:, sector_of] + noise
    log_returns[:, 0] = market  # bitcoin is the market
    prices = 10.0 * np.exp(np.cumsum(log_returns, axis=0))
    listed_late = rng.random(tokens) < 0.3
    listed_late[0] = False
    for column in np.flatnonzero(listed_late):
        prices[: rng.integers(30, days - 60), column] = np.nan
    holes = rng.random((days, tokens)) < 0.005
    holes[:, 0] = False
    prices[holes] = np.nan
    columns = ["bitcoin"] + [f"token-{i:03d}" for i in range(1, tokens)]
    return pd.DataFrame(prices, index=index, columns=columns)


def best_of(repeat: int, func):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def peak_memory(func) -> float:
    """Peak Python/numpy allocation of one call, in MiB."""
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def naive_matrix(returns: pd.DataFrame, min_overlap: int) -> tuple[np.ndarray, np.ndarray]:
    """A Python loop over the pairs: mask to the overlap, count, scipy.stats.pearsonr."""
    values = returns.to_numpy()
    valid = np.isfinite(values)
    count = values.shape[1]
    corr = np.full((count, count), np.nan)
    n = np.zeros((count, count), dtype=np.int64)
    for i in range(count):
        n[i, i] = valid[:, i].sum()
        corr[i, i] = 1.0 if n[i, i] >= min_overlap else np.nan
        for j in range(i + 1, count):
            both = valid[:, i] & valid[:, j]
            k = int(both.sum())
            n[i, j] = n[j, i] = k
            if k >= min_overlap:
                corr[i, j] = corr[j, i] = stats.pearsonr(values[both, i], values[both, j]).statistic
    return corr, n


def naive_rolling(returns: pd.DataFrame, window: int, min_periods: int) -> pd.DataFrame:
    btc = returns["bitcoin"]
    return pd.DataFrame({c: returns[c].rolling(window, min_periods=min_periods).corr(btc) for c in returns.columns if c != "bitcoin"})


def run(tokens: int = 500, days: int = 1095, repeat: int = 3, window: int = 30, min_overlap: int = 20) -> dict:
    log(f"correlation benchmark: {tokens} tokens x {days} days, Python {platform.python_version()}, {platform.machine()}")
    prices = make_prices(tokens, days)
    seconds_returns, returns = best_of(repeat, lambda: to_returns(prices))
    missing = returns.isna().to_numpy().mean()
    log(f"returns: {returns.shape[0]} x {returns.shape[1]}, {missing:.1%} missing; to_returns {seconds_returns * 1000:.1f} ms")
    figures: dict = {"tokens": tokens, "days": days, "pairs": tokens * (tokens - 1) // 2, "missing_share": float(missing)}

    # ---- the full matrix with overlap counts
    seconds_pairwise, (corr, n) = best_of(repeat, lambda: pairwise_correlation(returns, "pearson", min_overlap))
    seconds_matrix, result = best_of(repeat, lambda: correlation_matrix(returns, "pearson", min_overlap))
    memory_matrix = peak_memory(lambda: pairwise_correlation(returns, "pearson", min_overlap))
    log("baseline: pairwise loop with scipy.stats.pearsonr ...")
    start = time.perf_counter()
    naive_corr, naive_n = naive_matrix(returns, min_overlap)
    seconds_naive_matrix = time.perf_counter() - start
    start = time.perf_counter()
    pandas_corr = returns.corr(min_periods=min_overlap)
    seconds_pandas = time.perf_counter() - start
    diff_matrix = float(np.nanmax(np.abs(corr.to_numpy() - naive_corr)))
    diff_pandas = float(np.nanmax(np.abs(corr.to_numpy() - pandas_corr.to_numpy())))
    assert (n.to_numpy() == naive_n).all(), "overlap counts differ from the baseline"
    assert np.array_equal(np.isnan(corr.to_numpy()), np.isnan(naive_corr)), "NaN pattern differs from the baseline"
    assert diff_matrix < 1e-9 and diff_pandas < 1e-9
    figures |= {
        "matrix_pairwise_s": seconds_pairwise,
        "matrix_clustered_s": seconds_matrix,
        "matrix_peak_mib": memory_matrix,
        "matrix_naive_s": seconds_naive_matrix,
        "matrix_pandas_s": seconds_pandas,
        "matrix_max_diff": max(diff_matrix, diff_pandas),
        "matrix_min_n": int(n.to_numpy().min()),
    }

    # ---- 30-day rolling correlation against bitcoin for every token
    min_periods = int(np.ceil(0.8 * window))
    seconds_rolling, rolling = best_of(
        repeat, lambda: rolling_correlation(returns, returns["bitcoin"], window, "pearson", min_periods)
    )
    log("baseline: per-token pandas rolling loop ...")
    start = time.perf_counter()
    naive = naive_rolling(returns, window, min_periods)
    seconds_naive_rolling = time.perf_counter() - start
    ours = rolling.pivot(index="ts", columns="series", values="corr").reindex(index=naive.index, columns=naive.columns)
    diff_rolling = float(np.nanmax(np.abs(ours.to_numpy() - naive.to_numpy())))
    assert np.array_equal(np.isnan(ours.to_numpy()), np.isnan(naive.to_numpy())), "rolling NaN pattern differs"
    assert diff_rolling < 1e-8
    figures |= {
        "rolling_s": seconds_rolling,
        "rolling_rows": len(rolling),
        "rolling_naive_s": seconds_naive_rolling,
        "rolling_max_diff": diff_rolling,
    }
    return figures


def report(f: dict) -> str:
    lines = [
        f"panel: {f['tokens']} tokens x {f['days']} days ({f['pairs']:,} pairs), {f['missing_share']:.1%} of returns missing",
        "",
        "full matrix with pairwise overlap counts (Pearson, min_overlap 20)",
        f"  pairwise_correlation (r + n)          {f['matrix_pairwise_s']:8.3f} s   peak {f['matrix_peak_mib']:.0f} MiB",
        f"  correlation_matrix (+ p, clustering)  {f['matrix_clustered_s']:8.3f} s",
        f"  baseline: pair loop + scipy pearsonr  {f['matrix_naive_s']:8.3f} s   "
        f"ratio {f['matrix_naive_s'] / f['matrix_pairwise_s']:,.0f}x (vs clustered {f['matrix_naive_s'] / f['matrix_clustered_s']:,.0f}x)",
        f"  reference: pandas DataFrame.corr      {f['matrix_pandas_s']:8.3f} s   "
        f"ratio {f['matrix_pandas_s'] / f['matrix_pairwise_s']:,.1f}x (pandas gives no counts)",
        f"  largest difference in r: {f['matrix_max_diff']:.1e}; counts identical; smallest overlap {f['matrix_min_n']}",
        "",
        "30-day rolling correlation against bitcoin, every token",
        f"  rolling_correlation (tidy, {f['rolling_rows']:,} rows)   {f['rolling_s']:8.3f} s",
        f"  baseline: per-token pandas rolling loop    {f['rolling_naive_s']:8.3f} s   ratio {f['rolling_naive_s'] / f['rolling_s']:,.1f}x",
        f"  largest difference: {f['rolling_max_diff']:.1e}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    figures = run(args.tokens, args.days, args.repeat)
    print(report(figures))
    return figures


if __name__ == "__main__":
    main()
