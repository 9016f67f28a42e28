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
from __future__ import annotations

from .. import lazy_exports

# name -> submodule. Loaded on first use, so importing one light submodule (for `tracker status`)
# does not load them all (pandas among them). Add new exports here.
_EXPORTS = {
    "Chart": "build",
    "ReportData": "build",
    "build_report": "build",
    "render_html": "html",
    "render_markdown": "markdown",
    "ReportOptions": "options",
    "split_ids": "options",
    "all_sections": "sections",
    "REPORT_FILES": "writer",
    "check_report_dir": "writer",
    "write_report": "writer",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = sorted(_EXPORTS)
