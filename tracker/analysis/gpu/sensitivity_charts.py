"""Charts for the GPU estimate: the sensitivity tornado and the adoption x utilization heatmap.

Both return a matplotlib figure in the tracker's style; write it with
:func:`tracker.analysis.plotting.save` (SVG or PNG by suffix) or embed it with :func:`tracker.analysis.plotting.to_svg`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ...errors import InputError
from ...paths import check_output_file
from .. import plotting
from .assumptions import Assumptions
from .results import SensitivityResult

CHART_SUFFIXES = (".svg", ".png")
LOW_COLOUR, HIGH_COLOUR = "#4C72B0", "#DD8452"


def check_chart_path(path: str | Path) -> Path:
    """``path`` if a chart can be written there (.svg or .png, not a folder); checked before any work."""
    path = Path(path)
    if path.suffix.lower() not in CHART_SUFFIXES:
        raise InputError(f"chart path {str(path)!r} must end in .svg or .png")
    if path.is_dir():
        raise InputError(f"chart path {str(path)!r} is a folder; give a file name ending in .svg or .png")
    return check_output_file(path, what="chart")


def compact(value: float) -> str:
    """713333 -> '713k', 4.28e6 -> '4.28M': labels short enough for a bar or a cell."""
    magnitude = abs(value)
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _label(value: float) -> str:
    return compact(value) if abs(value) >= 1e4 else f"{value:g}"


def _axis_formatter():
    return FuncFormatter(lambda value, _pos: compact(value))


def h100_references(a: Assumptions) -> dict[str, float]:
    """Reference lines for a chart counted in H100s: a year's shipments and the big three's purchases."""
    return {
        "2023 H100 shipments": a.h100_shipments_2023,
        "Microsoft+Meta+Google 2023": a.big3_h100_2023,
    }


def tornado_figure(result: SensitivityResult, *, top: int = 12, references: dict[str, float] | None = None):
    """Bars from the base value to the metric at each assumption's low and high end.

    Only assumptions that move the metric are drawn (at most ``top``, largest swing on top).
    ``references`` adds labelled vertical lines, e.g. {"2023 H100 shipments": 550_000}.
    """
    moving = result.tornado[result.tornado["swing"] > 0].head(top).iloc[::-1]
    fig, ax = plotting.new_figure(8, max(2.5, 0.45 * len(moving) + 1.5))
    base = result.base
    positions = np.arange(len(moving))
    for y, row in zip(positions, moving.itertuples()):
        ax.barh(y, row.metric_at_low - base, left=base, color=LOW_COLOUR, height=0.6)
        ax.barh(y, row.metric_at_high - base, left=base, color=HIGH_COLOUR, height=0.6)
    labels = [f"{row.assumption}\n{_label(row.low)} – {_label(row.high)} (now {_label(row.value)})" for row in moving.itertuples()]
    ax.set_yticks(positions, labels, fontsize=8)
    ax.axvline(base, color="black", linewidth=1)
    for label, value in (references or {}).items():
        ax.axvline(value, color="grey", linestyle="--", linewidth=1)
        ax.text(
            value, len(moving) - 0.5, label, color="dimgrey", fontsize=8, rotation=90, va="top", ha="center",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
        )
    ends = np.concatenate([[base], moving["metric_at_low"], moving["metric_at_high"], list((references or {}).values())])
    if ends.min() > 0 and ends.max() / ends.min() > 10:  # ranges spanning decades read better on a log axis
        ax.set_xscale("log")
    ax.xaxis.set_major_formatter(_axis_formatter())
    ax.set_xlabel(f"{result.metric} ({result.unit}); base {compact(base)}")
    ax.set_title(f"What moves {result.metric} most: each assumption over its range")
    ax.legend(
        handles=[Patch(color=LOW_COLOUR, label="at the range's low end"), Patch(color=HIGH_COLOUR, label="at the range's high end")],
        loc="lower right",
        fontsize=8,
    )
    ax.grid(axis="y", visible=False)
    return fig


def grid_figure(result: SensitivityResult, *, reference: float | None = None, reference_label: str = ""):
    """Heatmap of peak H100 over adoption (rows) and inference utilization (columns), log colour.

    With ``reference`` (e.g. a year's H100 shipments) each cell also shows the peak as a multiple of it.
    """
    grid = result.grid
    table = grid.pivot(index="adoption_multiplier", columns="inference_mfu", values="peak_h100")
    minutes = grid.drop_duplicates("adoption_multiplier").set_index("adoption_multiplier")["ai_minutes_per_day"]
    fig, ax = plotting.new_figure(8, 1.0 + 0.6 * len(table.index))
    norm = LogNorm()
    image = ax.imshow(table.to_numpy(), cmap="viridis", norm=norm, aspect="auto", origin="lower")
    ax.set_xticks(range(len(table.columns)), [f"{mfu:.0%}" for mfu in table.columns])
    ax.set_yticks(range(len(table.index)), [f"x{m:g} ({compact(minutes[m])} min/day)" for m in table.index])
    ax.set_xlabel("inference utilization (fraction of H100 peak)")
    ax.set_ylabel("adoption (AI shares x multiplier)")
    for (row, col), value in np.ndenumerate(table.to_numpy()):
        text = compact(value) + (f"\n{value / reference:.2g}x" if reference else "")
        colour = "black" if norm(value) > 0.6 else "white"  # readable on viridis' bright end
        ax.text(col, row, text, ha="center", va="center", fontsize=8, color=colour)
    colorbar = fig.colorbar(image, ax=ax)
    colorbar.ax.yaxis.set_major_formatter(_axis_formatter())
    colorbar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    colorbar.ax.yaxis.set_minor_formatter(NullFormatter())
    colorbar.set_label("peak H100")
    suffix = f"; second line: x {reference_label}" if reference else ""
    ax.set_title(f"Peak H100 needed{suffix}")
    ax.grid(False)
    return fig


__all__ = ["CHART_SUFFIXES", "check_chart_path", "compact", "grid_figure", "h100_references", "tornado_figure"]
