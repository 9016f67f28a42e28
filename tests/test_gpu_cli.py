"""tracker gpu estimate | sensitivity | assumptions, end to end."""
from __future__ import annotations

import io
import json
import subprocess
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from tracker.analysis.gpu import NAMES, estimate, load_assumptions

from .conftest import subprocess_env, venv_bin


def _csv_sections(text: str) -> dict[str, pd.DataFrame]:
    sections, name, lines = {}, None, []
    for line in text.splitlines() + ["# end"]:
        if line.startswith("# "):
            if name is not None:
                sections[name] = pd.read_csv(io.StringIO("\n".join(text for text in lines if text.strip())))
            name, lines = line[2:], []
        else:
            lines.append(line)
    return sections


def _assert_one_line_error(result, fragment: str) -> None:
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and fragment in lines[0], result.output


def test_estimate_prints_the_reproduced_figures_with_units_assumptions_and_notes(cli_runner):
    result = cli_runner("gpu", "estimate")
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in ("training_h100_months_low", "4211.31", "10528.3", "H100-months", "11.93", "5.02936",
                     "89166.7", "713333", "video-minutes per H100-hour", "assumptions (all defaults)",
                     "reproduction of the article\n", "YouTube share inconsistency", "does not fit"):
        assert expected in out, expected
    rows = [line.split() for line in out.splitlines()]
    assert ["denoising_steps", "250", "steps", "per", "sample", "False", "250", "P/R"] in rows
    repro = out.split("reproduction of the article\n")[1].split("\n\n")[0].splitlines()[2:]
    assert len(repro) == 9 and all(line.rstrip().endswith("True") for line in repro)


def test_estimate_json_and_set_change_outputs_consistently(cli_runner):
    base = json.loads(cli_runner("gpu", "estimate", "--format", "json").stdout)
    changed = json.loads(cli_runner("gpu", "estimate", "--set", "denoising_steps=500", "--set", "tiktok_ai_share=25%", "--format", "json").stdout)
    value = lambda data, name: {r["output"]: r["value"] for r in data["outputs"]}[name]
    # Twice the steps: twice the GPU time per video-minute, and the same as the library computes.
    assert value(changed, "gpu_seconds_per_video_minute") == pytest.approx(2 * value(base, "gpu_seconds_per_video_minute"))
    library = estimate(load_assumptions(overrides={"denoising_steps": 500, "tiktok_ai_share": 0.25}))
    for name in ("peak_h100", "average_h100", "break_even_minutes_low", "ai_minutes_per_day"):
        assert value(changed, name) == pytest.approx(library.value(name)), name
    assert value(changed, "ai_minutes_per_day") == pytest.approx(17e6 * 0.25 + 2.2e6)
    assert value(changed, "training_h100_months_low") == value(base, "training_h100_months_low"), "training does not depend on sampling"
    assert changed["overridden"] == ["denoising_steps", "tiktok_ai_share"]
    marked = {r["name"]: r for r in changed["assumptions"]}
    assert marked["denoising_steps"]["overridden"] and marked["denoising_steps"]["default"] == 250
    assert not marked["frame_rate"]["overridden"]
    assert not all(r["within"] for r in changed["reproduction"])
    assert all(r["within"] for r in base["reproduction"])
    assert base["notes"][0].startswith("YouTube share inconsistency")


def test_estimate_table_marks_overrides(cli_runner):
    out = cli_runner("gpu", "estimate", "--set", "frame_rate=30", "--set", "usd_per_gpu_hour=2.5").output
    assert "assumptions (set with --set: frame_rate, usd_per_gpu_hour)" in out
    assert "(assumptions or arithmetic differ from the article's)" in out
    assert "peak_usd_per_day" in out and "USD per day" in out


def test_estimate_csv_sections(cli_runner):
    sections = _csv_sections(cli_runner("gpu", "estimate", "--format", "csv").output)
    assert {"outputs", "memory fit", "reproduction of the article", "assumptions (all defaults)", "notes"} <= set(sections)
    outputs = sections["outputs"].set_index("output")
    assert outputs.loc["peak_h100", "value"] == pytest.approx(713_333.33)
    assert outputs.loc["peak_h100", "unit"] == "H100" and outputs.loc["peak_h100", "article"] == 720_000
    assert len(sections["assumptions (all defaults)"]) == len(NAMES)


def test_exact_arithmetic_from_the_cli(cli_runner):
    data = json.loads(cli_runner("gpu", "estimate", "--arithmetic", "exact", "--format", "json").stdout)
    assert data["arithmetic"] == "exact"
    assert {r["output"]: r["value"] for r in data["outputs"]}["param_ratio"] == pytest.approx(29.6296, rel=1e-4)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--set", "warp=9"], "unknown assumption 'warp'"),
        (["--set", "denoising_stepz=9"], "(did you mean denoising_steps?)"),
        (["--set", "denoising_steps=many"], "denoising_steps = 'many' is not a number"),
        (["--set", "peak_factor=-2"], "peak_factor = -2 is not allowed"),
        (["--set", "h100_tflops=0"], "h100_tflops = 0 is not allowed"),
        (["--set", "inference_mfu=0"], "(it divides)"),
        (["--set", "denoising_steps"], "must look like name=value"),
        (["--arithmetic", "rough"], "'rough' is not one of 'article', 'exact'"),
        (["--assumptions", "missing.toml"], "does not exist"),
    ],
)
def test_bad_estimate_input_is_one_line_and_non_zero(cli_runner, args, fragment):
    _assert_one_line_error(cli_runner("gpu", "estimate", *args), fragment)


