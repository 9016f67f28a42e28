"""Units and monotonicity of the GPU model, over random assumptions (hypothesis).

Monotonicity holds in both arithmetics (rounding to significant figures is monotone);
proportionality ("doubling X halves Y") is checked with the exact arithmetic, where it is exact.
"""
from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tracker.analysis.gpu import ARITHMETIC, EXACT, compute, load_assumptions, model
from tracker.analysis.gpu.assumptions import RULES, SMALLEST_FRACTION, SMALLEST_MINUTES
from tracker.analysis.gpu.sensitivity import scale_adoption
from tracker.errors import InputError

DEFAULTS = load_assumptions().values
REL = 1e-9

positive = lambda lo, hi: st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)
# The rules' domain (tracker/analysis/gpu/assumptions.py): a share is 0 or at least a millionth, daily
# minutes 0 or at least one. Values below are refused on loading, so the model never sees them.
share = st.one_of(st.just(0.0), positive(SMALLEST_FRACTION, 1.0))
minutes = st.one_of(st.just(0.0), positive(SMALLEST_MINUTES, 1e8))
mfu = positive(0.01, 1.0)


@st.composite
def assumptions(draw):
    """The article's assumptions with the inputs that drive the model drawn at random."""
    low = draw(positive(1, 50))
    return dataclasses.replace(
        DEFAULTS,
        dit_forward_gflops=draw(positive(10, 5000)),
        dit_training_steps=float(draw(st.integers(1_000, 10_000_000))),
        sora_params=draw(positive(1e8, 1e12)),
        clip_seconds=draw(positive(1, 120)),
        frame_rate=draw(positive(1, 60)),
        temporal_compression=draw(positive(1, 32)),
        video_fraction=draw(share),
        dataset_multiplier_low=low,
        dataset_multiplier_high=low * draw(positive(1, 20)),
        h100_tflops=draw(positive(100, 5000)),
        training_mfu=draw(mfu),
        denoising_steps=float(draw(st.integers(1, 2000))),
        guidance_passes=float(draw(st.integers(1, 3))),
        inference_mfu=draw(mfu),
        tiktok_upload_minutes_per_day=draw(minutes),
        tiktok_ai_share=draw(share),
        youtube_upload_minutes_per_day=draw(minutes),
        youtube_ai_share=draw(share),
        youtube_eligible_fraction=draw(share),
        peak_factor=draw(positive(1, 30)),
    )


arithmetic = st.sampled_from(ARITHMETIC)


@given(assumptions(), arithmetic, st.integers(1, 2000), st.integers(1, 2000))
def test_more_denoising_steps_never_lower_the_gpu_count(a, mode, s1, s2):
    fewer, more = sorted((s1, s2))
    at = lambda steps: compute(dataclasses.replace(a, denoising_steps=float(steps)), mode)
    low, high = at(fewer), at(more)
    assert low.average_h100 <= high.average_h100 and low.peak_h100 <= high.peak_h100
    assert low.gpu_seconds_per_video_minute <= high.gpu_seconds_per_video_minute
    assert low.break_even_minutes_high >= high.break_even_minutes_high, "costlier inference breaks even sooner"


@given(assumptions(), arithmetic, share, share, st.sampled_from(["tiktok_ai_share", "youtube_ai_share", "youtube_eligible_fraction"]))
def test_more_ai_share_never_lowers_the_peak(a, mode, x1, x2, name):
    less, more = sorted((x1, x2))
    peak = lambda x: compute(dataclasses.replace(a, **{name: x}), mode).peak_h100
    assert peak(less) <= peak(more)


@given(assumptions(), positive(1, 8), arithmetic)
def test_scaling_adoption_up_never_lowers_the_peak(a, multiplier, mode):
    assert model.peak_h100(a, mode) <= model.peak_h100(scale_adoption(a, multiplier), mode) * (1 + REL)


@given(assumptions(), positive(0.01, 0.5))
def test_doubling_utilization_halves_the_gpus(a, u):
    at = lambda x: compute(dataclasses.replace(a, inference_mfu=x), EXACT)
    once, twice = at(u), at(2 * u)
    assert twice.average_h100 == pytest.approx(once.average_h100 / 2, rel=REL, abs=1e-9)
    assert twice.peak_h100 == pytest.approx(once.peak_h100 / 2, rel=REL, abs=1e-9)
    assert twice.video_minutes_per_gpu_hour == pytest.approx(once.video_minutes_per_gpu_hour * 2, rel=REL)


@given(assumptions(), arithmetic, mfu, mfu)
def test_more_utilization_never_raises_the_gpus(a, mode, u1, u2):
    low, high = sorted((u1, u2))
    at = lambda x: model.peak_h100(dataclasses.replace(a, inference_mfu=x), mode)
    assert at(high) <= at(low)


@given(assumptions(), st.integers(2, 10))
def test_training_compute_scales_linearly_with_steps(a, k):
    scaled = dataclasses.replace(a, dit_training_steps=a.dit_training_steps * k)
    for field in ("training_flops_low", "training_flops_high", "training_h100_months_high", "break_even_minutes_low"):
        assert getattr(compute(scaled, EXACT), field) == pytest.approx(k * getattr(compute(a, EXACT), field), rel=REL)


@given(assumptions(), arithmetic, positive(1.01, 10))
def test_training_compute_is_linear_in_the_dataset_multiplier(a, mode, k):
    scaled = dataclasses.replace(a, dataset_multiplier_low=a.dataset_multiplier_low * k, dataset_multiplier_high=a.dataset_multiplier_high * k)
    assert compute(scaled, mode).training_flops_low == pytest.approx(k * compute(a, mode).training_flops_low, rel=REL)
    assert compute(scaled, mode).training_flops_high == pytest.approx(k * compute(a, mode).training_flops_high, rel=REL)


