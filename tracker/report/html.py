"""The report as one self-contained HTML page: inline CSS, charts as inline SVG, no scripts,
no fonts or images from anywhere. The only external URLs are the events' source links.

Every text is escaped; every number is a ``<td>`` or ``<span>`` with ``data-path`` (its JSON
pointer in report.json) and ``data-value`` (the JSON value), so the page can be checked
against the JSON cell by cell.
"""
from __future__ import annotations

import json
import re
from html import escape

from .build import ReportData
from .document import BulletList, Callout, Cell, Figure, FigureRow, Inline, Link, Paragraph, Section, Subheading, Table
from .sections import all_sections

_WEB_URL = re.compile(r"^https?://", re.IGNORECASE)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --rule: #d8dde6; --band: #f4f6f9; --accent: #31476b; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
header, main, footer, nav { max-width: 1120px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; }
h1 { font-size: 28px; margin: 0 0 6px; line-height: 1.2; }
h2 { font-size: 21px; margin: 36px 0 10px; padding-top: 10px; border-top: 2px solid var(--rule); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p.meta { color: var(--muted); margin: 0 0 12px; }
nav.toc { margin-top: 8px; }
nav.toc ol { margin: 0; padding-left: 20px; columns: 2; color: var(--muted); }
nav.toc a { color: var(--accent); }
a { color: var(--accent); }
.simulated-banner { background: #ffe08a; color: #3d2c00; border-bottom: 3px solid #b8860b; text-align: center;
  font-weight: 700; letter-spacing: 0.04em; padding: 10px 16px; }
.callout { border-left: 5px solid #c58b00; background: #fff8e6; padding: 8px 14px; margin: 12px 0; }
.callout.info { border-left-color: #6b7a99; background: var(--band); }
.callout.simulated { border-left-color: #b8860b; background: #fff1bf; }
.callout strong { display: block; text-transform: capitalize; }
.table-wrap { overflow-x: auto; margin: 12px 0 18px; }
table { border-collapse: collapse; font-size: 13px; min-width: 40%; }
caption { caption-side: top; text-align: left; color: var(--muted); padding-bottom: 4px; }
th, td { border-bottom: 1px solid var(--rule); padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) td { background: #fafbfc; }
.csv-note { color: var(--muted); font-size: 12px; margin-top: 2px; }
figure.chart { margin: 14px 0 22px; padding: 10px; border: 1px solid var(--rule); border-radius: 4px; }
.figure-row { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 14px; }
.figure-row figure.chart { margin: 6px 0 12px; }
figure.chart svg { display: block; width: 100%; max-width: 860px; height: auto; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
figcaption strong { color: var(--ink); }
span.num { font-variant-numeric: tabular-nums; font-weight: 600; }
footer { color: var(--muted); font-size: 12px; padding: 24px; border-top: 1px solid var(--rule); margin-top: 40px; }
@media print { .table-wrap { overflow: visible; } figure.chart { break-inside: avoid; } }
"""


def _value(cell: Cell) -> str:
    return escape(json.dumps(cell.value), quote=True)


def _inline(part: Inline) -> str:
    if isinstance(part, Cell):
        if not part.numeric:
            return escape(part.text)
        return f'<span class="num" data-path="{escape(part.path, quote=True)}" data-value="{_value(part)}">{escape(part.text)}</span>'
    if isinstance(part, Link):
        if not _WEB_URL.match(str(part.url).strip()):  # javascript: and the like stay text
            return escape(part.text)
        return f'<a class="provenance" href="{escape(part.url.strip(), quote=True)}" rel="noopener noreferrer">{escape(part.text)}</a>'
    return code_spans(escape(str(part)))


def code_spans(escaped: str) -> str:
    """Escaped text with `backticked` commands as <code> (their content is already escaped)."""
    return _CODE_SPAN.sub(r"<code>\1</code>", escaped)


def _inlines(parts) -> str:
    return "".join(_inline(p) for p in parts)


def _table(table: Table) -> str:
    numeric = [table.numeric_column(i) for i in range(len(table.columns))]
    num_class = ' class="num"'
    head = "".join(f'<th{num_class if n else ""} scope="col">{escape(c)}</th>' for c, n in zip(table.columns, numeric))
    body = []
    for row in table.rows:
        cells = []
        for part in row:
            if isinstance(part, Cell) and part.numeric:
                cells.append(f'<td class="num" data-path="{escape(part.path, quote=True)}" data-value="{_value(part)}">{escape(part.text)}</td>')
            else:
                cells.append(f"<td>{_inline(part)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{escape(table.caption)}</caption>" if table.caption else ""
    note = f'<p class="csv-note">Full table: <code>tables/{escape(table.name)}.csv</code></p>' if table.name else ""
    return (f'<div class="table-wrap"><table>{caption}<thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>{note}</div>')


def _block(block) -> str:
    if isinstance(block, Paragraph):
        return f"<p>{_inlines(block.parts)}</p>"
    if isinstance(block, Subheading):
        return f"<h3>{escape(block.text)}</h3>"
    if isinstance(block, Callout):
        return f'<div class="callout {escape(block.kind, quote=True)}"><strong>{escape(block.title)}</strong>{_inlines(block.parts)}</div>'
    if isinstance(block, BulletList):
        return "<ul>" + "".join(f"<li>{_inlines(item)}</li>" for item in block.items) + "</ul>"
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        # block.svg is matplotlib's own output, namespaced by tracker.report.svg: markup, not text.
        return (f'<figure class="chart" id="chart-{escape(block.name, quote=True)}" data-chart="{escape(block.name, quote=True)}">'
                f'{block.svg}<figcaption><strong>{escape(block.title)}.</strong> {escape(block.caption)}</figcaption></figure>')
    if isinstance(block, FigureRow):
        return '<div class="figure-row">' + "".join(_block(f) for f in block.figures) + "</div>"
    raise TypeError(f"unknown block {type(block).__name__}")


def _section(section: Section) -> str:
    body = "\n".join(_block(b) for b in section.blocks)
    return f'<section id="{escape(section.anchor, quote=True)}">\n<h2>{escape(section.title)}</h2>\n{body}\n</section>'


def render_html(report: ReportData, sections: list[Section] | None = None) -> str:
    """The whole page as a string."""
    sections = sections if sections is not None else all_sections(report)
    meta = report.doc["report"]
    simulated = report.simulated
    title = ("SIMULATED DATA: " if simulated else "") + meta["title"]
    banner = (
        f'<div class="simulated-banner" id="simulated-banner">SIMULATED DATA: {code_spans(escape(meta["simulated_reason"]))}. '
        "Nothing in this report describes a real market.</div>\n" if simulated else ""
    )
    toc = "".join(f'<li><a href="#{escape(s.anchor, quote=True)}">{escape(s.title)}</a></li>' for s in sections)
    generated = meta["generated_at"].replace("T", " ")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{escape(meta['generator'], quote=True)} {escape(meta['tracker_version'], quote=True)}">
<title>{escape(title)}</title>
<style>{CSS}</style>
</head>
<body data-simulated="{'true' if simulated else 'false'}">
{banner}<header>
<h1>{escape(title)}</h1>
<p class="meta">Generated {escape(generated)} UTC by {escape(meta['generator'])} {escape(meta['tracker_version'])}. Every number on this page is in report.json beside it; the tables are in tables/*.csv.</p>
</header>
<nav class="toc" aria-label="Contents"><ol>{toc}</ol></nav>
<main>
{chr(10).join(_section(s) for s in sections)}
</main>
<footer>{escape(meta['title'])}{' (SIMULATED DATA)' if simulated else ''}. Made with ai-token-tracker; statistics from its event-study engine, correlation analyser and GPU estimator.</footer>
</body>
</html>
"""
