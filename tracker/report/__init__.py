"""Event-study reports: one folder with a self-contained HTML page, Markdown, CSV tables and a
JSON of every number, built from the database with the tracker's own analyses.

Typical use::

    from tracker.report import ReportOptions, build_report, write_report
    options = ReportOptions(events=("sora-demo",), category="artificial-intelligence")
    report = build_report(db, config, options)
    write_report(report, "reports/sora")

:func:`build_report` runs the event studies (:mod:`tracker.analysis.eventstudy`), the raw moves, the
correlation comparison (:mod:`tracker.analysis.correlation`) and the GPU context (:mod:`tracker.analysis.gpu`);
:mod:`.sections` lays them out; :mod:`.html` and :mod:`.markdown` render them. See docs/reports.md.
"""
from .build import Chart, ReportData, build_report
from .html import render_html
from .markdown import render_markdown
from .options import ReportOptions, split_ids
from .sections import all_sections
from .writer import REPORT_FILES, check_report_dir, write_report

__all__ = [
    "REPORT_FILES",
    "Chart",
    "ReportData",
    "ReportOptions",
    "all_sections",
    "build_report",
    "check_report_dir",
    "render_html",
    "render_markdown",
    "split_ids",
    "write_report",
]
