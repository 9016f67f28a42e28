"""Event-study engine benchmark: 500 securities x 20 events = 10,000 security-events.

Run from the project root::

    python bench/bench_eventstudy.py        # under 10 s on 2 cores, most of it the baselines

The panel is 580 days of market-model returns for 500 securities (residuals sharing a
common factor) and 20 events on different dates, each hitting every security, with the
default windows: estimation [-130, -11], event windows [0, 0], [-1, 1], [0, 5].

* Engine: ``EventStudy(...).fit()``, the full battery (12 tests, each per relative day and per
  window: parametric, sign, rank, Wilcoxon and GRANK), timed alone and with every result
  frame built (``to_frames()``). Best of ``--repeat`` runs.
* Battery baseline: the same 12 window statistics the plain way, one security-event at a
  time: a statsmodels OLS fit, forecast standard errors from ``get_prediction``, CAR
  variances from ``cov_params``, scipy ranks per row (Corrado, GRANK), then the
  cross-sectional statistics. It computes less than the engine (no per-day rows).
* Minimal baseline: the loop with only the OLS fit, the ARs and the CARs (no tests at all).

Each baseline is checked against the engine: CARs and every window statistic must agree.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from tracker.analysis.eventstudy import EventStudy
from tracker.analysis.eventstudy.parametric_statistics import average_residual_correlation

ESTIMATION = (-130, -11)
WINDOWS = [(0, 0), (-1, 1), (0, 5)]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_panel(securities: int, events: int, seed: int = 6):
    rng = np.random.default_rng(seed)
    periods = 150 + 20 * events + 30
    index = pd.date_range("2022-01-01", periods=periods, freq="D")
    market = rng.normal(0.0, 0.02, periods)
    factor = rng.normal(0.0, 0.01, periods)
    values = 0.0005 + rng.uniform(0.4, 1.6, securities) * market[:, None] + factor[:, None] + rng.normal(0, 0.03, (periods, securities))
    returns = pd.DataFrame(values, index=index, columns=[f"coin-{i:03d}" for i in range(securities)])
    days = 150 + 20 * np.arange(events)
    event_frame = pd.DataFrame({"event_id": [f"event-{i:02d}" for i in range(events)], "timestamp": index[days] + pd.Timedelta(hours=15)})
    return returns, pd.Series(market, index=index, name="market"), event_frame, days


SPAN = (min(w[0] for w in WINDOWS), max(w[1] for w in WINDOWS))


def baseline_minimal(returns: pd.DataFrame, market: pd.Series, days: np.ndarray) -> np.ndarray:
    """One statsmodels OLS per security-event, then ARs and CARs: (events * securities, windows)."""
    r = returns.to_numpy()
    m = market.to_numpy()
    cars = []
    for day0 in days:
        x_est = sm.add_constant(m[day0 + ESTIMATION[0]: day0 + ESTIMATION[1] + 1])
        x_evt = sm.add_constant(m[day0 + SPAN[0]: day0 + SPAN[1] + 1])
        for s in range(r.shape[1]):
            fit = sm.OLS(r[day0 + ESTIMATION[0]: day0 + ESTIMATION[1] + 1, s], x_est).fit()
            ar = r[day0 + SPAN[0]: day0 + SPAN[1] + 1, s] - fit.predict(x_evt)
            cars.append([ar[w[0] - SPAN[0]: w[1] - SPAN[0] + 1].sum() for w in WINDOWS])
    return np.array(cars)


def baseline_battery(returns: pd.DataFrame, market: pd.Series, days: np.ndarray) -> dict[str, np.ndarray]:
    """The same battery the naive way: per security-event statsmodels fits, forecast standard
    errors from ``get_prediction``, CAR variances from ``cov_params``, scipy ranks per row,
    then the cross-sectional statistics. Returns the window statistic of every test."""
    r = returns.to_numpy()
    m = market.to_numpy()
    ar_rows, se_rows, car_rows, var_rows, resid_rows, corrado_rows, sigma, df = [], [], [], [], [], [], [], []
    total, done = len(days) * r.shape[1], 0
    for day0 in days:
        x_est = sm.add_constant(m[day0 + ESTIMATION[0]: day0 + ESTIMATION[1] + 1])
        x_evt = sm.add_constant(m[day0 + SPAN[0]: day0 + SPAN[1] + 1])
        for s in range(r.shape[1]):
            fit = sm.OLS(r[day0 + ESTIMATION[0]: day0 + ESTIMATION[1] + 1, s], x_est).fit()
            prediction = fit.get_prediction(x_evt)
            ar = r[day0 + SPAN[0]: day0 + SPAN[1] + 1, s] - prediction.predicted_mean
            cars, variances = [], []
            for w in WINDOWS:
                rows = slice(w[0] - SPAN[0], w[1] - SPAN[0] + 1)
                g = x_evt[rows].sum(axis=0)
                cars.append(ar[rows].sum())
                variances.append(fit.scale * (w[1] - w[0] + 1) + g @ fit.cov_params() @ g)
            ranks = stats.rankdata(np.concatenate([fit.resid, ar]))
            ar_rows.append(ar)
            se_rows.append(prediction.se_obs)
            car_rows.append(cars)
            var_rows.append(variances)
            resid_rows.append(fit.resid)
            corrado_rows.append(ranks / (len(ranks) + 1) - 0.5)
            sigma.append(np.sqrt(fit.scale))
            df.append(fit.df_resid)
            done += 1
            if done % 2500 == 0:
                log(f"  battery baseline: {done:,} of {total:,} security-events fitted")
    car, var, resid = np.array(car_rows), np.array(var_rows), np.array(resid_rows)
    sigma, df = np.array(sigma), np.array(df)
    n = len(car)
    scar = car / np.sqrt(var)
    lengths = np.array([w[1] - w[0] + 1 for w in WINDOWS])
    out = {}
    out["csect_t"] = car.mean(0) / (car.std(0, ddof=1) / np.sqrt(n))
    out["bw1980"] = car.sum(0) / np.sqrt(var.sum(0))
    out["bw1985"] = car.mean(0) / (np.sqrt(lengths) * resid.mean(0).std(ddof=1))
    out["patell"] = scar.sum(0) / np.sqrt((df / (df - 2)).sum())
    out["bmp"] = scar.mean(0) / (scar.std(0, ddof=1) / np.sqrt(n))
    rbar = average_residual_correlation(resid)
    out["kp_patell"] = out["patell"] / np.sqrt(1 + (n - 1) * rbar)
    out["kp_bmp"] = out["bmp"] * np.sqrt((1 - rbar) / (1 + (n - 1) * rbar))
    out["sign"] = ((car > 0).sum(0) - n / 2) / np.sqrt(n / 4)
    p_hat = (resid > 0).mean(1).mean()
    out["generalized_sign"] = ((car > 0).sum(0) - n * p_hat) / np.sqrt(n * p_hat * (1 - p_hat))
    d = np.array(corrado_rows).mean(0)
    s_k = np.sqrt((d**2).mean())
    out["corrado_rank"] = np.array([d[resid.shape[1] + w[0] - SPAN[0]: resid.shape[1] + w[1] - SPAN[0] + 1].sum() / (np.sqrt(L) * s_k) for w, L in zip(WINDOWS, lengths)])
    out["wilcoxon"] = np.array([stats.rankdata(np.abs(car[:, j]))[car[:, j] > 0].sum() for j in range(len(WINDOWS))])
    grank = []
    for j in range(len(WINDOWS)):
        event = scar[:, j] / scar[:, j].std(ddof=1)
        u = np.array([stats.rankdata(np.append(resid[i] / sigma[i], event[i])) for i in range(n)]) / (resid.shape[1] + 2) - 0.5
        ubar = u.mean(0)
        big_t = resid.shape[1] + 1
        z = ubar[-1] / np.sqrt((ubar**2).mean())
        grank.append(z * np.sqrt((big_t - 2) / (big_t - 1 - z**2)))
    out["grank"] = np.array(grank)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--securities", type=int, default=500)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="engine runs; the best is reported")
    args = parser.parse_args(argv)

    returns, market, events, days = make_panel(args.securities, args.events)
    k = args.securities * args.events
    log(f"panel: {returns.shape[0]} days x {args.securities} securities, {args.events} events = {k:,} security-events")

    fit_times, full_times = [], []
    for run in range(args.repeat):
        start = time.perf_counter()
        results = EventStudy(returns, market, events, estimation_window=ESTIMATION, event_windows=WINDOWS).fit()
        fit_times.append(time.perf_counter() - start)
        results.to_frames()
        full_times.append(time.perf_counter() - start)
        log(f"  engine run {run + 1}: fit + battery {fit_times[-1]:.2f} s, with all frames {full_times[-1]:.2f} s")
    assert results.n == k, results.excluded

    log("minimal baseline: statsmodels OLS per security-event, ARs and CARs ...")
    start = time.perf_counter()
    base_cars = baseline_minimal(returns, market, days)
    minimal_time = time.perf_counter() - start
    engine_cars = results.arrays.car  # rows in event order, then security order, like the baselines
    car_difference = float(np.abs(engine_cars - base_cars).max())
    assert car_difference < 1e-10, car_difference

    log("battery baseline: the same tests, one security-event at a time ...")
    start = time.perf_counter()
    base_stats = baseline_battery(returns, market, days)
    battery_time = time.perf_counter() - start
    windows = results.tests[results.tests["scope"] == "window"]
    stat_difference = 0.0
    for name, values in base_stats.items():
        mine = windows[windows["test"] == name]["statistic"].to_numpy()
        stat_difference = max(stat_difference, float(np.max(np.abs(mine - values) / np.maximum(1.0, np.abs(values)))))
    assert stat_difference < 1e-8, stat_difference

    fit_best, full_best = min(fit_times), min(full_times)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"security-events: {k:,} ({args.securities} securities x {args.events} events), test rows: {len(results.tests)}")
    print(f"engine, fit + full test battery (best of {args.repeat}): {fit_best:8.2f} s")
    print(f"engine, fit + battery + all frames:          {full_best:8.2f} s")
    print(f"baseline, statsmodels loop, same battery:    {battery_time:8.2f} s   -> {battery_time / fit_best:6.1f}x")
    print(f"baseline, statsmodels loop, fit/AR/CAR only: {minimal_time:8.2f} s   -> {minimal_time / fit_best:6.1f}x")
    print(f"largest differences vs baselines: CAR {car_difference:.1e}, window statistics (relative) {stat_difference:.1e}")


if __name__ == "__main__":
    main()
