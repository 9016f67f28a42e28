"""The article's published figures and how close a reproduction must come to each.

Tolerances are those argued in ../shared/gpu/FACTORIAL-MODEL.md section 3: the training
counts are exact to 0.1%, the break-even pair sits at a rounding edge (0.5%), "about 5" and
"about 12" are 5.03 and 11.93 (2%), and the 720k peak rests on an implied 8x factor (2%).
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .model import Outputs


@dataclass(frozen=True)
class PublishedFigure:
    output: str  # the Outputs field it is compared with
    value: float
    tolerance: float  # relative: 0.001 = 0.1%
    quote: str


PUBLISHED: tuple[PublishedFigure, ...] = (
    PublishedFigure("training_h100_months_low", 4_211, 0.001, "4,211 H100 for one month (low)"),
    PublishedFigure("training_h100_months_high", 10_528, 0.001, "10,528 H100 for one month (high)"),
    PublishedFigure("video_minutes_per_gpu_hour", 5, 0.02, "at most about 5 minutes of video per H100-hour"),
    PublishedFigure("gpu_minutes_per_video_minute", 12, 0.02, "a one-minute video in about 12 minutes"),
    PublishedFigure("break_even_minutes_low", 15.3e6, 0.005, "break-even after 15.3M minutes (low)"),
    PublishedFigure("break_even_minutes_high", 38.1e6, 0.005, "break-even after 38.1M minutes (high)"),
    PublishedFigure("ai_minutes_per_day", 10.7e6, 0.005, "10.7M AI video-minutes per day"),
    PublishedFigure("average_h100", 89_000, 0.01, "10.7M / 120 = 89k H100 on average"),
    PublishedFigure("peak_h100", 720_000, 0.02, "about 720k H100 at peak"),
)

BY_OUTPUT = {figure.output: figure for figure in PUBLISHED}


def reproduction(outputs: Outputs) -> pd.DataFrame:
    """One row per published figure: the computed value, its deviation, and whether it is within tolerance."""
    rows = []
    for figure in PUBLISHED:
        computed = getattr(outputs, figure.output)
        deviation = computed / figure.value - 1.0
        rows.append(
            {
                "output": figure.output,
                "published": figure.value,
                "computed": computed,
                "deviation_pct": 100.0 * deviation,
                "tolerance_pct": 100.0 * figure.tolerance,
                "within": abs(deviation) <= figure.tolerance,
                "article": figure.quote,
            }
        )
    return pd.DataFrame(rows)


__all__ = ["BY_OUTPUT", "PUBLISHED", "PublishedFigure", "reproduction"]
