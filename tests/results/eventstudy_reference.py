"""Reference numbers for the event-study engine, computed from the formulas in plain Python.

Run ``python tests/results/eventstudy_reference.py`` to regenerate
``tests/results/eventstudy_reference.json``. Nothing here imports the tracker: every figure is
computed from the textbook formula with loops over lists, one security-event at a time
(CAR variances from MacKinlay's matrix form sigma^2 (I + X*(X'X)^-1 X*'), not the closed
form the engine uses), so the test compares two independent computations. scipy is used
only for the normal and t tail probabilities.

The case: 4 securities, 30 days, three events (one for every security, one for two, one for
one; seven security-events), estimation window [-14, -3] (12 days), event windows [0, 0],
[-1, 1], [0, 2], one missing return inside an estimation window. Returns are rounded to
4 decimals so the JSON holds the inputs exactly.
"""
from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path

from scipy import stats

OUT = Path(__file__).with_suffix(".json")
SECURITIES = ["A", "B", "C", "D"]
N_DAYS = 30
ESTIMATION = (-14, -3)
WINDOWS = [(0, 0), (-1, 1), (0, 2)]
SPAN = (min(w[0] for w in WINDOWS), max(w[1] for w in WINDOWS))  # event span [-1, 2]
EVENTS = [
    # event_id, timestamp (UTC), securities, day-0 position (Jan 1 = 0)
    ("e1", "2024-01-22T15:00:00", ["A", "B", "C", "D"], 21),
    ("e2", "2024-01-25T00:00:00", ["A", "C"], 24),
    ("e3", "2024-01-27T23:30:00", ["B"], 26),
]
MISSING = ("D", 10)  # one missing return, inside e1's estimation window


def make_inputs():
    rng = random.Random(20240215)
    market = [round(rng.gauss(0.0, 0.02), 4) for _ in range(N_DAYS)]
    common = [rng.gauss(0.0, 0.01) for _ in range(N_DAYS)]  # cross-correlation
    betas = {"A": 1.2, "B": 0.8, "C": 1.5, "D": 0.5}
    returns = {}
    for s in SECURITIES:
        returns[s] = [
            round(0.001 + betas[s] * market[t] + common[t] + rng.gauss(0.0, 0.025) + (0.04 if t in (21, 24, 26) else 0.0), 4)
            for t in range(N_DAYS)
        ]
    returns[MISSING[0]][MISSING[1]] = None
    return market, returns


# ---- small helpers ----------------------------------------------------------------------
def mean(xs):
    return sum(xs) / len(xs)


def stdev(xs):
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))


