"""The Factorial Funds Sora compute model as pure functions of :class:`Assumptions`.

The steps follow ../shared/gpu/FACTORIAL-MODEL.md section 2 (A to F). Every function takes the
assumptions and, where the article rounded an intermediate figure, an ``arithmetic`` switch:

``"article"``
    Follow the article's own arithmetic, which rounds three intermediates: the DiT baseline
    (1.21e21 -> 1e21 FLOPs, one significant figure), the Sora/DiT parameter ratio (29.6 -> 30,
    two figures) and the throughput before the daily figure (5.03 -> 5.0 video-minutes per
    GPU-hour, two figures), and which writes the 50/50 image/video mix as 50% x 180 = 90,
    leaving the image half's cost out. Only this reproduces the published figures.
``"exact"``
    The same model without those roundings and with the image samples costed (one latent
    frame each).

Rounding to significant figures is monotone, so every monotonicity property of the model
holds in both modes; proportionality (doubling X halves Y) holds exactly only in ``"exact"``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import NamedTuple

from ...errors import InputError
from .assumptions import Assumptions

ARTICLE = "article"
EXACT = "exact"
ARITHMETIC = (ARTICLE, EXACT)

SECONDS_PER_MINUTE = 60.0
SECONDS_PER_HOUR = 3600.0
HOURS_PER_DAY = 24.0
SECONDS_PER_DAY = 86_400.0
GIGA, TERA = 1e9, 1e12


class Range(NamedTuple):
    """A low and a high estimate (the article's dataset-size multipliers give two)."""

    low: float
    high: float


def check_arithmetic(arithmetic: str) -> str:
    if arithmetic not in ARITHMETIC:
        raise InputError(f"arithmetic {arithmetic!r} is not one of {', '.join(ARITHMETIC)}")
    return arithmetic


def round_significant(value: float, digits: int) -> float:
    """``value`` to ``digits`` significant figures (monotone: a larger input never rounds lower)."""
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{digits}g}")


# ------------------------------------------------------------------ Step A: DiT baseline


def dit_training_flops_bottom_up(a: Assumptions) -> float:
    """DiT-XL/2's training compute from its recipe: 3 x forward FLOPs x batch x steps (1.21e21)."""
    return a.training_flops_per_forward * a.dit_forward_gflops * GIGA * a.dit_batch_size * a.dit_training_steps


