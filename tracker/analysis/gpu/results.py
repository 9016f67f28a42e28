"""Estimate and sensitivity results as tidy frames, notes for the reader, and JSON.

The CLI prints these sections; the report reuses them (``Estimate.outputs_frame()``,
``Estimate.notes``) beside a chart from :mod:`tracker.analysis.gpu.sensitivity_charts`.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pandas as pd

from ..output import render_sections, to_json
from ..results import AnalysisResults, Settings
from . import model
from .assumptions import Assumptions, AssumptionSet
from .model import ARTICLE, OUTPUT_FIELDS, Outputs
from .published import BY_OUTPUT, reproduction

# The article's own YouTube figures (FACTORIAL-MODEL.md 3.3), quoted in the note whatever is set.
ARTICLE_YOUTUBE_SHARE = 0.15
ARTICLE_YOUTUBE_MINUTES = 43e6
ARTICLE_TOTAL_AI_MINUTES = 10.7e6
ARTICLE_TIKTOK_AI_MINUTES = 8.5e6


def _millions(minutes: float) -> str:
    return f"{minutes / 1e6:.2f}M"


def youtube_note(a: Assumptions, arithmetic: str = ARTICLE) -> str:
    """The article's YouTube-share inconsistency, and what the stated share would give here."""
    stated = ARTICLE_YOUTUBE_MINUTES * ARTICLE_YOUTUBE_SHARE
    implied = ARTICLE_TOTAL_AI_MINUTES - ARTICLE_TIKTOK_AI_MINUTES
    head = (
        f"YouTube share inconsistency: the article states {ARTICLE_YOUTUBE_SHARE:.0%} of YouTube's "
        f"{_millions(ARTICLE_YOUTUBE_MINUTES)} min/day ({_millions(stated)} AI min/day), but its own total of "
        f"{_millions(ARTICLE_TOTAL_AI_MINUTES)} AI min/day ('10.7M / 120 = 89k') leaves only {_millions(implied)} for YouTube."
    )
    everything = dataclasses.replace(a, youtube_eligible_fraction=1.0)
    all_minutes = (
        f"{_millions(model.ai_minutes_per_day(everything))} AI min/day, {model.average_h100(everything, arithmetic):,.0f} "
        f"average and {model.peak_h100(everything, arithmetic):,.0f} peak H100"
    )
    if a.youtube_eligible_fraction >= 1.0:
        return (
            f"{head} Here youtube_eligible_fraction = 1 applies the share to all YouTube minutes: {all_minutes}; "
            f"the default youtube_eligible_fraction = {implied / stated:.3f} reproduces the article's total."
        )
    return (
        f"{head} This estimate applies youtube_eligible_fraction = {a.youtube_eligible_fraction:.3f} (back-solved, "
        f"tag I; perhaps a restriction to short videos, unconfirmed), so YouTube contributes "
        f"{_millions(model.youtube_ai_minutes_per_day(a))}. Applied to all YouTube minutes "
        f"(--set youtube_eligible_fraction=1) the scenario is {all_minutes}."
    )


def arithmetic_note(a: Assumptions, arithmetic: str) -> str:
    if arithmetic != ARTICLE:
        return (
            "exact arithmetic: none of the article's roundings, and image samples costed; the published "
            "figures are not expected to reproduce (see the reproduction section)."
        )
    hourly = model.video_minutes_per_gpu_hour(a, arithmetic)
    return (
        f"article arithmetic: DiT baseline {model.dit_training_flops_bottom_up(a):.3g} FLOP rounded to "
        f"{model.dit_training_flops(a, arithmetic):.2g}; parameter ratio {model.param_ratio_exact(a):.2f} rounded to "
        f"{model.param_ratio(a, arithmetic):g}; dataset mix {a.video_fraction:.0%} x {model.latent_frames_per_clip(a):g} "
        f"latent frames = {model.dataset_mix_multiplier(a, arithmetic):g}, leaving out the image samples (exact "
        f"{model.dataset_mix_multiplier(a, model.EXACT):g}); {hourly:.3g} video-min per H100-hour rounded to "
        f"{model.round_significant(hourly, 2):g} before the daily figure. --arithmetic exact removes these."
    )


