"""The report as Markdown (report.md): the same sections and numbers as the HTML, with the
charts linked from charts/*.svg beside it."""
from __future__ import annotations

import re

from .build import ReportData
from .document import BulletList, Callout, Cell, Figure, FigureRow, Inline, Link, Paragraph, Section, Subheading, Table
from .sections import all_sections

_SPECIAL = re.compile(r"([\\`*_\[\]|])")
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# Characters a URL may carry as they are inside a Markdown link; every other one is
# percent-encoded, so a stored URL can neither close the link nor open raw HTML.
_URL_UNSAFE = re.compile(r"[^A-Za-z0-9\-._~:/?#\[\]@!$&*+,;=%]")
_WEB_URL = re.compile(r"^https?://", re.IGNORECASE)


_CODE_SPAN = re.compile(r"(`[^`\n]+`)")


def _escape_plain(text: str) -> str:
    text = _SPECIAL.sub(r"\\\1", text)
    return _TAG_START.sub("&lt;", text)


def escape_md(text: str) -> str:
    """Plain text that Markdown shows as written (no emphasis, links, tables or HTML).

    A pair of backticks around a command (`` `tracker demo` ``) stays a code span: Markdown
    shows a code span's content literally, so it needs no escaping, and ``\\`tracker demo\\```
    would read worse.
    """
    parts = _CODE_SPAN.split(str(text).replace("\n", " "))
    # Inside a code span only a table's pipe needs its backslash (GFM reads it before the span).
    return "".join(part.replace("|", "\\|") if i % 2 else _escape_plain(part) for i, part in enumerate(parts))


def link_url(url: str) -> str | None:
    """``url`` safe inside ``[text](<url>)``; None for anything but http(s), shown as text only.

    Events are checked when added, but a row written another way (``tracker sql`` cannot, an
    older tracker or another program could) must not put HTML into the report either.
    """
    url = str(url).strip()
    if not _WEB_URL.match(url):
        return None
    return _URL_UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8")), url)


def _inline(part: Inline) -> str:
    if isinstance(part, Cell):
        return escape_md(part.text)
    if isinstance(part, Link):
        url = link_url(part.url)
        return f"[{escape_md(part.text)}](<{url}>)" if url else escape_md(part.text)
    return escape_md(part)


def _inlines(parts) -> str:
    return "".join(_inline(p) for p in parts)


def _table(table: Table) -> str:
    numeric = [table.numeric_column(i) for i in range(len(table.columns))]
    lines = ["| " + " | ".join(escape_md(c) for c in table.columns) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(_inline(p) for p in row) + " |" for row in table.rows]
    parts = [f"*{escape_md(table.caption)}*", ""] if table.caption else []
    if table.name:
        lines.append("")
        lines.append(f"Full table: `tables/{table.name}.csv`")
    return "\n".join(parts + lines)


def _block(block) -> str:
    if isinstance(block, Paragraph):
        return _inlines(block.parts)
    if isinstance(block, Subheading):
        return f"### {escape_md(block.text)}"
    if isinstance(block, Callout):
        return f"> **{escape_md(block.title.capitalize())}:** {_inlines(block.parts)}"
    if isinstance(block, BulletList):
        return "\n".join(f"- {_inlines(item)}" for item in block.items)
    if isinstance(block, Table):
        return _table(block)
    if isinstance(block, Figure):
        return f"![{escape_md(block.title)}](charts/{block.name}.svg)\n\n*{escape_md(block.title)}.* {escape_md(block.caption)}"
    if isinstance(block, FigureRow):
        # Markdown links the chart files; the at-a-glance copies are the same files.
        return "\n\n".join(f"![{escape_md(f.title)}](charts/{f.name.removeprefix('glance-')}.svg)" for f in block.figures)
    raise TypeError(f"unknown block {type(block).__name__}")


def render_markdown(report: ReportData, sections: list[Section] | None = None) -> str:
    """The whole report as Markdown."""
    sections = sections if sections is not None else all_sections(report)
    meta = report.doc["report"]
    out = []
    if report.simulated:
        out.append(f"> **SIMULATED DATA:** {escape_md(meta['simulated_reason'])}. Nothing in this report describes a real market.")
    title = ("SIMULATED DATA: " if report.simulated else "") + meta["title"]
    out.append(f"# {escape_md(title)}")
    out.append(f"Generated {meta['generated_at'].replace('T', ' ')} UTC by {escape_md(meta['generator'])} "
               f"{escape_md(meta['tracker_version'])}. Every number here is in `report.json`; the tables are in `tables/*.csv`.")
    out.append("\n".join(f"{i}. [{escape_md(s.title)}](#{s.anchor})" for i, s in enumerate(sections, start=1)))
    for section in sections:
        out.append(f'<a id="{section.anchor}"></a>\n\n## {escape_md(section.title)}')
        out += [_block(b) for b in section.blocks]
    return "\n\n".join(out) + "\n"
