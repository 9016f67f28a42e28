"""The steps of :meth:`tracker.analysis.eventstudy.EventStudy.fit`, one function each.

Stack every security-event into blocks of relative periods, fit the normal-return model on
the estimation columns, decide which security-events are left out (and why), compute the
event-span figures of the rest, then gather clustering, settings and arrays for the results.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ...errors import AnalysisError
from . import models
from .battery import BatteryInput
from .blocks import Layout, gather, other_event_mask, same_period_share
from .exclusions import Checks, excluded_frame, exclusion_reasons
from .results import EventStudySettings, StudyArrays
from .windows import DAY, locate_day0, period_name

if TYPE_CHECKING:
    from .study import EventStudy, ExpandedEvents


@dataclass
class Stacked:
    """Every security-event's returns (and benchmark returns) over the layout's relative periods."""

    index: pd.DatetimeIndex
    period: pd.Timedelta
    events: "ExpandedEvents"
    layout: Layout
    day0: np.ndarray          # row of day 0 in ``index`` per security-event, -1 if not located
    located: np.ndarray
    block_r: np.ndarray
    block_m: np.ndarray | None
    bench_column: np.ndarray  # benchmark column per returns column
    bench_names: list[str]
    n_securities: int
    empty_columns: np.ndarray | None = None  # per returns column: not one finite return
    values_r: np.ndarray | None = None    # the aligned panel (periods x securities), for the placebo
    values_m: np.ndarray | None = None    # and the benchmark (periods x benchmark columns)
    names: list[str] | None = None        # the panel's security columns


@dataclass
class EventSpan:
    """Event-span figures of the security-events kept."""

    returns: np.ndarray
    market: np.ndarray | None
    fit: models.ModelFit
    expected: np.ndarray
    battery_input: BatteryInput


def stack(study: "EventStudy", returns: pd.DataFrame, market: pd.DataFrame | None, bench_column: np.ndarray,
          bench_names: list[str], events: "ExpandedEvents", period: pd.Timedelta) -> Stacked:
    index = returns.index
    layout = Layout(study.estimation_window, tuple(study.event_windows))
    day0 = locate_day0(index, period, study.day_boundary, events.timestamp)
    located = day0 >= 0
    rows = np.where(located, day0, 0)
    values_r = returns.to_numpy(dtype=float)
    values_m = None if market is None else market.to_numpy(dtype=float)
    block_r = gather(values_r, rows, events.column, layout.relative)
    block_m = None if market is None else gather(values_m, rows, bench_column[events.column], layout.relative)
    empty = ~np.isfinite(values_r).any(axis=0)
    return Stacked(index, period, events, layout, day0, located, block_r, block_m, bench_column, bench_names,
                   returns.shape[1], empty, values_r, values_m, list(returns.columns))


def estimate(study: "EventStudy", s: Stacked) -> tuple[models.ModelFit, np.ndarray]:
    """The model fitted on each security-event's usable estimation periods, and those periods."""
    est = s.layout.columns(s.layout.estimation)
    r_est = s.block_r[:, est]
    mask = np.isfinite(r_est)
    if s.block_m is not None:
        mask &= np.isfinite(s.block_m[:, est])
    if study.exclude_other_events:
        mask &= ~other_event_mask(np.where(s.located, s.day0, -10**9), s.events.column, len(s.index),
                                  s.n_securities, s.layout)
    mask &= s.located[:, None]
    return models.fit(study.model, r_est, None if s.block_m is None else s.block_m[:, est], mask), mask


