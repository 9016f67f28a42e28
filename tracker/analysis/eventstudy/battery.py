"""The full test battery on a fitted study, as one tidy table.

Every test runs per relative day of the event span (on AARs) and per event window (on CAARs),
with a two-sided p-value and the distribution it is referred to. The registry says which
tests survive cross-correlation between security-events that share calendar dates.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import nonparametric_statistics as nonpar
from . import parametric_statistics as par


@dataclass(frozen=True)
class TestInfo:
    name: str
    title: str
    robust: bool
    why: str


TESTS: dict[str, TestInfo] = {
    t.name: t
    for t in (
        TestInfo("csect_t", "Cross-sectional t", False, "cross-sectional sd assumes independent security-events"),
        TestInfo("bw1980", "Brown-Warner 1980 (independence)", False, "sums variances as if security-events were independent"),
        TestInfo("bw1985", "Brown-Warner 1985 crude dependence", True, "sd of the portfolio AAR over the estimation window carries the cross-correlation"),
        TestInfo("patell", "Patell (forecast-error corrected)", False, "theoretical variance assumes independent security-events"),
        TestInfo("bmp", "Boehmer-Musumeci-Poulsen", False, "cross-sectional sd assumes independent security-events"),
        TestInfo("kp_patell", "Kolari-Pynnonen adjusted Patell", True, "scaled by the mean residual correlation"),
        TestInfo("kp_bmp", "Kolari-Pynnonen adjusted BMP", True, "scaled by the mean residual correlation"),
        TestInfo("sign", "Sign", False, "counts signs as independent draws"),
        TestInfo("generalized_sign", "Generalized sign (Cowan)", False, "counts signs as independent draws"),
        TestInfo("corrado_rank", "Corrado rank", True, "sd of the mean rank over time carries the cross-correlation"),
        TestInfo("wilcoxon", "Wilcoxon signed-rank", False, "ranks security-events as independent draws"),
        TestInfo("grank", "Generalized rank GRANK-T (Kolari-Pynnonen 2011)", True, "sd of the mean rank over time carries the cross-correlation"),
    )
}
ROBUST_TESTS = tuple(name for name, info in TESTS.items() if info.robust)

NORMAL = "N(0,1)"
COLUMNS = [
    "test", "scope", "window", "start", "end", "estimate", "statistic", "p_value",
    "distribution", "df", "n", "robust_to_cross_correlation",
]


@dataclass
class BatteryInput:
    """Everything the tests need, for the N included security-events."""

    ar: np.ndarray            # (N, D) abnormal returns over the event span
    ar_variance: np.ndarray   # (N, D) sigma^2 * FEC
    car: np.ndarray           # (N, W)
    car_variance: np.ndarray  # (N, W) sigma^2 * car_factor
    days: np.ndarray          # (D,) relative periods of the event span
    windows: list             # W Window objects
    window_columns: list      # W slices into the event span
    residuals: np.ndarray     # (N, M) estimation ARs, NaN where unused
    sigma: np.ndarray         # (N,)
    df: np.ndarray            # (N,) degrees of freedom of sigma^2
    grank: object = None      # the GRANK ranks of the estimation SARs, kept by the battery for the diagnostics


class _Table:
    """Rows of the test table, gathered column by column and turned into one frame at the end."""

    def __init__(self):
        self.columns: dict[str, list] = {name: [] for name in COLUMNS}

    def add(self, name: str, scope: str, labels, starts, ends, estimate, statistic, p, distribution, df, n) -> None:
        count = len(labels)
        c = self.columns
        c["test"] += [name] * count
        c["scope"] += [scope] * count
        c["window"] += list(labels)
        c["start"] += list(starts)
        c["end"] += list(ends)
        c["estimate"] += list(np.asarray(estimate, dtype=float))
        c["statistic"] += list(np.asarray(statistic, dtype=float))
        c["p_value"] += list(np.asarray(p, dtype=float))
        c["distribution"] += [distribution] * count if isinstance(distribution, str) else list(distribution)
        c["df"] += list(np.broadcast_to(np.asarray(df, dtype=float), (count,)))
        c["n"] += [n] * count
        c["robust_to_cross_correlation"] += [TESTS[name].robust] * count

    def frame(self) -> pd.DataFrame:
        table = pd.DataFrame(self.columns, columns=COLUMNS)
        return table.astype({"start": "int64", "end": "int64", "n": "int64", "robust_to_cross_correlation": bool})


def run_battery(data: BatteryInput) -> tuple[pd.DataFrame, dict]:
    """Run every test for every day of the event span and every window.

    Returns
    -------
    (tests, extras)
        The tidy table and the intermediate figures the results report (mean residual
        correlation, sd of the estimation AAR, Cowan's p-hat, rank series length).
    """
    rows = _Rows(data)
    aar_estimation, rbar = _parametric(data, rows)
    p_hat, rank_periods, grank_periods = _nonparametric(data, rows)
    extras = {
        "mean_residual_correlation": rbar,
        "estimation_aar_sd": float(aar_estimation.std(ddof=1)) if len(aar_estimation) > 1 else float("nan"),
        "estimation_aar_periods": int(len(aar_estimation)),
        "positive_share_estimation": p_hat,
        "rank_periods": rank_periods,
        "grank_periods": grank_periods,
    }
    return rows.table.frame(), extras


class _Rows:
    """The battery's table, with the day and window figures every test's rows share."""

    def __init__(self, data: BatteryInput):
        self.n = data.ar.shape[0]
        self.aar = data.ar.mean(axis=0)
        self.caar = data.car.mean(axis=0)
        self.sar = data.ar / np.sqrt(data.ar_variance)
        self.scar = data.car / np.sqrt(data.car_variance)
        self.lengths = np.array([w.length for w in data.windows], dtype=float)
        self.day = dict(labels=[str(d) for d in data.days], starts=data.days, ends=data.days, estimate=self.aar)
        self.win = dict(labels=[w.label for w in data.windows], starts=[w.start for w in data.windows],
                        ends=[w.end for w in data.windows], estimate=self.caar)
        self.table = _Table()

    def add(self, name: str, statistic_day, statistic_win, p_day, p_win, distribution, df_day, df_win) -> None:
        win, day, n = self.win, self.day, self.n
        self.table.add(name, "window", win["labels"], win["starts"], win["ends"], win["estimate"], statistic_win, p_win, distribution, df_win, n)
        self.table.add(name, "day", day["labels"], day["starts"], day["ends"], day["estimate"], statistic_day, p_day, distribution, df_day, n)


def _parametric(data: BatteryInput, rows: _Rows) -> tuple[np.ndarray, float]:
    """The parametric tests; returns the estimation-period AAR and the mean residual correlation."""
    add, aar, caar, sar, scar = rows.add, rows.aar, rows.caar, rows.sar, rows.scar
    # Cross-sectional t on AR and CAR.
    t_day, df_cs = par.cross_sectional_t(data.ar)
    t_win, _ = par.cross_sectional_t(data.car)
    add("csect_t", t_day, t_win, par.p_t(t_day, df_cs), par.p_t(t_win, df_cs), f"t({df_cs})", df_cs, df_cs)

    z_day = par.brown_warner_1980(data.ar, data.ar_variance)
    z_win = par.brown_warner_1980(data.car, data.car_variance)
    add("bw1980", z_day, z_win, par.p_normal(z_day), par.p_normal(z_win), NORMAL, np.nan, np.nan)

    aar_estimation = par.estimation_aar(data.residuals)
    t_day, df_bw = par.brown_warner_1985(aar_estimation, aar, np.ones(len(aar)))
    t_win, _ = par.brown_warner_1985(aar_estimation, caar, rows.lengths)
    add("bw1985", t_day, t_win, par.p_t(t_day, df_bw), par.p_t(t_win, df_bw), f"t({df_bw})", df_bw, df_bw)

    q = par.t_variance(data.df)
    patell_day = par.patell(sar, q)
    patell_win = par.patell(scar, q)
    add("patell", patell_day, patell_win, par.p_normal(patell_day), par.p_normal(patell_win), NORMAL, np.nan, np.nan)

    bmp_day, df_bmp = par.cross_sectional_t(sar)
    bmp_win, _ = par.cross_sectional_t(scar)
    add("bmp", bmp_day, bmp_win, par.p_t(bmp_day, df_bmp), par.p_t(bmp_win, df_bmp), f"t({df_bmp})", df_bmp, df_bmp)

    rbar = par.average_residual_correlation(data.residuals)
    kp_p = par.kolari_pynnonen_factor(rbar, rows.n, patell=True)
    kp_b = par.kolari_pynnonen_factor(rbar, rows.n, patell=False)
    add("kp_patell", patell_day * kp_p, patell_win * kp_p, par.p_normal(patell_day * kp_p), par.p_normal(patell_win * kp_p), NORMAL, np.nan, np.nan)
    add("kp_bmp", bmp_day * kp_b, bmp_win * kp_b, par.p_t(bmp_day * kp_b, df_bmp), par.p_t(bmp_win * kp_b, df_bmp), f"t({df_bmp})", df_bmp, df_bmp)
    return aar_estimation, rbar


def _nonparametric(data: BatteryInput, rows: _Rows) -> tuple[float, int, int]:
    """The nonparametric tests; returns Cowan's p-hat and the rank series lengths."""
    add, day, win, n = rows.add, rows.day, rows.win, rows.n
    z_day, z_win = nonpar.sign_test(data.ar), nonpar.sign_test(data.car)
    add("sign", z_day, z_win, par.p_normal(z_day), par.p_normal(z_win), NORMAL, np.nan, np.nan)

    p_hat = nonpar.positive_share(data.residuals)
    z_day, z_win = nonpar.generalized_sign(data.ar, p_hat), nonpar.generalized_sign(data.car, p_hat)
    add("generalized_sign", z_day, z_win, par.p_normal(z_day), par.p_normal(z_win), NORMAL, np.nan, np.nan)

    combined = np.concatenate([data.residuals, data.ar], axis=1)
    event_columns = slice(data.residuals.shape[1], combined.shape[1])
    shifted = [slice(event_columns.start + c.start, event_columns.start + c.stop) for c in data.window_columns]
    z_day, z_win, rank_periods = nonpar.corrado_rank(combined, event_columns, shifted)
    add("corrado_rank", z_day, z_win, par.p_normal(z_day), par.p_normal(z_win), NORMAL, np.nan, np.nan)

    w_day = [nonpar.wilcoxon_signed_rank(data.ar[:, j]) for j in range(data.ar.shape[1])]
    w_win = [nonpar.wilcoxon_signed_rank(data.car[:, j]) for j in range(data.car.shape[1])]
    rows.table.add("wilcoxon", "window", win["labels"], win["starts"], win["ends"], rows.caar, [w[0] for w in w_win], [w[1] for w in w_win], [w[3] for w in w_win], np.nan, n)
    rows.table.add("wilcoxon", "day", day["labels"], day["starts"], day["ends"], rows.aar, [w[0] for w in w_day], [w[1] for w in w_day], [w[3] for w in w_day], np.nan, n)

    grank = data.grank = nonpar.GeneralizedRank(data.residuals / data.sigma[:, None])
    g_day = [grank(rows.sar[:, j]) for j in range(rows.sar.shape[1])]
    g_win = [grank(rows.scar[:, j]) for j in range(rows.scar.shape[1])]
    df_g = grank.T - 2
    add(
        "grank",
        [g[0] for g in g_day], [g[0] for g in g_win],
        par.p_t(np.array([g[0] for g in g_day]), df_g), par.p_t(np.array([g[0] for g in g_win]), df_g),
        f"t({df_g})", df_g, df_g,
    )
    return p_hat, rank_periods, grank.T
