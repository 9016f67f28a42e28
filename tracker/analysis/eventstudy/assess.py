"""After the battery: flags, the placebo, the calendar-time regression, the diagnostics and the
verdict of each window, gathered for :class:`.results.EventStudyResults`."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import diagnostics as diag
from . import evidence, fitting
from . import nonparametric_statistics as nonpar
from . import parametric_statistics as par
from .blocks import gather
from .calendar_time import calendar_time
from .placebo import PlaceboResults, run_placebo

if TYPE_CHECKING:
    from .fitting import EventSpan, Stacked
    from .study import EventStudy


@dataclass
class Assessment:
    tests: pd.DataFrame
    verdicts: pd.DataFrame
    evidence: pd.DataFrame
    placebo: PlaceboResults | None
    calendar_time: pd.DataFrame | None
    diagnostics_table: pd.DataFrame


def assess(study: "EventStudy", s: "Stacked", span: "EventSpan", keep: np.ndarray, tests: pd.DataFrame,
           clustered: bool, rbar: float) -> Assessment:
    """Everything after the battery, for the security-events ``keep`` selects (``rbar``: the
    battery's mean residual correlation)."""
    b = span.battery_input
    alpha = study.alpha
    labels = [w.label for w in b.windows]
    with np.errstate(invalid="ignore", divide="ignore"):
        day_ratio, day_p = evidence.variance_ratio(b.ar / np.sqrt(b.ar_variance))
        win_ratio, win_p = evidence.variance_ratio(b.car / np.sqrt(b.car_variance))
    tests = evidence.flag_tests(tests, dict(zip([str(d) for d in b.days], day_p)), dict(zip(labels, win_p)), alpha)
    placebo = run_placebo(study, s, keep, study.placebo) if study.placebo is not None else None
    ct = (calendar_time(s, keep, study.estimation_window, b.windows, study.portfolio_weights, study.caps)
          if study.calendar_time else None)
    caar = pd.Series(b.car.mean(axis=0), index=labels)
    verdicts, detail = evidence.verdicts(tests, caar, labels, clustered, alpha,
                                         placebo.p_values() if placebo is not None else None)
    rows = diag.variance_rows(labels, win_ratio, win_p, alpha)
    if study.diagnostics:
        rows.append(diag.drift_row(_drift(study, s, span, keep, clustered, rbar), alpha))
        rows += diag.residual_rows(b.residuals, alpha)
        rows.append(diag.overlap_row(_studied(s, keep), study.calendar, study.layout_span, s.period))
        rows += _benchmark(study, s, keep)
    return Assessment(tests, verdicts, detail, placebo, ct, diag.table(rows))


def _studied(s: "Stacked", keep: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"event_id": s.events.event_id[keep], "timestamp": s.events.timestamp[keep]})


def _drift(study: "EventStudy", s: "Stacked", span: "EventSpan", keep: np.ndarray, clustered: bool, rbar: float):
    """(CAAR over [-10, -2], {lead test: p}) with the study's own fit, or why not.

    The window lies between the estimation window and the event windows, so the fitted model
    applies as it is: the ARs, the CAR variances and the lead tests are computed exactly as the
    battery would for a study with [-10, -2] as its window, on the security-events kept that
    have every return in it, without a second fit.
    """
    window = diag.DRIFT
    if study.estimation_window.overlaps(window):
        return f"{window.label} overlaps the estimation window {study.estimation_window.label}"
    relative = np.arange(window.start, window.end + 1)
    day0, column = s.day0[keep], s.events.column[keep]
    r = gather(s.values_r, day0, column, relative)
    m = None if s.values_m is None else gather(s.values_m, day0, s.bench_column[column], relative)
    ok = np.isfinite(r).all(axis=1) & (True if m is None else np.isfinite(m).all(axis=1))
    if ok.sum() < 2:
        return f"not computed: fewer than two security-events have every return in {window.label}"
    fit = fitting.subset(span.fit, ok)
    m_ok = None if m is None else m[ok]
    car = (r[ok] - np.asarray(fit.expected(m_ok, r[ok].shape), dtype=float)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scar = car / np.sqrt(fit.sigma2 * fit.car_factor(m_ok, window.length))
        bmp, df = par.cross_sectional_t(scar[:, None])
        # Every kept security-event has the window's returns (the usual case): reuse the battery's
        # mean residual correlation and ranks.
        reuse = ok.all() and span.battery_input.grank is not None
        if clustered:
            rbar = rbar if reuse else par.average_residual_correlation(fit.residuals)
            bmp = bmp * par.kolari_pynnonen_factor(rbar, int(ok.sum()), patell=False)
        grank = span.battery_input.grank if reuse else nonpar.GeneralizedRank(fit.residuals / np.sqrt(fit.sigma2)[:, None])
        g = grank(scar)
    first, second = evidence.lead_names(clustered)  # (KP-)BMP, GRANK
    p = {first: float(par.p_t(bmp, df)[0]), second: float(par.p_t(np.array([g[0]]), g[2])[0])}
    return float(car.mean()), {evidence.LABELS[name]: value for name, value in p.items()}


def _benchmark(study: "EventStudy", s: "Stacked", keep: np.ndarray) -> list[dict]:
    """The benchmark's day-0 move per event, then each reference market's."""
    day0 = s.day0[keep]
    est = np.arange(study.estimation_window.start, study.estimation_window.end + 1)
    ids = s.events.event_id[keep]
    rows = []
    if s.values_m is not None:
        bench = s.bench_column[s.events.column[keep]]
        rows += diag.benchmark_rows(ids, gather(s.values_m, day0, bench, np.array([0]))[:, 0], gather(s.values_m, day0, bench, est))
    if study.references is not None:
        values = study.references.reindex(s.index).to_numpy(dtype=float)
        for j, name in enumerate(study.references.columns):
            column = np.full(len(day0), j)
            rows += diag.benchmark_rows(ids, gather(values, day0, column, np.array([0]))[:, 0], gather(values, day0, column, est), name)
    return rows