def notes(a: Assumptions, outputs: Outputs, arithmetic: str = ARTICLE) -> list[str]:
    """What a reader must know to read the figures: inconsistencies, roundings, caveats."""
    fit = "fits" if outputs.rtx4090_fits else f"does not fit: it needs at least {outputs.rtx4090_cards_to_hold_weights} cards with model parallelism"
    return [
        youtube_note(a, arithmetic),
        arithmetic_note(a, arithmetic),
        f"peak_factor = {a.peak_factor:g}x (the article implies 8x: 720k / 89k) bundles utilization, peak-hour load "
        "and creators generating several candidates, so lowering inference_mfu as well counts utilization twice.",
        f"memory: {a.sora_params / 1e9:g}B parameters x {a.bytes_per_param:g} bytes = {outputs.model_weights_gb:g} GB of "
        f"weights alone; on one {a.rtx4090_memory_gb:g} GB RTX 4090 (Render, Akash) it {fit}; one "
        f"{a.h100_memory_gb:g} GB H100 {'holds it' if outputs.h100_fits else 'does not hold it'}.",
        "the inference cost is optimistic (the article's 'at most'): it leaves out classifier-free guidance "
        "(x2: guidance_passes=2), attention's quadratic growth over 180 x 1,024 tokens, VAE decoding, and resolutions above 512 px.",
    ]


def outputs_frame(outputs: Outputs) -> pd.DataFrame:
    """Tidy outputs: section, output, value, unit, the article's figure where it published one."""
    rows = []
    for name, meta in OUTPUT_FIELDS.items():
        value = getattr(outputs, name)
        if value is None:  # optional context not asked for (a price per GPU-hour)
            continue
        published = BY_OUTPUT.get(name)
        rows.append(
            {
                "section": meta["section"],
                "output": name,
                "value": float(value),
                "unit": meta["unit"],
                "article": published.value if published else float("nan"),
                "description": meta["description"],
            }
        )
    return pd.DataFrame(rows)


def memory_frame(a: Assumptions, outputs: Outputs) -> pd.DataFrame:
    """Does the model's weights fit on one card? H100 and the consumer RTX 4090."""
    return pd.DataFrame(
        [
            {
                "device": device,
                "memory_gb": memory,
                "model_weights_gb": outputs.model_weights_gb,
                "fits_on_one": cards == 1,
                "cards_to_hold_weights": cards,
                "dense_bf16_tflops": tflops,
            }
            for device, memory, cards, tflops in (
                ("H100 SXM", a.h100_memory_gb, outputs.h100_cards_to_hold_weights, a.h100_tflops),
                ("RTX 4090", a.rtx4090_memory_gb, outputs.rtx4090_cards_to_hold_weights, a.rtx4090_tflops),
            )
        ]
    )


@dataclass(frozen=True)
class EstimateSettings(Settings):
    """How an estimate ran: the arithmetic, the assumptions set with --set, and every value used."""

    arithmetic: str
    overridden: tuple[str, ...]
    assumptions: dict


@dataclass(frozen=True)
class SensitivitySettings(Settings):
    metric: str
    unit: str
    base: float
    arithmetic: str