def exclusions(study: "EventStudy", s: Stacked, fit: models.ModelFit, mask: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Why each security-event is left out (first reason wins), and which are kept."""
    evt = s.layout.columns(s.layout.event_span)
    r_evt = s.block_r[:, evt]
    missing_event = (~np.isfinite(r_evt)).sum(axis=1)
    if s.block_m is not None:
        missing_event = np.maximum(missing_event, (~np.isfinite(s.block_m[:, evt])).sum(axis=1))
    r_est = s.block_r[:, s.layout.columns(s.layout.estimation)]
    with np.errstate(invalid="ignore", divide="ignore"):
        zero_share = np.where(mask, r_est == 0, False).sum(axis=1) / np.maximum(fit.n_obs, 1)
    excluded_any, reason, detail = exclusion_reasons(
        Checks(
            located=s.located,
            n_obs=fit.n_obs,
            min_obs=study.min_estimation_obs,
            window_length=study.estimation_window.length,
            constant_benchmark=~(fit.s_mm > 0) if study.model == "market" else np.zeros(len(s.day0), dtype=bool),
            zero_share=zero_share,
            max_zero_share=study.max_zero_share,
            sigma2=fit.sigma2,
            missing_event=missing_event,
            span_length=s.layout.event_span.length,
            no_prices=None if s.empty_columns is None else s.empty_columns[s.events.column],
        )
    )
    events = s.events
    excluded = excluded_frame(events.event_id, events.security, events.timestamp, reason, detail, fit.n_obs, excluded_any)
    keep = ~excluded_any
    if not keep.any():
        summary = "; ".join(f"{c} x {r}" for r, c in excluded["reason"].value_counts().items())
        raise AnalysisError(f"no security-event is left to study ({summary})")
    return excluded, keep


def event_span(study: "EventStudy", s: Stacked, fit: models.ModelFit, keep: np.ndarray) -> EventSpan:
    """Abnormal returns, CARs and their variances of the kept security-events."""
    evt = s.layout.columns(s.layout.event_span)
    r_evt = s.block_r[:, evt][keep]
    m_evt = None if s.block_m is None else s.block_m[:, evt][keep]
    sub = subset(fit, keep)
    shape = r_evt.shape
    expected = np.asarray(sub.expected(m_evt, shape), dtype=float)
    ar = r_evt - expected
    ar_variance = sub.sigma2[:, None] * sub.forecast_factor(m_evt, shape)
    span_start = s.layout.event_span.start
    window_columns = [slice(w.start - span_start, w.end - span_start + 1) for w in study.event_windows]
    car = np.stack([ar[:, c].sum(axis=1) for c in window_columns], axis=1)
    car_variance = np.stack(
        [sub.sigma2 * sub.car_factor(None if m_evt is None else m_evt[:, c], w.length) for c, w in zip(window_columns, study.event_windows)],
        axis=1,
    )
    battery_input = BatteryInput(
        ar=ar,
        ar_variance=ar_variance,
        car=car,
        car_variance=car_variance,
        days=np.arange(span_start, s.layout.event_span.end + 1),
        windows=list(study.event_windows),
        window_columns=window_columns,
        residuals=sub.residuals,
        sigma=np.sqrt(sub.sigma2),
        df=sub.df,
    )
    return EventSpan(r_evt, m_evt, sub, expected, battery_input)


def clustering(study: "EventStudy", s: Stacked, keep: np.ndarray, diagnostics: dict) -> dict:
    share, n_periods, largest = same_period_share(s.day0[keep], s.events.column[keep])
    return {
        "share_same_period": share,
        "event_periods": n_periods,
        "largest_cluster": largest,
        "mean_residual_correlation": diagnostics["mean_residual_correlation"],
        "threshold": study.cluster_threshold,
        "clustered": bool(share >= study.cluster_threshold and largest > 1),
    }


def settings(study: "EventStudy", s: Stacked) -> EventStudySettings:
    event_ids = list(dict.fromkeys(s.events.event_id.tolist()))
    bench_names = s.bench_names
    return EventStudySettings(
        model=study.model,
        model_description=models.DESCRIPTIONS[study.model],
        benchmark=", ".join(bench_names) if len(bench_names) <= 3 else "per-security benchmarks",
        return_kind=study.return_kind,
        frequency=period_name(s.period),
        day_boundary=_boundary_text(study.day_boundary) if s.period == DAY else None,
        benchmark_gaps=study.benchmark_gaps if s.block_m is not None else None,
        estimation_window=study.estimation_window.label,
        estimation_length=study.estimation_window.length,
        event_windows=[w.label for w in study.event_windows],
        min_estimation_obs=study.min_estimation_obs,
        max_zero_share=study.max_zero_share,
        exclude_other_events=study.exclude_other_events,
        n_events=len(event_ids),
        event_ids=event_ids,
        first_period=s.index[0],
        last_period=s.index[-1],
        sources=study.sources,
        alpha=study.alpha,
        primary_window=study.event_windows[0].label,
        placebo_range=study.placebo.label if study.placebo is not None else None,
        calendar_time=study.calendar_time,
        portfolio_weights=study.portfolio_weights if study.calendar_time else None,
    )


def arrays(study: "EventStudy", s: Stacked, span: EventSpan, keep: np.ndarray) -> StudyArrays:
    b, sub = span.battery_input, span.fit
    events = s.events
    return StudyArrays(
        event_id=events.event_id[keep],
        security=events.security[keep],
        benchmark=np.asarray(s.bench_names, dtype=object)[s.bench_column[events.column[keep]]].astype(str),
        event_time=events.timestamp.to_numpy()[keep],
        day0=s.day0[keep],
        index=s.index,
        days=b.days,
        returns=span.returns,
        market=np.full(span.returns.shape, np.nan) if span.market is None else span.market,
        expected=span.expected,
        ar=b.ar,
        ar_variance=b.ar_variance,
        windows=list(study.event_windows),
        car=b.car,
        car_variance=b.car_variance,
        alpha=sub.alpha,
        beta=sub.beta,
        sigma=b.sigma,
        r_squared=sub.r_squared,
        n_obs=sub.n_obs,
        df=sub.df,
    )


def _boundary_text(offset: pd.Timedelta) -> str:
    minutes = int(offset.total_seconds() // 60) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def subset(fit: models.ModelFit, keep: np.ndarray) -> models.ModelFit:
    """The fit of the security-events ``keep`` selects."""
    def pick(values):
        return values[keep] if isinstance(values, np.ndarray) and values.shape[:1] == keep.shape else values

    return models.ModelFit(
        fit.model,
        pick(fit.alpha),
        pick(fit.beta),
        pick(fit.sigma2),
        pick(fit.n_obs),
        pick(fit.df),
        pick(fit.r_squared),
        pick(fit.mean_market),
        pick(fit.s_mm),
        fit.residuals[keep],
    )
