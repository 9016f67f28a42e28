"""Which assumptions move the estimate most, and how the peak responds to adoption and utilization.

The tornado varies one assumption at a time over its documented range (``low``/``high`` in
``config/gpu.toml``) with every other at its current value. The grid scales the scenario's AI
shares (each capped at 100%) against the inference utilization.
"""
from __future__ import annotations

import dataclasses
from typing import Sequence

import pandas as pd

from ...errors import InputError
from . import model
from .assumptions import NAMES, Assumptions, AssumptionSet
from .model import ARTICLE, METRICS, OUTPUT_FIELDS
from .results import SensitivityResult

DEFAULT_ADOPTION = (0.25, 0.5, 1.0, 2.0, 4.0)
DEFAULT_UTILIZATION = (0.25, 0.5, 0.75, 1.0)


def check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; choose one of: {', '.join(METRICS)}")
    return metric


def metric_value(a: Assumptions, metric: str, arithmetic: str = ARTICLE) -> float:
    return float(getattr(model.compute(a, arithmetic), metric))


def tornado(assumptions: AssumptionSet, metric: str = "peak_h100", arithmetic: str = ARTICLE) -> pd.DataFrame:
    """One row per assumption with a range: the metric at its low and high end, sorted by swing.

    Assumptions that do not feed the metric (e.g. training inputs for the peak) keep a row with
    a swing of 0, which says so.
    """
    check_metric(metric)
    base_values = assumptions.values
    base = metric_value(base_values, metric, arithmetic)
    rows = []
    for name in NAMES:
        info = assumptions.info[name]
        if not info.has_range:
            continue
        at_low = metric_value(dataclasses.replace(base_values, **{name: info.low}), metric, arithmetic)
        at_high = metric_value(dataclasses.replace(base_values, **{name: info.high}), metric, arithmetic)
        swing = abs(at_high - at_low)
        rows.append(
            {
                "assumption": name,
                "unit": info.unit,
                "value": getattr(base_values, name),
                "low": info.low,
                "high": info.high,
                "metric_at_low": at_low,
                "metric_at_high": at_high,
                "swing": swing,
                "swing_pct_of_base": 100.0 * swing / base if base else float("nan"),
                "range_note": info.range_note,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values(["swing", "assumption"], ascending=[False, True], kind="stable").reset_index(drop=True)


def scale_adoption(a: Assumptions, multiplier: float) -> Assumptions:
    """The scenario with every platform's AI share times ``multiplier``, each capped at 100%."""
    return dataclasses.replace(
        a,
        tiktok_ai_share=min(1.0, a.tiktok_ai_share * multiplier),
        youtube_ai_share=min(1.0, a.youtube_ai_share * multiplier),
    )


def _check_axis(name: str, values: Sequence[float], *, maximum: float | None) -> tuple[float, ...]:
    if not values:
        raise InputError(f"{name} needs at least one value")
    for value in values:
        if not value > 0 or (maximum is not None and value > maximum):
            limit = f" and at most {maximum:g}" if maximum is not None else ""
            raise InputError(f"{name} value {value:g} is not allowed: each must be greater than 0{limit}")
    return tuple(sorted(set(float(v) for v in values)))


def grid(
    assumptions: AssumptionSet,
    adoption: Sequence[float] = DEFAULT_ADOPTION,
    utilization: Sequence[float] = DEFAULT_UTILIZATION,
    arithmetic: str = ARTICLE,
) -> pd.DataFrame:
    """Tidy grid: one row per (adoption multiplier, inference utilization) with the fleet it needs."""
    adoption = _check_axis("adoption", adoption, maximum=None)
    utilization = _check_axis("utilization", utilization, maximum=1.0)
    rows = []
    for multiplier in adoption:
        scaled = scale_adoption(assumptions.values, multiplier)
        for mfu in utilization:
            a = dataclasses.replace(scaled, inference_mfu=mfu)
            average = model.average_h100(a, arithmetic)
            rows.append(
                {
                    "adoption_multiplier": multiplier,
                    "ai_minutes_per_day": model.ai_minutes_per_day(a),
                    "inference_mfu": mfu,
                    "average_h100": average,
                    "peak_h100": average * a.peak_factor,
                    "peak_share_of_2023_shipments": average * a.peak_factor / a.h100_shipments_2023,
                }
            )
    return pd.DataFrame(rows)


def sensitivity(
    assumptions: AssumptionSet,
    metric: str = "peak_h100",
    adoption: Sequence[float] = DEFAULT_ADOPTION,
    utilization: Sequence[float] = DEFAULT_UTILIZATION,
    arithmetic: str = ARTICLE,
) -> SensitivityResult:
    """The tornado for ``metric`` and the adoption x utilization grid, at the given assumptions."""
    model.check_arithmetic(arithmetic)
    return SensitivityResult(
        metric=check_metric(metric),
        unit=OUTPUT_FIELDS[metric]["unit"],
        base=metric_value(assumptions.values, metric, arithmetic),
        arithmetic=arithmetic,
        tornado=tornado(assumptions, metric, arithmetic),
        grid=grid(assumptions, adoption, utilization, arithmetic),
    )


__all__ = ["DEFAULT_ADOPTION", "DEFAULT_UTILIZATION", "check_metric", "grid", "scale_adoption", "sensitivity", "tornado"]
