"""The placebo histogram: the pseudo-event CAARs of one window, the real event's CAAR marked."""
from __future__ import annotations

import numpy as np

from ...errors import InputError
from ..plotting import new_figure
from .results import EventStudyResults
from .windows import as_window


def placebo_histogram(results: EventStudyResults, window: object | None = None, title: str | None = None):
    """Histogram of the pseudo-CAARs over ``window`` (default: the primary window), as (figure, axes)."""
    if results.placebo is None:
        raise InputError("the study ran without a placebo; fit it with `placebo`", parameters=["placebo"])
    label = results.primary_window if window is None else as_window(window, "window").label
    table = results.placebo.table.set_index("window")
    if label not in table.index:
        raise InputError(f"window {label} is not one of the study's event windows ({', '.join(table.index)})")
    pseudo = results.placebo.pseudo
    values = pseudo.loc[pseudo["window"] == label, "caar"].to_numpy() * 100
    event = float(table.loc[label, "caar"]) * 100
    p = float(table.loc[label, "p_value"])
    fig, ax = new_figure()
    bins = min(40, max(10, int(np.sqrt(len(values))) * 2))
    ax.hist(values, bins=bins, color="tab:blue", alpha=0.7, label=f"pseudo-events ({len(values)} days)")
    ax.axvline(event, color="tab:red", linewidth=2, label=f"the event: {event:+.2f}% (placebo p = {p:.3f})")
    ax.axvline(-event, color="tab:red", linewidth=1, linestyle=":", label="as extreme, other sign")
    ax.set_xlabel(f"CAAR over {label} (%)")
    ax.set_ylabel("pseudo-event days")
    ax.set_title(title or f"Placebo: CAAR over {label} on every pseudo-event day {results.placebo.range.label}")
    ax.legend(loc="best", fontsize=8)
    return fig, ax
