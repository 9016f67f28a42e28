"""The GPU assumptions: config/gpu.toml agrees with the code, overrides are checked, errors are one line."""
from __future__ import annotations

import dataclasses
import tomllib

import pytest

from tracker.analysis.gpu import NAMES, load_assumptions, parse_set, parse_value
from tracker.analysis.gpu.assumptions import RULES, default_path
from tracker.errors import ConfigError, InputError


@pytest.fixture(scope="module")
def defaults():
    return load_assumptions()


def test_every_assumption_is_documented_with_unit_source_and_tag(defaults):
    raw = tomllib.loads(default_path().read_text())
    assert list(raw) == list(NAMES), "config/gpu.toml lists the assumptions in the code's order"
    for name in NAMES:
        info = defaults.info[name]
        assert info.unit == RULES[name].unit
        assert len(info.source) > 10 and len(info.description) > 10, name
        assert info.tag in {"", "C", "P", "R", "I", "P/R", "R/C"}
        if info.has_range:
            assert info.low <= getattr(defaults.values, name) <= info.high, f"{name}'s range must contain its default"
            assert info.range_note, f"{name} has a range but no note saying why"


def test_article_inputs_carry_the_tags_of_the_reconstruction(defaults):
    tags = {name: info.tag for name, info in defaults.info.items()}
    assert tags["tiktok_ai_share"] == tags["youtube_ai_share"] == "C"
    assert tags["h100_tflops"] == tags["dit_forward_gflops"] == "P"
    assert tags["youtube_eligible_fraction"] == tags["peak_factor"] == "I"
    assert tags["sora_params"] == tags["dataset_multiplier_low"] == "R"


def test_defaults_are_the_articles_inputs(defaults):
    a = defaults.values
    assert (a.dit_forward_gflops, a.h100_tflops, a.denoising_steps, a.sora_params) == (524.6, 989.4, 250, 20e9)
    assert (a.tiktok_upload_minutes_per_day, a.tiktok_ai_share, a.youtube_upload_minutes_per_day, a.youtube_ai_share) == (17e6, 0.5, 43e6, 0.15)
    assert (a.training_mfu, a.inference_mfu, a.days_per_month, a.peak_factor) == (1.0, 1.0, 30, 8)
    assert a.usd_per_gpu_hour is None
    assert defaults.overridden == frozenset()


def test_overrides_make_a_new_set_and_mark_what_changed(defaults):
    changed = defaults.with_overrides({"denoising_steps": "50", "tiktok_ai_share": "25%", "usd_per_gpu_hour": 2.5})
    assert (changed.values.denoising_steps, changed.values.tiktok_ai_share, changed.values.usd_per_gpu_hour) == (50, 0.25, 2.5)
    assert changed.overridden == {"denoising_steps", "tiktok_ai_share", "usd_per_gpu_hour"}
    assert defaults.values.denoising_steps == 250, "the original set is unchanged"
    frame = changed.frame().set_index("name")
    assert frame.loc["denoising_steps", "overridden"] and not frame.loc["frame_rate", "overridden"]
    assert frame.loc["denoising_steps", "default"] == 250
    again = changed.with_overrides({"frame_rate": "30"})
    assert again.overridden == {"denoising_steps", "tiktok_ai_share", "usd_per_gpu_hour", "frame_rate"}


def test_numbers_in_the_forms_people_type():
    assert parse_value("tiktok_upload_minutes_per_day", "17_000_000") == 17e6
    assert parse_value("sora_params", "2e10") == 20e9
    assert parse_value("youtube_ai_share", " 15% ") == pytest.approx(0.15)
    assert parse_value("denoising_steps", 50) == 50.0
    assert parse_value("tiktok_ai_share", "0") == 0.0, "a share may be zero (no adoption)"
    assert parse_value("peak_factor", "1") == 1.0, "a flat load has a peak factor of exactly 1"


@pytest.mark.parametrize(
    "name, value, fragment",
    [
        ("denoise_steps", "50", "unknown assumption 'denoise_steps' (did you mean denoising_steps?)"),
        ("gpu_magic", "1", "unknown assumption 'gpu_magic'"),
        ("denoising_steps", "fifty", "denoising_steps = 'fifty' is not a number"),
        ("denoising_steps", "-5", "denoising_steps = -5 is not allowed"),
        ("denoising_steps", "2.5", "must be a whole number"),
        ("denoising_steps", "0", "greater than 0"),
        ("h100_tflops", "0", "h100_tflops = 0 is not allowed: h100_tflops (TFLOP/s) must be a number greater than 0 (it divides)"),
        ("inference_mfu", "0", "inference_mfu = 0 is not allowed"),
        ("inference_mfu", "1.5", "from 1e-06 to 1"),
        ("temporal_compression", "0", "(it divides)"),
        ("dit_params", "0", "(it divides Sora's size)"),
        ("tiktok_ai_share", "-0.1", "must be 0 or a number from 1e-06 to 1"),
        ("tiktok_ai_share", "150%", "tiktok_ai_share = 1.5 is not allowed"),
        ("peak_factor", "0.5", "a peak is never below the average"),
        ("tiktok_upload_minutes_per_day", "-1", "must be 0 or a number of at least 1"),
        ("h100_tflops", "nan", "not a finite number"),
        ("h100_tflops", "inf", "not a finite number"),
        ("days_per_month", "32", "at most 31"),
        ("usd_per_gpu_hour", "-2", "usd_per_gpu_hour = -2 is not allowed"),
    ],
)
def test_bad_overrides_are_one_line_naming_the_assumption(defaults, name, value, fragment):
    with pytest.raises(InputError) as caught:
        defaults.with_overrides({name: value})
    message = str(caught.value)
    assert fragment in message
    assert "\n" not in message and name in message


