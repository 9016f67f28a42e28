"""Writing a report folder: index.html, report.md, report.json, tables/*.csv, charts/*.svg.

The folder is checked before any work (:func:`check_report_dir`): a file is refused, and so is
a folder that is not empty unless ``overwrite``. Each file is written to a temporary name and
renamed into place, so a reader never sees half a page.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..analysis.output import to_csv
from ..paths import check_output_dir
from .build import ReportData
from .html import render_html
from .markdown import render_markdown
from .sections import all_sections

REPORT_FILES = ("index.html", "report.md", "report.json")


def check_report_dir(path: str | Path, *, overwrite: bool = False) -> Path:
    """The folder a report may be written to, or a one-line InputError saying why not."""
    return check_output_dir(path, what="report", empty_unless_overwrite=True, overwrite=overwrite)


def _write(target: Path, text: str) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    # A plain open() (not mkstemp) so the file gets the user's usual permissions.
    temporary = target.parent / f".{target.name}.{os.getpid()}.tmp"
    try:
        with open(temporary, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def write_report(report: ReportData, path: str | Path, *, overwrite: bool = False) -> list[Path]:
    """Render and write the report; returns the files written.

    With ``overwrite``, CSV and SVG files of an earlier report in ``tables/`` and ``charts/``
    that this report does not write are removed, so the folder never mixes two reports; any
    other file in the folder is left alone.
    """
    folder = check_report_dir(path, overwrite=overwrite)
    folder.mkdir(parents=True, exist_ok=True)
    sections = all_sections(report)
    written = [
        _write(folder / "index.html", render_html(report, sections)),
        _write(folder / "report.md", render_markdown(report, sections)),
        _write(folder / "report.json", report.to_json() + "\n"),
    ]
    for name, frame in report.tables.items():
        written.append(_write(folder / "tables" / f"{name}.csv", to_csv(frame) + "\n"))
    for chart in report.charts.values():
        written.append(_write(folder / "charts" / f"{chart.name}.svg", chart.svg))
    keep = set(written)
    for stale in [*folder.glob("tables/*.csv"), *folder.glob("charts/*.svg")]:
        if stale not in keep:
            stale.unlink()
    return written
