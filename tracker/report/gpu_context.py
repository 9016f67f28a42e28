"""GPU-demand context for a report, from :mod:`tracker.analysis.gpu` (the Factorial Funds Sora model).

The report does not study GPUs; it puts the tokens' moves beside the hardware arithmetic the
Sora story rests on: how many H100s Sora-style video would need, against Nvidia's shipments
and the consumer GPUs of decentralised networks such as Render and Akash. Every assumption
is listed with its unit and source, and overrides (``--gpu-set``) are marked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import pandas as pd

from ..analysis.gpu import Estimate, estimate, load_assumptions, sensitivity, tornado_figure
from ..analysis.gpu.sensitivity_charts import h100_references

# The outputs the report quotes, in reading order; the full table goes to JSON and CSV.
HEADLINE = (
    "training_h100_months_low",
    "training_h100_months_high",
    "gpu_minutes_per_video_minute",
    "video_minutes_per_gpu_hour",
    "break_even_minutes_low",
    "break_even_minutes_high",
    "ai_minutes_per_day",
    "average_h100",
    "peak_h100",
    "peak_share_of_2023_shipments",
    "peak_multiple_of_big3",
    "peak_rtx4090_equivalent",
    "model_weights_gb",
    "rtx4090_cards_to_hold_weights",
    "peak_megawatts",
)


@dataclass
class GpuOutcome:
    estimate: Estimate
    outputs: pd.DataFrame
    assumptions: pd.DataFrame
    tornado: pd.DataFrame
    figure: object

    @property
    def headline(self) -> pd.DataFrame:
        frame = self.outputs.set_index("output").loc[[h for h in HEADLINE if h in set(self.outputs["output"])]]
        return frame.reset_index()


def gpu_context(overrides: Mapping[str, object] | None = None) -> GpuOutcome:
    """The estimate with ``overrides``, its assumptions and the tornado of what moves the peak most."""
    assumptions = load_assumptions(None, dict(overrides or {}))
    result = estimate(assumptions)
    spread = sensitivity(assumptions, "peak_h100")
    figure = tornado_figure(spread, top=8, references=h100_references(assumptions.values))
    frame = assumptions.frame()[["name", "value", "unit", "overridden", "tag", "source", "description"]]
    return GpuOutcome(result, result.outputs_frame(), frame.reset_index(drop=True), spread.tornado, figure)