def test_a_boolean_is_not_a_number():
    with pytest.raises(InputError, match="not a number"):
        parse_value("frame_rate", True)


def test_dataset_multipliers_must_stay_ordered(defaults):
    with pytest.raises(InputError, match="dataset_multiplier_low = 20 is above dataset_multiplier_high = 10"):
        defaults.with_overrides({"dataset_multiplier_low": "20"})
    both = defaults.with_overrides({"dataset_multiplier_low": "20", "dataset_multiplier_high": "30"})
    assert (both.values.dataset_multiplier_low, both.values.dataset_multiplier_high) == (20, 30)


@pytest.mark.parametrize(
    "items, fragment",
    [
        (["denoising_steps"], "must look like name=value"),
        (["=5"], "must look like name=value"),
        (["denoising_steps="], "must look like name=value"),
        (["frame_rate=24", "frame_rate=30"], "gives frame_rate twice"),
    ],
)
def test_set_syntax_errors(items, fragment):
    with pytest.raises(InputError, match=fragment):
        parse_set(items)


def test_set_parses_names_and_values():
    assert parse_set([" denoising_steps = 50", "youtube_ai_share=5%"]) == {"denoising_steps": "50", "youtube_ai_share": "5%"}


def _edited(tmp_path, edit) -> str:
    text = default_path().read_text()
    path = tmp_path / "gpu.toml"
    path.write_text(edit(text))
    return str(path)


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (lambda t: t + "\n[warp_drive]\nvalue = 1\n", "[warp_drive] is not a known assumption"),
        (lambda t: t.replace("[peak_factor]", "[peak_factr]"), "[peak_factr] is not a known assumption (did you mean peak_factor?)"),
        (lambda t: t.replace('unit = "TFLOP/s"\ntag = "P"\nsource = "https://glennklockwood', 'unit = "PFLOP/s"\ntag = "P"\nsource = "https://glennklockwood'), "but the model counts h100_tflops in 'TFLOP/s'"),
        (lambda t: t.replace("value = 989.4", "value = 0"), "[h100_tflops]: h100_tflops = 0 is not allowed"),
        (lambda t: t.replace("value = 989.4", 'value = "fast"'), "value = 'fast' must be a number"),
        (lambda t: t.replace("value = 989.4\n", ""), "[h100_tflops].value is missing"),
        (lambda t: t.replace('tag = "I"', 'tag = "maybe"', 1), "is not one of C, P, R, I"),
        (lambda t: t.replace("low = 494.7\n", ""), "needs both low and high"),
        (lambda t: t.replace("low = 494.7", "low = 4000"), "is above high"),
        (lambda t: t.replace("value = 4\n", "value = 40\n", 1), "dataset_multiplier_low = 40 is above dataset_multiplier_high = 10"),
        (lambda t: t + "\n[[", "is not valid TOML"),
        (lambda t: t.replace('range_note = "the shortest', 'colour = "red"\nrange_note = "the shortest'), "colour is not a known key"),
    ],
)
def test_a_bad_assumptions_file_is_one_line(tmp_path, edit, fragment):
    path = _edited(tmp_path, edit)
    with pytest.raises(ConfigError) as caught:
        load_assumptions(path)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_assumption_or_file(tmp_path):
    text = default_path().read_text()
    start = text.index("[akash_gpus]")
    end = text.index("[rtx4090_tflops]")
    path = tmp_path / "short.toml"
    path.write_text(text[:start] + text[end:])
    with pytest.raises(ConfigError, match=r"\[akash_gpus\] is missing"):
        load_assumptions(path)
    with pytest.raises(ConfigError, match="does not exist"):
        load_assumptions(tmp_path / "nope.toml")


def test_a_complete_user_file_replaces_the_defaults(tmp_path):
    path = _edited(tmp_path, lambda t: t.replace("value = 250\n", "value = 100\n"))
    loaded = load_assumptions(path)
    assert loaded.values.denoising_steps == 100 and loaded.source_file == path
    assert loaded.overridden == frozenset(), "a file's values are its defaults"


def test_the_dataclass_is_frozen(defaults):
    with pytest.raises(dataclasses.FrozenInstanceError):
        defaults.values.denoising_steps = 1
