"""The one chart the report draws itself: each token's raw move over the press week.

The event-study, correlation and GPU charts come from their own packages.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.plotting import new_figure

SAMPLE_COLOUR, BENCHMARK_COLOUR = "#8c564b", "#7f7f7f"


def moves_chart(moves: pd.DataFrame, title: str):
    """Horizontal bars of ``move`` (one event's rows of :func:`tracker.report.moves.raw_moves`)."""
    rows = moves.dropna(subset=["move"]).sort_values("move", ascending=False)
    fig, ax = new_figure(8, max(2.5, 0.28 * len(rows) + 1.3))
    values = rows["move"].to_numpy() * 100
    colours = np.where(rows["role"].to_numpy() == "benchmark", BENCHMARK_COLOUR, SAMPLE_COLOUR)
    ax.barh(np.arange(len(rows)), values, color=colours)
    labels = [f"{coin} (benchmark)" if role == "benchmark" else coin for coin, role in zip(rows["coin_id"], rows["role"])]
    ax.set_yticks(np.arange(len(rows)), labels, fontsize=8 if len(rows) > 20 else 9)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    if len(rows):
        first = rows.iloc[0]
        ax.set_xlabel(f"raw move, close {first['start_day']} to close {first['end_day']} (%)")
    ax.set_title(title)
    return fig