def test_sensitivity_prints_tornado_and_grid_and_writes_charts(cli_runner, tmp_path):
    result = cli_runner("gpu", "sensitivity", "--chart", "charts/tornado.svg", "--grid-chart", "charts/grid.png")
    assert result.exit_code == 0, result.output
    assert "tornado: peak_h100 (H100), base 713,333" in result.stdout
    assert "grid: peak H100 over adoption x inference utilization" in result.stdout
    assert "peak_h100_at_mfu_0.25" in result.stdout
    assert "wrote tornado chart to charts/tornado.svg" in result.stderr
    assert ET.parse(tmp_path / "charts" / "tornado.svg").getroot().tag.endswith("svg")
    assert (tmp_path / "charts" / "grid.png").read_bytes()[:4] == b"\x89PNG"


def test_sensitivity_json_with_overrides_and_custom_grid(cli_runner):
    result = cli_runner("gpu", "sensitivity", "--set", "guidance_passes=2", "--adoption", "1,2", "--utilization", "0.5,1", "--format", "json")
    data = json.loads(result.stdout)
    assert data["base"] == pytest.approx(2 * 713_333.33, rel=1e-6), "classifier-free guidance doubles the peak"
    assert len(data["grid"]) == 4 and {r["inference_mfu"] for r in data["grid"]} == {0.5, 1.0}
    assert data["tornado"][0]["swing"] >= data["tornado"][-1]["swing"]


def test_sensitivity_csv_is_tidy(cli_runner):
    sections = _csv_sections(cli_runner("gpu", "sensitivity", "--metric", "training_h100_months_high", "--format", "csv").output)
    tornado, grid = sections.values()
    assert tornado.iloc[0]["assumption"] == "dataset_multiplier_high"
    assert list(grid.columns)[:3] == ["adoption_multiplier", "ai_minutes_per_day", "inference_mfu"]


def test_sensitivity_metric_that_nothing_moves_still_draws(cli_runner, tmp_path):
    result = cli_runner("gpu", "sensitivity", "--metric", "h100_cards_to_hold_weights", "--chart", "flat.svg")
    assert result.exit_code == 0, result.output
    ET.parse(tmp_path / "flat.svg")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--chart", "tornado.jpg"], "must end in .svg or .png"),
        (["--grid-chart", "grid.pdf"], "must end in .svg or .png"),
        (["--metric", "peak"], "unknown metric 'peak'"),
        (["--utilization", "0,1"], "utilization value 0 is not allowed"),
        (["--adoption", "1,x"], "--adoption '1,x' must be numbers separated by commas"),
        (["--set", "sora_params=0"], "sora_params = 0 is not allowed"),
        (["--top", "0"], "Invalid value for '--top'"),
    ],
)
def test_bad_sensitivity_input_writes_nothing(cli_runner, tmp_path, args, fragment):
    _assert_one_line_error(cli_runner("gpu", "sensitivity", "--chart", "ok.svg", *args), fragment)
    assert not (tmp_path / "ok.svg").exists(), "nothing is written when any input is bad"


def test_assumptions_lists_names_values_units_sources(cli_runner):
    table = cli_runner("gpu", "assumptions").output
    assert "glennklockwood.com" in table and "denoising_steps" in table
    data = json.loads(cli_runner("gpu", "assumptions", "--set", "peak_factor=4", "--format", "json").stdout)
    assert [r["name"] for r in data] == list(NAMES)
    rows = {r["name"]: r for r in data}
    assert rows["peak_factor"]["value"] == 4 and rows["peak_factor"]["overridden"]
    assert rows["denoising_steps"]["range_note"] and rows["h100_tflops"]["unit"] == "TFLOP/s"
    assert all(r["source"] and r["unit"] and r["description"] for r in data)


def test_the_console_script(tmp_path):
    done = subprocess.run(
        [venv_bin("tracker"), "gpu", "estimate", "--set", "youtube_eligible_fraction=1", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, env=subprocess_env(),
    )
    assert done.returncode == 0, done.stderr
    outputs = {r["output"]: r["value"] for r in json.loads(done.stdout)["outputs"]}
    assert outputs["average_h100"] == pytest.approx(124_583.3, rel=1e-5)
    bad = subprocess.run([venv_bin("tracker"), "gpu", "estimate", "--set", "inference_mfu=0"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env=subprocess_env())
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "inference_mfu = 0 is not allowed" in bad.stderr
