"""Shared chart plumbing: a headless matplotlib figure, saved as SVG or PNG.

Reports embed the SVG text inline, so a chart never needs a file or the network to show.
"""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the daemon, CI and reports have no display
import matplotlib.pyplot as plt

# One look for every chart the tracker draws.
STYLE = {
    "figure.figsize": (8, 4.5),
    "figure.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "font.size": 10,
    "svg.fonttype": "none",  # keep text as text in SVG: searchable and small
}


def new_figure(width: float = 8, height: float = 4.5):
    """A (figure, axes) pair in the tracker's style."""
    with plt.rc_context(STYLE):
        fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def to_svg(fig) -> str:
    """The figure as inline SVG text (the XML prolog removed), and the figure closed."""
    buffer = io.StringIO()
    with plt.rc_context(STYLE):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def save(fig, path: str | Path) -> Path:
    """Write the figure to ``path`` (format from the suffix: .svg or .png) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with plt.rc_context(STYLE):
        fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
    return path
