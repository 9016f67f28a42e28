"""tracker gpu estimate | sensitivity | assumptions."""
from __future__ import annotations

import click

from ..analysis import plotting
from ..analysis.gpu import (
    ARITHMETIC,
    ARTICLE,
    check_chart_path,
    estimate,
    grid_figure,
    load_assumptions,
    parse_set,
    sensitivity,
    tornado_figure,
)
from ..analysis.gpu.sensitivity import DEFAULT_ADOPTION, DEFAULT_UTILIZATION
from ..analysis.gpu.sensitivity_charts import h100_references
from ..analysis.output import render, render_sections
from ..errors import InputError
from ._context import format_option

set_option = click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="Change one assumption for this run, e.g. --set denoising_steps=50 or --set tiktok_ai_share=25%. Repeatable.",
)
arithmetic_option = click.option(
    "--arithmetic",
    type=click.Choice(ARITHMETIC),
    default=ARTICLE,
    show_default=True,
    help="'article' keeps the article's roundings (reproduces its figures); 'exact' drops them.",
)
file_option = click.option(
    "--assumptions",
    "assumptions_path",
    metavar="FILE",
    help="A complete assumptions file in the format of config/gpu.toml (default: the packaged one).",
)


def _numbers(option: str, text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise InputError(f"{option} {text!r} must be numbers separated by commas, e.g. 0.25,0.5,1") from None


def _join(values: tuple[float, ...]) -> str:
    return ",".join(f"{v:g}" for v in values)


@click.group("gpu")
def gpu_group() -> None:
    """How many H100s Sora-style video needs (the Factorial Funds model).

    Every input of the model is a named assumption with a unit and a source (config/gpu.toml);
    change any of them with --set. docs/gpu.md explains the model step by step.
    """


@gpu_group.command("estimate")
@set_option
@arithmetic_option
@file_option
@format_option
def gpu_estimate(sets: tuple[str, ...], arithmetic: str, assumptions_path: str | None, fmt: str) -> None:
    """Training, inference, break-even, peak H100s and comparisons.

    Training compute, inference cost, the break-even point, average and peak H100s for the
    adoption scenario, and comparisons with shipments, fleets and consumer GPUs. Prints every output with its unit (and the article's figure where it published one), the
    reproduction check, the assumptions used (overridden ones marked) and notes, including the
    article's YouTube-share inconsistency.
    """
    result = estimate(load_assumptions(assumptions_path, parse_set(sets)), arithmetic)
    click.echo(result.to_json() if fmt == "json" else render_sections(result.sections(fmt), fmt))


@gpu_group.command("sensitivity")
@click.option("--metric", default="peak_h100", show_default=True, metavar="OUTPUT", help="The output the tornado varies (any output of `gpu estimate`).")
@click.option("--adoption", default=_join(DEFAULT_ADOPTION), show_default=True, metavar="LIST", help="Grid rows: multipliers on every platform's AI share (capped at 100%).")
@click.option("--utilization", default=_join(DEFAULT_UTILIZATION), show_default=True, metavar="LIST", help="Grid columns: inference utilization, each in (0, 1].")
@click.option("--chart", "chart_path", metavar="PATH", help="Write the tornado chart here (.svg or .png).")
@click.option("--grid-chart", "grid_chart_path", metavar="PATH", help="Write the adoption x utilization heatmap here (.svg or .png).")
@click.option("--top", default=12, show_default=True, type=click.IntRange(1, 1000), help="Bars in the tornado chart.")
@set_option
@arithmetic_option
@file_option
@format_option
def gpu_sensitivity(
    metric: str,
    adoption: str,
    utilization: str,
    chart_path: str | None,
    grid_chart_path: str | None,
    top: int,
    sets: tuple[str, ...],
    arithmetic: str,
    assumptions_path: str | None,
    fmt: str,
) -> None:
    """What moves the peak most (tornado), and an adoption x utilization grid.

    The tornado sets each assumption to the low and the high end of its documented range, all
    others held; the grid gives the peak H100 over adoption x inference utilization.

    --set moves the base point every variation starts from.
    """
    paths = [check_chart_path(p) if p else None for p in (chart_path, grid_chart_path)]
    assumptions = load_assumptions(assumptions_path, parse_set(sets))
    result = sensitivity(
        assumptions,
        metric=metric,
        adoption=_numbers("--adoption", adoption),
        utilization=_numbers("--utilization", utilization),
        arithmetic=arithmetic,
    )
    click.echo(result.to_json() if fmt == "json" else render_sections(result.sections(fmt), fmt))
    a = assumptions.values
    if paths[0]:
        references = h100_references(a) if result.unit == "H100" else None
        plotting.save(tornado_figure(result, top=top, references=references), paths[0])
        click.echo(f"wrote tornado chart to {paths[0]}", err=True)
    if paths[1]:
        plotting.save(grid_figure(result, reference=a.h100_shipments_2023, reference_label="2023 H100 shipments"), paths[1])
        click.echo(f"wrote grid chart to {paths[1]}", err=True)


@gpu_group.command("assumptions")
@set_option
@file_option
@format_option
def gpu_assumptions(sets: tuple[str, ...], assumptions_path: str | None, fmt: str) -> None:
    """Every assumption: name, value, unit, tag, sensitivity range and source."""
    frame = load_assumptions(assumptions_path, parse_set(sets)).frame()
    if fmt == "table":  # the descriptions and range notes are too long for a terminal row
        frame = frame[["name", "value", "unit", "overridden", "tag", "low", "high", "source"]]
    click.echo(render(frame, fmt))