@given(assumptions(), arithmetic, positive(1e8, 1e12), positive(1e8, 1e12))
def test_a_bigger_model_never_costs_less(a, mode, p1, p2):
    small, big = (compute(dataclasses.replace(a, sora_params=p), mode) for p in sorted((p1, p2)))
    assert small.training_h100_months_high <= big.training_h100_months_high
    assert small.peak_h100 <= big.peak_h100
    assert small.model_weights_gb <= big.model_weights_gb
    assert small.rtx4090_cards_to_hold_weights <= big.rtx4090_cards_to_hold_weights


# The draw that once gave an infinite break-even (youtube_eligible_fraction=4.59e-306): the
# rules now refuse it, and the smallest allowed share gives finite outputs.
TINY = dataclasses.replace(DEFAULTS, youtube_eligible_fraction=SMALLEST_FRACTION, tiktok_ai_share=SMALLEST_FRACTION,
                           youtube_ai_share=SMALLEST_FRACTION, tiktok_upload_minutes_per_day=SMALLEST_MINUTES,
                           youtube_upload_minutes_per_day=SMALLEST_MINUTES)


@given(assumptions(), arithmetic)
@example(TINY, EXACT)
@settings(max_examples=200)
def test_units_are_consistent(a, mode):
    o = compute(a, mode)
    # minutes of GPU per minute of video, times minutes of video per GPU-hour, is one hour
    assert o.gpu_minutes_per_video_minute * o.video_minutes_per_gpu_hour == pytest.approx(60, rel=REL)
    assert o.gpu_seconds_per_video_minute == pytest.approx(60 * o.gpu_minutes_per_video_minute, rel=REL)
    month = a.h100_tflops * 1e12 * a.training_mfu * a.days_per_month * 86_400
    assert o.training_h100_months_low * month == pytest.approx(o.training_flops_low, rel=REL)
    assert o.break_even_minutes_high * o.inference_flops_per_video_minute == pytest.approx(o.training_flops_high, rel=REL)
    assert o.training_flops_low <= o.training_flops_high and o.break_even_minutes_low <= o.break_even_minutes_high
    assert o.average_h100 * o.video_minutes_per_gpu_day == pytest.approx(o.ai_minutes_per_day, rel=REL, abs=1e-6)
    assert o.peak_h100 == pytest.approx(o.average_h100 * a.peak_factor, rel=REL) and o.peak_h100 >= o.average_h100
    assert o.peak_megawatts == pytest.approx(o.peak_h100 * a.watts_per_gpu / 1e6, rel=REL)
    assert o.peak_rtx4090_equivalent == pytest.approx(o.peak_h100 * a.h100_tflops / a.rtx4090_tflops, rel=REL)
    assert o.ai_minutes_per_day == pytest.approx(o.tiktok_ai_minutes_per_day + o.youtube_ai_minutes_per_day, rel=REL)
    if o.ai_minutes_per_day > 0:
        assert o.break_even_days_low * o.ai_minutes_per_day == pytest.approx(o.break_even_minutes_low, rel=REL)
    else:
        assert math.isinf(o.break_even_days_low)


@given(assumptions(), arithmetic)
@example(TINY, model.ARTICLE)
def test_no_allowed_input_gives_an_infinite_or_nan_output(a, mode):
    o = compute(a, mode)
    for name, value in dataclasses.asdict(o).items():
        if isinstance(value, float) and not math.isnan(value) and math.isinf(value):
            # Infinite only as "never": no AI minutes at all, so no break-even.
            assert name.startswith("break_even_days") and o.ai_minutes_per_day == 0, (name, value)
        assert not (isinstance(value, float) and math.isnan(value)), name


@given(st.sampled_from([n for n, r in RULES.items() if r.smallest_positive is not None]),
       st.floats(min_value=2.2e-308, max_value=SMALLEST_FRACTION / 2, allow_subnormal=False))
@example("youtube_eligible_fraction", 4.59e-306)
def test_a_positive_value_below_the_domain_is_refused_in_one_line(name, value):
    with pytest.raises(InputError) as caught:
        load_assumptions(overrides={name: value})
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{name} = ") and f"{RULES[name].smallest_positive:g}" in message


@given(assumptions(), arithmetic, positive(100, 5000), mfu)
def test_break_even_is_a_ratio_of_flops_so_hardware_does_not_move_it(a, mode, tflops, u):
    other = dataclasses.replace(a, h100_tflops=tflops, inference_mfu=u, training_mfu=u)
    assert compute(other, mode).break_even_minutes_low == pytest.approx(compute(a, mode).break_even_minutes_low, rel=REL)


@given(assumptions(), positive(1.01, 4))
def test_a_faster_gpu_needs_proportionally_fewer(a, k):
    faster = dataclasses.replace(a, h100_tflops=a.h100_tflops * k)
    assert compute(faster, EXACT).peak_h100 == pytest.approx(compute(a, EXACT).peak_h100 / k, rel=REL, abs=1e-9)
    assert compute(faster, EXACT).training_h100_months_low == pytest.approx(compute(a, EXACT).training_h100_months_low / k, rel=REL)


@given(positive(1e-6, 1e30), positive(1e-6, 1e30), st.integers(1, 6))
def test_rounding_to_significant_figures_is_monotone(x, y, digits):
    low, high = sorted((x, y))
    assert model.round_significant(low, digits) <= model.round_significant(high, digits)
    assert model.round_significant(x, digits) == pytest.approx(x, rel=0.5 * 10 ** (1 - digits))