def dit_training_flops(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """The DiT baseline the scaling starts from; the article rounds it to one figure (1e21)."""
    bottom_up = dit_training_flops_bottom_up(a)
    return round_significant(bottom_up, 1) if check_arithmetic(arithmetic) == ARTICLE else bottom_up


def h100_second_flops(a: Assumptions, mfu: float) -> float:
    """FLOPs one H100 delivers per second at a utilization ``mfu``."""
    return a.h100_tflops * TERA * mfu


def h100_month_flops(a: Assumptions) -> float:
    """FLOPs one H100 delivers in a month of training (2.5645e21 at 100%, 30 days)."""
    return h100_second_flops(a, a.training_mfu) * a.days_per_month * SECONDS_PER_DAY


def dit_h100_months(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """DiT's training compute in H100-months (the article's '~0.4 H100 for one month')."""
    return dit_training_flops(a, arithmetic) / h100_month_flops(a)


def dit_h100_days(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """DiT's training compute in days of one H100 (the article's '1 H100 for ~12 days')."""
    return dit_training_flops(a, arithmetic) / h100_second_flops(a, a.training_mfu) / SECONDS_PER_DAY


# ------------------------------------------------------------------ Step B: training


def param_ratio_exact(a: Assumptions) -> float:
    return a.sora_params / a.dit_params


def param_ratio(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """Compute per frame of Sora over DiT, taken as the parameter ratio (20B / 675M = 29.6 -> 30)."""
    ratio = param_ratio_exact(a)
    return round_significant(ratio, 2) if check_arithmetic(arithmetic) == ARTICLE else ratio


def latent_frames_per_clip(a: Assumptions) -> float:
    """Latent frames in one training video (60 s x 24 fps / 8 = 180)."""
    return a.clip_seconds * a.frame_rate / a.temporal_compression


def dataset_mix_multiplier(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """Latent frames per training sample, averaged over the image/video mix.

    The article writes 50% x 180 = 90, leaving out the images; with one latent frame per
    image the exact mean is 90.5.
    """
    videos = a.video_fraction * latent_frames_per_clip(a)
    return videos if check_arithmetic(arithmetic) == ARTICLE else videos + (1.0 - a.video_fraction)


def training_flops(a: Assumptions, arithmetic: str = ARTICLE) -> Range:
    """Sora's training compute: DiT baseline x parameter ratio x dataset multiplier x mix."""
    per_dataset = dit_training_flops(a, arithmetic) * param_ratio(a, arithmetic) * dataset_mix_multiplier(a, arithmetic)
    return Range(per_dataset * a.dataset_multiplier_low, per_dataset * a.dataset_multiplier_high)


def training_h100_months(a: Assumptions, arithmetic: str = ARTICLE) -> Range:
    """Training compute in H100-months (the article's 4,211 and 10,528)."""
    month = h100_month_flops(a)
    low, high = training_flops(a, arithmetic)
    return Range(low / month, high / month)


# ------------------------------------------------------------------ Step C: inference


def latent_frames_per_video_minute(a: Assumptions) -> float:
    """Latent frames in one minute of generated video (60 x 24 / 8 = 180)."""
    return SECONDS_PER_MINUTE * a.frame_rate / a.temporal_compression


def inference_flops_per_latent_frame(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """Sampling cost of one latent frame: one scaled DiT pass per step and guidance pass."""
    return a.dit_forward_gflops * GIGA * param_ratio(a, arithmetic) * a.denoising_steps * a.guidance_passes


def inference_flops_per_video_minute(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """FLOPs to generate one minute of video (7.08e17 with the article's inputs)."""
    return inference_flops_per_latent_frame(a, arithmetic) * latent_frames_per_video_minute(a)


def gpu_seconds_per_video_minute(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """H100-seconds to generate one minute of video (716 s, about 12 minutes)."""
    return inference_flops_per_video_minute(a, arithmetic) / h100_second_flops(a, a.inference_mfu)


def video_minutes_per_gpu_hour(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """Minutes of video one H100 generates per hour (5.03, the article's 'at most about 5')."""
    return SECONDS_PER_HOUR / gpu_seconds_per_video_minute(a, arithmetic)


def video_minutes_per_gpu_day(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """Minutes of video one H100 generates per day; the article rounds 5.03/h to 5 first (120)."""
    hourly = video_minutes_per_gpu_hour(a, arithmetic)
    if check_arithmetic(arithmetic) == ARTICLE:
        hourly = round_significant(hourly, 2)
    return hourly * HOURS_PER_DAY


# ------------------------------------------------------------------ Step D: break-even


def break_even_minutes(a: Assumptions, arithmetic: str = ARTICLE) -> Range:
    """Minutes of generated video after which inference FLOPs exceed training FLOPs."""
    per_minute = inference_flops_per_video_minute(a, arithmetic)
    low, high = training_flops(a, arithmetic)
    return Range(low / per_minute, high / per_minute)


def scenario_days(video_minutes: float, minutes_per_day: float) -> float:
    """Days the scenario takes to generate ``video_minutes`` (infinite with no adoption)."""
    return video_minutes / minutes_per_day if minutes_per_day > 0 else math.inf


# ------------------------------------------------------------------ Steps E and F: adoption


def tiktok_ai_minutes_per_day(a: Assumptions) -> float:
    return a.tiktok_upload_minutes_per_day * a.tiktok_ai_share


def youtube_ai_minutes_per_day(a: Assumptions) -> float:
    """YouTube's AI minutes: uploads x eligible fraction x AI share (see the inconsistency note)."""
    return a.youtube_upload_minutes_per_day * a.youtube_eligible_fraction * a.youtube_ai_share


def ai_minutes_per_day(a: Assumptions) -> float:
    """AI-generated video-minutes per day in the scenario (10.7M with the article's inputs)."""
    return tiktok_ai_minutes_per_day(a) + youtube_ai_minutes_per_day(a)


def average_h100(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """H100s busy on average to generate the scenario's daily minutes (10.7M / 120 = 89k)."""
    return ai_minutes_per_day(a) / video_minutes_per_gpu_day(a, arithmetic)


def peak_h100(a: Assumptions, arithmetic: str = ARTICLE) -> float:
    """H100s needed at peak: the average times the explicit peak factor (about 720k)."""
    return average_h100(a, arithmetic) * a.peak_factor


# ------------------------------------------------------------------ comparisons


def model_weights_gb(a: Assumptions) -> float:
    """Memory for Sora's weights alone (20B x 2 bytes = 40 GB in BF16)."""
    return a.sora_params * a.bytes_per_param / GIGA


def cards_to_hold_weights(weights_gb: float, card_memory_gb: float) -> int:
    """Cards needed just to hold the weights (model parallelism; activations need more)."""
    # Weights that exactly fill a card fit on it; the epsilon keeps float noise such as
    # 24.000000000000004 GB from demanding a second card.
    return max(1, math.ceil(weights_gb / card_memory_gb - 1e-12))


def rtx4090_equivalent(a: Assumptions, h100_count: float) -> float:
    """RTX 4090s with the same dense BF16 throughput as ``h100_count`` H100s."""
    return h100_count * a.h100_tflops / a.rtx4090_tflops


def megawatts(a: Assumptions, gpu_count: float) -> float:
    """Board power of ``gpu_count`` GPUs (no cooling or PUE overhead)."""
    return gpu_count * a.watts_per_gpu / 1e6


def usd_per_day(a: Assumptions, gpu_count: float) -> float | None:
    """Dollars per day for ``gpu_count`` GPUs running all day, or None without a price."""
    return None if a.usd_per_gpu_hour is None else gpu_count * HOURS_PER_DAY * a.usd_per_gpu_hour


# ------------------------------------------------------------------ everything at once


def _out(section: str, unit: str, description: str):
    return field(metadata={"section": section, "unit": unit, "description": description})


@dataclass(frozen=True)
class Outputs:
    """Every figure the model produces for one set of assumptions, with units in the metadata."""

    dit_training_flops_bottom_up: float = _out("training", "FLOP", "DiT-XL/2 training compute from its recipe (3 x forward x batch x steps)")
    dit_training_flops: float = _out("training", "FLOP", "DiT baseline the scaling starts from")
    dit_h100_months: float = _out("training", "H100-months", "DiT baseline on H100s")
    dit_h100_days: float = _out("training", "H100-days", "DiT baseline on one H100")
    param_ratio: float = _out("training", "x", "Sora / DiT compute per frame (parameter ratio)")
    latent_frames_per_clip: float = _out("training", "latent frames", "latent frames in one training video")
    dataset_mix_multiplier: float = _out("training", "latent frames per sample", "mean latent frames per training sample")
    training_flops_low: float = _out("training", "FLOP", "Sora training compute, low")
    training_flops_high: float = _out("training", "FLOP", "Sora training compute, high")
    training_h100_months_low: float = _out("training", "H100-months", "Sora training on H100s, low")
    training_h100_months_high: float = _out("training", "H100-months", "Sora training on H100s, high")
    latent_frames_per_video_minute: float = _out("inference", "latent frames", "latent frames in one minute of video")
    inference_flops_per_video_minute: float = _out("inference", "FLOP per video-minute", "compute to generate one minute of video")
    gpu_seconds_per_video_minute: float = _out("inference", "H100-seconds per video-minute", "H100 time per minute of video")
    gpu_minutes_per_video_minute: float = _out("inference", "H100-minutes per video-minute", "H100 time per minute of video")
    video_minutes_per_gpu_hour: float = _out("inference", "video-minutes per H100-hour", "video one H100 generates per hour")
    video_minutes_per_gpu_day: float = _out("inference", "video-minutes per H100-day", "video one H100 generates per day (used for fleet sizes)")
    break_even_minutes_low: float = _out("break-even", "video-minutes", "generated video at which inference compute passes training, low")
    break_even_minutes_high: float = _out("break-even", "video-minutes", "generated video at which inference compute passes training, high")
    break_even_days_low: float = _out("break-even", "days of the scenario", "days of the adoption scenario to reach the low break-even")
    break_even_days_high: float = _out("break-even", "days of the scenario", "days of the adoption scenario to reach the high break-even")
    tiktok_ai_minutes_per_day: float = _out("adoption", "video-minutes per day", "AI video on TikTok")
    youtube_ai_minutes_per_day: float = _out("adoption", "video-minutes per day", "AI video on YouTube")
    ai_minutes_per_day: float = _out("adoption", "video-minutes per day", "AI video in the scenario")
    average_h100: float = _out("adoption", "H100", "H100s busy on average")
    peak_factor: float = _out("adoption", "x average", "peak over average (an input, shown to keep it explicit)")
    peak_h100: float = _out("adoption", "H100", "H100s needed at peak")
    average_share_of_2023_shipments: float = _out("comparison", "x 2023 H100 shipments", "average fleet over a year of H100 shipments (2023)")
    peak_share_of_2023_shipments: float = _out("comparison", "x 2023 H100 shipments", "peak fleet over a year of H100 shipments (2023)")
    peak_share_of_2024_shipments: float = _out("comparison", "x 2024 planned H100 shipments", "peak fleet over 2024's planned H100 shipments")
    peak_multiple_of_big3: float = _out("comparison", "x Microsoft+Meta+Google 2023 H100", "peak fleet over the three hyperscalers' 2023 H100 purchases")
    peak_multiple_of_top12: float = _out("comparison", "x top-12 buyers' 2023 H100", "peak fleet over the twelve largest buyers' 2023 H100 purchases")
    peak_rtx4090_equivalent: float = _out("comparison", "RTX 4090", "consumer cards with the peak fleet's dense BF16 throughput")
    peak_multiple_of_akash: float = _out("comparison", "x Akash GPUs (Jan 2024)", "peak fleet over Akash's whole GPU count, each counted as an H100")
    model_weights_gb: float = _out("memory", "GB", "Sora's weights alone at bytes_per_param")
    h100_cards_to_hold_weights: int = _out("memory", "H100", "H100s needed just to hold the weights")
    rtx4090_cards_to_hold_weights: int = _out("memory", "RTX 4090", "RTX 4090s needed just to hold the weights")
    average_megawatts: float = _out("power and cost", "MW", "board power of the average fleet")
    peak_megawatts: float = _out("power and cost", "MW", "board power of the peak fleet")
    average_usd_per_day: float | None = _out("power and cost", "USD per day", "average fleet at usd_per_gpu_hour (when set)")
    peak_usd_per_day: float | None = _out("power and cost", "USD per day", "peak fleet at usd_per_gpu_hour (when set)")

    @property
    def rtx4090_fits(self) -> bool:
        return self.rtx4090_cards_to_hold_weights == 1

    @property
    def h100_fits(self) -> bool:
        return self.h100_cards_to_hold_weights == 1


OUTPUT_FIELDS = {f.name: f.metadata for f in fields(Outputs)}
# Outputs that always have a value, so sensitivity can vary any assumption against them.
METRICS = tuple(name for name in OUTPUT_FIELDS if name not in ("average_usd_per_day", "peak_usd_per_day"))


def compute(a: Assumptions, arithmetic: str = ARTICLE) -> Outputs:
    """Every output of the model for the assumptions ``a``."""
    check_arithmetic(arithmetic)
    training = training_h100_months(a, arithmetic)
    flops = training_flops(a, arithmetic)
    breakeven = break_even_minutes(a, arithmetic)
    gpu_seconds = gpu_seconds_per_video_minute(a, arithmetic)
    minutes = ai_minutes_per_day(a)
    average = average_h100(a, arithmetic)
    peak = average * a.peak_factor
    weights = model_weights_gb(a)
    return Outputs(
        dit_training_flops_bottom_up=dit_training_flops_bottom_up(a),
        dit_training_flops=dit_training_flops(a, arithmetic),
        dit_h100_months=dit_h100_months(a, arithmetic),
        dit_h100_days=dit_h100_days(a, arithmetic),
        param_ratio=param_ratio(a, arithmetic),
        latent_frames_per_clip=latent_frames_per_clip(a),
        dataset_mix_multiplier=dataset_mix_multiplier(a, arithmetic),
        training_flops_low=flops.low,
        training_flops_high=flops.high,
        training_h100_months_low=training.low,
        training_h100_months_high=training.high,
        latent_frames_per_video_minute=latent_frames_per_video_minute(a),
        inference_flops_per_video_minute=inference_flops_per_video_minute(a, arithmetic),
        gpu_seconds_per_video_minute=gpu_seconds,
        gpu_minutes_per_video_minute=gpu_seconds / SECONDS_PER_MINUTE,
        video_minutes_per_gpu_hour=video_minutes_per_gpu_hour(a, arithmetic),
        video_minutes_per_gpu_day=video_minutes_per_gpu_day(a, arithmetic),
        break_even_minutes_low=breakeven.low,
        break_even_minutes_high=breakeven.high,
        break_even_days_low=scenario_days(breakeven.low, minutes),
        break_even_days_high=scenario_days(breakeven.high, minutes),
        tiktok_ai_minutes_per_day=tiktok_ai_minutes_per_day(a),
        youtube_ai_minutes_per_day=youtube_ai_minutes_per_day(a),
        ai_minutes_per_day=minutes,
        average_h100=average,
        peak_factor=a.peak_factor,
        peak_h100=peak,
        average_share_of_2023_shipments=average / a.h100_shipments_2023,
        peak_share_of_2023_shipments=peak / a.h100_shipments_2023,
        peak_share_of_2024_shipments=peak / a.h100_shipments_2024_plan,
        peak_multiple_of_big3=peak / a.big3_h100_2023,
        peak_multiple_of_top12=peak / a.top12_h100_2023,
        peak_rtx4090_equivalent=rtx4090_equivalent(a, peak),
        peak_multiple_of_akash=peak / a.akash_gpus,
        model_weights_gb=weights,
        h100_cards_to_hold_weights=cards_to_hold_weights(weights, a.h100_memory_gb),
        rtx4090_cards_to_hold_weights=cards_to_hold_weights(weights, a.rtx4090_memory_gb),
        average_megawatts=megawatts(a, average),
        peak_megawatts=megawatts(a, peak),
        average_usd_per_day=usd_per_day(a, average),
        peak_usd_per_day=usd_per_day(a, peak),
    )


__all__ = [
    "ARITHMETIC",
    "ARTICLE",
    "EXACT",
    "METRICS",
    "OUTPUT_FIELDS",
    "Outputs",
    "Range",
    "ai_minutes_per_day",
    "average_h100",
    "break_even_minutes",
    "cards_to_hold_weights",
    "check_arithmetic",
    "compute",
    "dataset_mix_multiplier",
    "dit_h100_days",
    "dit_h100_months",
    "dit_training_flops",
    "dit_training_flops_bottom_up",
    "gpu_seconds_per_video_minute",
    "h100_month_flops",
    "inference_flops_per_latent_frame",
    "inference_flops_per_video_minute",
    "latent_frames_per_clip",
    "latent_frames_per_video_minute",
    "megawatts",
    "model_weights_gb",
    "param_ratio",
    "param_ratio_exact",
    "peak_h100",
    "round_significant",
    "rtx4090_equivalent",
    "scenario_days",
    "tiktok_ai_minutes_per_day",
    "training_flops",
    "training_h100_months",
    "usd_per_day",
    "video_minutes_per_gpu_day",
    "video_minutes_per_gpu_hour",
    "youtube_ai_minutes_per_day",
]