def average_ranks(xs):
    order = sorted(range(len(xs)), key=lambda i: xs[i])
    ranks = [0.0] * len(xs)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and xs[order[j + 1]] == xs[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2.0 + 1.0
        i = j + 1
    return ranks


def p_normal(z):
    return 2 * stats.norm.sf(abs(z))


def p_t(t, df):
    return 2 * stats.t.sf(abs(t), df)


def inv2(a, b, c, d):
    det = a * d - b * c
    return [[d / det, -b / det], [-c / det, a / det]]


# ---- per security-event ----------------------------------------------------------------
def security_event(model, y_all, x_all, day0):
    est_days = list(range(ESTIMATION[0], ESTIMATION[1] + 1))
    used = [(tau, y_all[day0 + tau], x_all[day0 + tau]) for tau in est_days if y_all[day0 + tau] is not None]
    taus = [u[0] for u in used]
    y = [u[1] for u in used]
    x = [u[2] for u in used]
    m = len(y)
    xbar, ybar = mean(x), mean(y)
    sxx = sum((v - xbar) ** 2 for v in x)
    if model == "market":
        beta = sum((xi - xbar) * (yi - ybar) for xi, yi in zip(x, y)) / sxx
        alpha = ybar - beta * xbar
        resid = [yi - alpha - beta * xi for xi, yi in zip(x, y)]
        df = m - 2
        sigma2 = sum(e * e for e in resid) / df
        r2 = 1 - sum(e * e for e in resid) / sum((yi - ybar) ** 2 for yi in y)
    elif model == "mean":
        alpha, beta, r2 = ybar, None, None
        resid = [yi - ybar for yi in y]
        df = m - 1
        sigma2 = sum(e * e for e in resid) / df
    else:
        alpha, beta, r2 = 0.0, 1.0, None
        resid = [yi - xi for xi, yi in zip(x, y)]
        df = m - 1
        sigma2 = stdev(resid) ** 2
    span = list(range(SPAN[0], SPAN[1] + 1))
    ev_y = [y_all[day0 + tau] for tau in span]
    ev_x = [x_all[day0 + tau] for tau in span]
    if model == "market":
        expected = [alpha + beta * v for v in ev_x]
    elif model == "mean":
        expected = [alpha for _ in ev_x]
    else:
        expected = list(ev_x)
    ar = [a - b for a, b in zip(ev_y, expected)]
    # MacKinlay's V = sigma^2 (I + X* (X'X)^-1 X*'), X* the event-window regressors.
    if model == "market":
        xtx_inv = inv2(m, sum(x), sum(x), sum(v * v for v in x))

        def h(i, j):
            a = [1.0, ev_x[i]]
            b = [1.0, ev_x[j]]
            return sum(a[p] * xtx_inv[p][q] * b[q] for p in range(2) for q in range(2))
    elif model == "mean":
        def h(i, j):
            return 1.0 / m
    else:
        def h(i, j):
            return 0.0

    def var_sum(idx):
        return sigma2 * sum((1.0 if i == j else 0.0) + h(i, j) for i in idx for j in idx)

    ar_var = [var_sum([i]) for i in range(len(span))]
    cars, car_vars = [], []
    for w in WINDOWS:
        idx = [span.index(t) for t in range(w[0], w[1] + 1)]
        cars.append(sum(ar[i] for i in idx))
        car_vars.append(var_sum(idx))
    return {
        "alpha": alpha, "beta": beta, "sigma": math.sqrt(sigma2), "sigma2": sigma2, "r_squared": r2, "n_obs": m,
        "df": df, "resid": dict(zip(taus, resid)), "ar": ar, "ar_var": ar_var, "car": cars, "car_var": car_vars,
    }


def wilcoxon_exact(xs):
    xs = [v for v in xs if v != 0]
    n = len(xs)
    ranks = average_ranks([abs(v) for v in xs])
    w = sum(r for r, v in zip(ranks, xs) if v > 0)
    sums = [sum(r for r, s in zip(range(1, n + 1), signs) if s) for signs in itertools.product([0, 1], repeat=n)]
    lower = sum(1 for s in sums if s <= w) / len(sums)
    upper = sum(1 for s in sums if s >= w) / len(sums)
    return w, min(1.0, 2 * min(lower, upper))


def grank(fits, event_values):
    n = len(fits)
    s = stdev(event_values)
    est_days = list(range(ESTIMATION[0], ESTIMATION[1] + 1))
    u_est = {tau: [] for tau in est_days}
    u0 = []
    for f, v in zip(fits, event_values):
        taus = sorted(f["resid"])
        series = [f["resid"][t] / f["sigma"] for t in taus] + [v / s]
        ranks = average_ranks(series)
        size = len(series)
        for t, r in zip(taus, ranks[:-1]):
            u_est[t].append(r / (size + 1) - 0.5)
        u0.append(ranks[-1] / (size + 1) - 0.5)
    present = [t for t in est_days if u_est[t]]
    big_t = len(present) + 1
    total = sum(len(u_est[t]) / n * mean(u_est[t]) ** 2 for t in present) + mean(u0) ** 2
    z = mean(u0) / math.sqrt(total / big_t)
    t_stat = z * math.sqrt((big_t - 2) / (big_t - 1 - z * z))
    return t_stat, big_t - 2


def battery(fits):
    n = len(fits)
    span = list(range(SPAN[0], SPAN[1] + 1))
    rows = []

    def add(test, scope, label, statistic, p, df):
        rows.append({"test": test, "scope": scope, "window": label, "statistic": statistic, "p_value": p, "df": df})

    # Each "item" is (scope, label, values x_i, variances, length)
    items = []
    for d, tau in enumerate(span):
        items.append(("day", str(tau), [f["ar"][d] for f in fits], [f["ar_var"][d] for f in fits], 1))
    for w_i, w in enumerate(WINDOWS):
        items.append(("window", f"[{w[0]}, {w[1]}]", [f["car"][w_i] for f in fits], [f["car_var"][w_i] for f in fits], w[1] - w[0] + 1))

    # Estimation AAR for BW1985 (days with >= 90% of ARs).
    est_days = list(range(ESTIMATION[0], ESTIMATION[1] + 1))
    aar_est = []
    for tau in est_days:
        vals = [f["resid"][tau] for f in fits if tau in f["resid"]]
        if len(vals) / n >= 0.9:
            aar_est.append(mean(vals))
    sd_aar = stdev(aar_est)

    # Mean residual correlation: rows centred and scaled to unit length, products over common days.
    z = []
    for f in fits:
        mu = mean(list(f["resid"].values()))
        norm = math.sqrt(sum((e - mu) ** 2 for e in f["resid"].values()))
        z.append({t: (e - mu) / norm for t, e in f["resid"].items()})
    pairs = [sum(z[i][t] * z[j][t] for t in z[i] if t in z[j]) for i in range(n) for j in range(n) if i != j]
    rbar = mean(pairs)
    kp_patell = math.sqrt(1 / (1 + (n - 1) * rbar))
    kp_bmp = math.sqrt((1 - rbar) / (1 + (n - 1) * rbar))

    p_hat = mean([sum(1 for e in f["resid"].values() if e > 0) / len(f["resid"]) for f in fits])
    q_sum = sum(f["df"] / (f["df"] - 2) for f in fits)

    # Corrado: ranks over estimation days and the event span per security-event.
    corrado_u = {}
    for f in fits:
        taus = sorted(f["resid"]) + span
        values = [f["resid"][t] for t in sorted(f["resid"])] + f["ar"]
        ranks = average_ranks(values)
        for t, r in zip(taus, ranks):
            corrado_u.setdefault(t, []).append(r / (len(values) + 1) - 0.5)
    d_series = {t: mean(v) for t, v in corrado_u.items()}
    s_k = math.sqrt(mean([d * d for d in d_series.values()]))

    for scope, label, x, var, length in items:
        std = [xi / math.sqrt(vi) for xi, vi in zip(x, var)]
        t_cs = mean(x) / (stdev(x) / math.sqrt(n))
        add("csect_t", scope, label, t_cs, p_t(t_cs, n - 1), n - 1)
        z_bw = sum(x) / math.sqrt(sum(var))
        add("bw1980", scope, label, z_bw, p_normal(z_bw), None)
        t_bw = mean(x) / (math.sqrt(length) * sd_aar)
        add("bw1985", scope, label, t_bw, p_t(t_bw, len(aar_est) - 1), len(aar_est) - 1)
        z_p = sum(std) / math.sqrt(q_sum)
        add("patell", scope, label, z_p, p_normal(z_p), None)
        t_b = mean(std) / (stdev(std) / math.sqrt(n))
        add("bmp", scope, label, t_b, p_t(t_b, n - 1), n - 1)
        add("kp_patell", scope, label, z_p * kp_patell, p_normal(z_p * kp_patell), None)
        add("kp_bmp", scope, label, t_b * kp_bmp, p_t(t_b * kp_bmp, n - 1), n - 1)
        pos = sum(1 for v in x if v > 0)
        z_s = (pos - n / 2) / math.sqrt(n / 4)
        add("sign", scope, label, z_s, p_normal(z_s), None)
        z_g = (pos - n * p_hat) / math.sqrt(n * p_hat * (1 - p_hat))
        add("generalized_sign", scope, label, z_g, p_normal(z_g), None)
        if scope == "day":
            z_c = d_series[int(label)] / s_k
        else:
            lo, hi = (int(v) for v in label.strip("[]").split(","))
            z_c = sum(d_series[t] for t in range(lo, hi + 1)) / (math.sqrt(hi - lo + 1) * s_k)
        add("corrado_rank", scope, label, z_c, p_normal(z_c), None)
        w, p_w = wilcoxon_exact(x)
        add("wilcoxon", scope, label, w, p_w, None)
        t_g, df_g = grank(fits, std)
        add("grank", scope, label, t_g, p_t(t_g, df_g), df_g)
    return rows, {"rbar": rbar, "sd_aar_estimation": sd_aar, "aar_estimation_days": len(aar_est), "p_hat": p_hat}


def main():
    market, returns = make_inputs()
    out = {
        "inputs": {
            "dates": [f"2024-01-{d + 1:02d}" for d in range(N_DAYS)],
            "market": market,
            "returns": returns,
            "events": [{"event_id": e, "timestamp": ts, "security": s} for e, ts, secs, _ in EVENTS for s in secs],
            "estimation_window": list(ESTIMATION),
            "event_windows": [list(w) for w in WINDOWS],
        },
        "models": {},
    }
    day0s = []
    for model in ("market", "mean", "market-adjusted"):
        fits, keys = [], []
        for event_id, _, secs, day0 in EVENTS:
            for s in secs:
                fits.append(security_event(model, returns[s], market, day0))
                keys.append((event_id, s))
                if model == "market":
                    day0s.append((day0, s))
        rows, extras = battery(fits)
        out["models"][model] = {
            "estimation": [
                {"event_id": e, "security": s, **{k: f[k] for k in ("alpha", "beta", "sigma", "r_squared", "n_obs", "df")}}
                for (e, s), f in zip(keys, fits)
            ],
            "ar": [{"event_id": e, "security": s, "ar": f["ar"], "ar_sd": [math.sqrt(v) for v in f["ar_var"]]} for (e, s), f in zip(keys, fits)],
            "car": [
                {"event_id": e, "security": s, "window": f"[{w[0]}, {w[1]}]", "car": f["car"][i], "sd_car": math.sqrt(f["car_var"][i])}
                for (e, s), f in zip(keys, fits)
                for i, w in enumerate(WINDOWS)
            ],
            "tests": rows,
            **extras,
        }
    per_date = {}
    for d, s in day0s:
        per_date.setdefault(d, set()).add(s)
    out["clustering"] = {
        "share_same_period": mean([1.0 if len(per_date[d]) > 1 else 0.0 for d, _ in day0s]),
        "event_periods": len(per_date),
        "largest_cluster": max(len(v) for v in per_date.values()),
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
