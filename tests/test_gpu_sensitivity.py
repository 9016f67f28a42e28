"""Sensitivity (tornado and grid) and the charts drawn from it."""
from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET

import pytest

from tracker.analysis import plotting
from tracker.analysis.gpu import check_chart_path, compute, grid, grid_figure, load_assumptions, sensitivity, tornado, tornado_figure
from tracker.analysis.gpu.sensitivity_charts import compact, h100_references
from tracker.errors import InputError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def defaults():
    return load_assumptions()


@pytest.fixture(scope="module")
def result(defaults):
    return sensitivity(defaults)


def test_tornado_varies_each_ranged_assumption_and_sorts_by_swing(defaults, result):
    frame = result.tornado
    ranged = {name for name, info in defaults.info.items() if info.has_range}
    assert set(frame["assumption"]) == ranged
    assert frame["swing"].is_monotonic_decreasing
    assert result.base == pytest.approx(compute(defaults.values).peak_h100)
    for row in frame.itertuples():  # each end is the model at that value, everything else unchanged
        at_low = compute(dataclasses.replace(defaults.values, **{row.assumption: row.low})).peak_h100
        at_high = compute(dataclasses.replace(defaults.values, **{row.assumption: row.high})).peak_h100
        assert (row.metric_at_low, row.metric_at_high) == pytest.approx((at_low, at_high))
        assert row.swing == pytest.approx(abs(at_high - at_low))


def test_training_inputs_do_not_move_the_peak_and_inference_inputs_do(result):
    swing = result.tornado.set_index("assumption")["swing"]
    for name in ("dit_training_steps", "dataset_multiplier_high", "training_mfu", "days_per_month", "video_fraction", "clip_seconds"):
        assert swing[name] == 0, name
    for name in ("denoising_steps", "inference_mfu", "peak_factor", "tiktok_ai_share", "guidance_passes"):
        assert swing[name] > 0, name
    # The denoising chain (25 to 1000 steps) spans a 40x range: nothing moves the peak more.
    assert result.tornado.iloc[0]["assumption"] in {"denoising_steps", "dit_forward_gflops"}


def test_tornado_on_a_training_metric_ignores_adoption(defaults):
    frame = tornado(defaults, "training_h100_months_high").set_index("assumption")
    assert frame.loc["tiktok_ai_share", "swing"] == 0 and frame.loc["peak_factor", "swing"] == 0
    assert frame.loc["dataset_multiplier_high", "metric_at_high"] == pytest.approx(10 * 10_528.3, rel=1e-4)
    assert frame.loc["training_mfu", "metric_at_low"] == pytest.approx(10_528.3 / 0.3, rel=1e-4)


def test_sensitivity_starts_from_the_overridden_point(defaults):
    moved = sensitivity(defaults.with_overrides({"denoising_steps": "50"}))
    assert moved.base == pytest.approx(compute(moved_values := dataclasses.replace(defaults.values, denoising_steps=50)).peak_h100)
    row = moved.tornado.set_index("assumption").loc["peak_factor"]
    assert row["metric_at_high"] == pytest.approx(compute(dataclasses.replace(moved_values, peak_factor=16)).peak_h100)


def test_grid_covers_adoption_by_utilization(defaults, result):
    frame = result.grid
    assert len(frame) == 5 * 4
    base = frame[(frame["adoption_multiplier"] == 1) & (frame["inference_mfu"] == 1)]
    assert base["peak_h100"].item() == pytest.approx(result.base)
    assert base["ai_minutes_per_day"].item() == pytest.approx(10.7e6)
    for _, by_mfu in frame.groupby("adoption_multiplier"):
        assert by_mfu.sort_values("inference_mfu")["peak_h100"].is_monotonic_decreasing
    for _, by_adoption in frame.groupby("inference_mfu"):
        assert by_adoption.sort_values("adoption_multiplier")["peak_h100"].is_monotonic_increasing
    # x4 would put TikTok at 200%: the share is capped at 100%, so minutes = 17M + 4 x 2.2M.
    top = frame[frame["adoption_multiplier"] == 4]["ai_minutes_per_day"].iloc[0]
    assert top == pytest.approx(17e6 + 4 * 2.2e6)
    assert frame["peak_share_of_2023_shipments"].tolist() == pytest.approx((frame["peak_h100"] / 550_000).tolist())


def test_grid_table_pivots_for_reading(result):
    table = result.grid_table()
    assert list(table.columns) == [
        "adoption_multiplier", "ai_minutes_per_day",
        "peak_h100_at_mfu_0.25", "peak_h100_at_mfu_0.5", "peak_h100_at_mfu_0.75", "peak_h100_at_mfu_1",
    ]
    assert len(table) == 5


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"utilization": (0.5, 0)}, "utilization value 0 is not allowed"),
        ({"utilization": (1.5,)}, "at most 1"),
        ({"adoption": (-1,)}, "adoption value -1 is not allowed"),
        ({"adoption": ()}, "adoption needs at least one value"),
    ],
)
def test_bad_grid_axes(defaults, kwargs, fragment):
    with pytest.raises(InputError, match=fragment):
        grid(defaults, **kwargs)


def test_unknown_metric(defaults):
    with pytest.raises(InputError, match="unknown metric 'peak'; choose one of: .*peak_h100"):
        sensitivity(defaults, metric="peak")


def test_json_has_both_frames(result):
    data = json.loads(result.to_json())
    assert data["metric"] == "peak_h100" and data["unit"] == "H100"
    assert len(data["tornado"]) == len(result.tornado) and len(data["grid"]) == 20
    assert all(row["range_note"] for row in data["tornado"])


def _assert_svg(path):
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")


def test_charts_are_valid_svg_and_png(tmp_path, defaults, result):
    tornado_svg = plotting.save(tornado_figure(result, references=h100_references(defaults.values)), tmp_path / "t.svg")
    _assert_svg(tornado_svg)
    text = tornado_svg.read_text()
    assert "denoising_steps" in text and "2023 H100 shipments" in text
    grid_png = plotting.save(grid_figure(result, reference=550_000, reference_label="2023 H100 shipments"), tmp_path / "sub" / "g.png")
    assert grid_png.read_bytes()[:8] == PNG_MAGIC and grid_png.stat().st_size > 5_000
    inline = plotting.to_svg(tornado_figure(result, top=3))
    assert inline.startswith("<svg") and inline.count("<svg") == 1
    ET.fromstring(inline)


def test_tornado_chart_for_a_metric_that_moves_little(defaults):
    flat = sensitivity(defaults, metric="model_weights_gb")  # only sora_params moves it
    svg = plotting.to_svg(tornado_figure(flat))
    assert "sora_params" in svg and "denoising_steps" not in svg


@pytest.mark.parametrize("name, fragment", [("chart.jpg", "must end in .svg or .png"), ("folder", "is a folder"), ("afile/chart.svg", "is a file, not a folder")])
def test_chart_paths_are_checked_first(tmp_path, name, fragment):
    (tmp_path / "folder.svg").mkdir()
    (tmp_path / "afile").write_text("x")
    target = tmp_path / ("folder.svg" if name == "folder" else name)
    with pytest.raises(InputError, match=fragment):
        check_chart_path(target)
    assert check_chart_path(tmp_path / "new" / "deeper" / "c.PNG").name == "c.PNG"


def test_compact_labels():
    assert [compact(v) for v in (713_333, 4.277e6, 950, 2.5e9, 0.39)] == ["713k", "4.28M", "950", "2.5B", "0.39"]
