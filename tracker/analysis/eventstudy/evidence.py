"""How strong the evidence is: the lead tests, Holm-adjusted p-values, a verdict per window.

The lead tests are the ones robust to event-induced variance: the Kolari-Pynnonen adjusted
BMP and GRANK when events are clustered (they survive cross-correlation too), BMP and GRANK
otherwise. With the placebo p (:mod:`.placebo`) when it was run, they decide each window's
verdict:

* ``robust``: every one of them is below alpha;
* ``mixed``: some are;
* ``none``: none is (an undefined p-value, e.g. with a single security, counts as not below).

Tests whose variance comes from the estimation window (BW1980, BW1985, Patell, KP-Patell,
Corrado) are flagged "assumes no event-induced variance" on every row where the
cross-sectional variance of the standardized values rose significantly above 1.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..pvalues import p_rounded

DEFAULT_ALPHA = 0.05
VERDICTS = ("robust", "mixed", "none")
LABELS = {"kp_bmp": "KP-BMP", "bmp": "BMP", "grank": "GRANK", "placebo": "placebo"}
FLAG = "assumes no event-induced variance"
# Tests that take their variance from the estimation window alone.
ASSUMES_NO_EVENT_VARIANCE = ("bw1980", "bw1985", "patell", "kp_patell", "corrado_rank")
VERDICT_COLUMNS = ["window", "primary", "verdict", "caar", "largest_p", "components", "below_alpha", "finding"]
EVIDENCE_COLUMNS = ["window", "component", "p_value", "p_holm", "below_alpha"]


def lead_names(clustered: bool) -> tuple[str, str]:
    """The two lead tests: KP-BMP and GRANK when events are clustered, else BMP and GRANK."""
    return ("kp_bmp", "grank") if clustered else ("bmp", "grank")


def holm(p_values) -> np.ndarray:
    """Holm's step-down adjustment; NaN p-values stay NaN and do not count as hypotheses."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    finite = np.flatnonzero(np.isfinite(p))
    m = len(finite)
    if m == 0:
        return out
    order = finite[np.argsort(p[finite], kind="stable")]
    scaled = np.minimum(1.0, (m - np.arange(m)) * p[order])
    out[order] = np.maximum.accumulate(scaled)
    return out


def variance_ratio(standardized: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cross-sectional variance of standardized ARs or CARs per column, and the one-sided p
    of a chi-square test that it exceeds 1: (N - 1) s^2 ~ chi2(N - 1) under no event-induced
    variance (standardized values of unit variance)."""
    values = np.asarray(standardized, dtype=float)
    n = values.shape[0]
    if n < 2:
        nan = np.full(values.shape[1], np.nan)
        return nan, nan
    ratio = values.var(axis=0, ddof=1)
    return ratio, stats.chi2.sf((n - 1) * ratio, n - 1)


def flag_tests(tests: pd.DataFrame, day_ratio_p: dict, window_ratio_p: dict, alpha: float) -> pd.DataFrame:
    """Add ``assumes_no_event_variance`` (from the registry) and ``flag`` (set where the
    variance diagnostic of the row's day or window says variance rose)."""
    tests = tests.copy()
    assumes = tests["test"].isin(ASSUMES_NO_EVENT_VARIANCE).to_numpy()
    lookup = np.array([
        (window_ratio_p if scope == "window" else day_ratio_p).get(label, np.nan)
        for scope, label in zip(tests["scope"], tests["window"])
    ], dtype=float)
    rose = np.nan_to_num(lookup, nan=1.0) < alpha
    tests["assumes_no_event_variance"] = assumes
    tests["flag"] = np.where(assumes & rose, FLAG, "")
    return tests


def format_p(p: float, alpha: float = DEFAULT_ALPHA) -> str:
    """``p = 0.04`` style: two decimals, three below 0.01, ``p < 0.001`` below that; more where
    rounding would carry p across ``alpha`` (0.0496 stays 0.0496, never 0.05 beside a verdict
    that counts it below 5%)."""
    if p is None or not np.isfinite(p):
        return "p = n/a"
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p_rounded(p, 3 if p < 0.01 else 2, alpha=alpha)}"


def finding(verdict: str, components: list[tuple[str, float]], alpha: float = DEFAULT_ALPHA) -> str:
    """'mixed evidence: placebo p = 0.04, KP-BMP p = 0.10, GRANK p = 0.10'."""
    head = "no evidence" if verdict == "none" else f"{verdict} evidence"
    return head + ": " + ", ".join(f"{LABELS.get(name, name)} {format_p(p, alpha)}" for name, p in components)


def verdicts(tests: pd.DataFrame, caar: pd.Series, windows: list[str], clustered: bool, alpha: float,
             placebo_p: dict | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The verdict per window and the p-values it rests on, raw and Holm-adjusted across windows.

    Parameters
    ----------
    tests : DataFrame
        The battery (window rows are used).
    caar : Series
        CAAR by window label.
    windows : list of str
        Window labels, the primary first.
    placebo_p : dict, optional
        Placebo p by window label, when the placebo was run.

    Returns
    -------
    (verdicts, evidence)
        One row per window (``window``, ``primary``, ``verdict``, ``caar``, ``largest_p``,
        ``components``, ``below_alpha``, ``finding``), and one row per window and component
        (``p_value``, ``p_holm``, ``below_alpha``).
    """
    rows = tests[tests["scope"] == "window"].set_index(["test", "window"])["p_value"]
    names = (["placebo"] if placebo_p is not None else []) + list(lead_names(clustered))
    p = {name: np.array([placebo_p.get(w, np.nan) if name == "placebo" else rows.get((name, w), np.nan) for w in windows],
                        dtype=float) for name in names}
    adjusted = {name: holm(values) for name, values in p.items()}
    evidence = pd.DataFrame(
        [{"window": w, "component": name, "p_value": p[name][j], "p_holm": adjusted[name][j],
          "below_alpha": bool(p[name][j] < alpha)} for j, w in enumerate(windows) for name in names],
        columns=EVIDENCE_COLUMNS,
    )
    out = []
    for j, w in enumerate(windows):
        values = [p[name][j] for name in names]
        below = sum(bool(v < alpha) for v in values)
        verdict = "robust" if below == len(names) else "mixed" if below else "none"
        finite = [v for v in values if np.isfinite(v)]
        out.append({
            "window": w, "primary": j == 0, "verdict": verdict, "caar": float(caar.get(w, np.nan)),
            "largest_p": max(finite) if len(finite) == len(values) else np.nan,
            "components": ", ".join(LABELS[n] for n in names), "below_alpha": below,
            "finding": finding(verdict, list(zip(names, values)), alpha),
        })
    return pd.DataFrame(out, columns=VERDICT_COLUMNS), evidence