@dataclass(frozen=True)
class Estimate(AnalysisResults):
    """One run of the model: the assumptions used, every output, and the notes."""

    assumptions: AssumptionSet
    arithmetic: str
    outputs: Outputs
    notes: tuple[str, ...]

    @property
    def settings(self) -> EstimateSettings:
        values = self.assumptions.values
        return EstimateSettings(self.arithmetic, tuple(sorted(self.assumptions.overridden)),
                                {f.name: getattr(values, f.name) for f in dataclasses.fields(values)})

    def summary(self) -> str:
        """The CLI's table: outputs, memory fit, reproduction, assumptions, notes."""
        return render_sections(self.sections("table"), "table")

    def to_frames(self) -> dict[str, pd.DataFrame]:
        return {
            "outputs": self.outputs_frame(),
            "memory_fit": self.memory_frame(),
            "reproduction": self.reproduction_frame(),
            "assumptions": self.assumptions.frame(),
            "notes": pd.DataFrame({"note": list(self.notes)}),
        }

    def value(self, name: str) -> float | None:
        return getattr(self.outputs, name)

    def outputs_frame(self) -> pd.DataFrame:
        return outputs_frame(self.outputs)

    def memory_frame(self) -> pd.DataFrame:
        return memory_frame(self.assumptions.values, self.outputs)

    def reproduction_frame(self) -> pd.DataFrame:
        return reproduction(self.outputs)

    def reproduces_article(self) -> bool:
        return bool(self.reproduction_frame()["within"].all())

    def assumptions_frame(self) -> pd.DataFrame:
        return self.assumptions.frame()[["name", "value", "unit", "overridden", "default", "tag"]]

    def _reproduction_title(self) -> str:
        changed = self.assumptions.overridden or self.arithmetic != ARTICLE
        return "reproduction of the article" + (" (assumptions or arithmetic differ from the article's)" if changed else "")

    def _assumptions_title(self) -> str:
        changed = sorted(self.assumptions.overridden)
        return "assumptions" + (f" (set with --set: {', '.join(changed)})" if changed else " (all defaults)")

    def sections(self, fmt: str = "table") -> dict[str, pd.DataFrame | str]:
        """The CLI's sections, in print order (notes as bullet lines in a table, a frame in CSV)."""
        notes = "\n".join(f"- {note}" for note in self.notes) if fmt == "table" else pd.DataFrame({"note": list(self.notes)})
        return {
            "outputs": self.outputs_frame()[["section", "output", "value", "unit", "article"]],
            "memory fit": self.memory_frame(),
            self._reproduction_title(): self.reproduction_frame()[
                ["output", "published", "computed", "deviation_pct", "tolerance_pct", "within"]
            ],
            self._assumptions_title(): self.assumptions_frame(),
            "notes": notes,
        }

    def to_json(self) -> str:
        return to_json(
            {
                "arithmetic": self.arithmetic,
                "overridden": sorted(self.assumptions.overridden),
                "outputs": self.outputs_frame(),
                "memory_fit": self.memory_frame(),
                "reproduction": self.reproduction_frame(),
                "assumptions": self.assumptions.frame(),
                "notes": list(self.notes),
            }
        )


def estimate(assumptions: AssumptionSet, arithmetic: str = ARTICLE) -> Estimate:
    """Run the model on ``assumptions`` (see :func:`tracker.analysis.gpu.load_assumptions`)."""
    outputs = model.compute(assumptions.values, arithmetic)
    return Estimate(assumptions, arithmetic, outputs, tuple(notes(assumptions.values, outputs, arithmetic)))


@dataclass(frozen=True)
class SensitivityResult(AnalysisResults):
    """Which assumptions move a metric most (tornado), and a grid over adoption x utilization."""

    metric: str
    unit: str
    base: float
    arithmetic: str
    tornado: pd.DataFrame
    grid: pd.DataFrame

    @property
    def settings(self) -> SensitivitySettings:
        return SensitivitySettings(self.metric, self.unit, self.base, self.arithmetic)

    def summary(self) -> str:
        return render_sections(self.sections("table"), "table")

    def to_frames(self) -> dict[str, pd.DataFrame]:
        return {"tornado": self.tornado, "grid": self.grid}

    def grid_table(self) -> pd.DataFrame:
        """The grid as rows of adoption and a column of peak H100 per utilization, for reading."""
        table = self.grid.pivot(index=["adoption_multiplier", "ai_minutes_per_day"], columns="inference_mfu", values="peak_h100")
        table.columns = [f"peak_h100_at_mfu_{mfu:g}" for mfu in table.columns]
        return table.reset_index()

    def sections(self, fmt: str = "table") -> dict[str, pd.DataFrame]:
        """Headed frames for the CLI; a table gets the pivoted grid and no range notes (json/csv keep both tidy)."""
        tornado = self.tornado.drop(columns="range_note") if fmt == "table" else self.tornado
        return {
            f"tornado: {self.metric} ({self.unit}), base {self.base:,.6g}": tornado,
            "grid: peak H100 over adoption x inference utilization": self.grid_table() if fmt == "table" else self.grid,
        }

    def to_json(self) -> str:
        return to_json(
            {
                "metric": self.metric,
                "unit": self.unit,
                "base": self.base,
                "arithmetic": self.arithmetic,
                "tornado": self.tornado,
                "grid": self.grid,
            }
        )


__all__ = [
    "Estimate",
    "EstimateSettings",
    "SensitivityResult",
    "SensitivitySettings",
    "arithmetic_note",
    "estimate",
    "memory_frame",
    "notes",
    "outputs_frame",
    "youtube_note",
]
