"""Writing a fitted study to a folder: every frame as CSV, all numbers as JSON, the charts as SVG."""
from __future__ import annotations

from pathlib import Path

from ...paths import check_output_dir as check_paths
from .. import plotting
from ..output import to_csv
from . import caar_charts, placebo_chart
from .results import EventStudyResults


def check_output_dir(path: str | Path) -> Path:
    """Refuse a path that cannot become a writable folder, before any work is done."""
    return check_paths(path, what="study output")


def write_outputs(results: EventStudyResults, path: str | Path) -> list[Path]:
    """Write ``<frame>.csv`` for every frame, ``results.json``, ``summary.txt``, ``caar.svg``, ``car.svg`` and, with a placebo, ``placebo.svg``.

    Returns the paths written.
    """
    folder = check_output_dir(path)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in results.to_frames().items():
        target = folder / f"{name}.csv"
        target.write_text(to_csv(frame) + "\n")
        written.append(target)
    for name, text in (("results.json", results.to_json()), ("summary.txt", results.summary() + "\n")):
        (folder / name).write_text(text)
        written.append(folder / name)
    written.append(plotting.save(caar_charts.caar_chart(results)[0], folder / "caar.svg"))
    written.append(plotting.save(caar_charts.car_bar_chart(results)[0], folder / "car.svg"))
    if results.placebo is not None:
        written.append(plotting.save(placebo_chart.placebo_histogram(results)[0], folder / "placebo.svg"))
    return written
