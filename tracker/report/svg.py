"""Inline SVG that can share a page with other charts.

matplotlib names clip paths and markers by content hashes (``id="p1a2b3c"``); two charts on one
page can define the same id differently, and then one chart draws with the other's clip. Each
chart's ids get the chart's own prefix, and its fixed size becomes a viewBox-scaled one.
"""
from __future__ import annotations

import re

_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(xlink:href|href)="#([^"]+)"')
_URL = re.compile(r"url\(#([^)]+)\)")
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_SIZE = re.compile(r'^<svg([^>]*?)\swidth="[^"]*"\s+height="[^"]*"', re.S)


def namespace_ids(svg: str, prefix: str) -> str:
    """Prefix every id defined in ``svg`` and every internal reference to one."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg

    def ref(match: re.Match) -> str:
        name = match.group(2)
        return f'{match.group(1)}="#{prefix}-{name}"' if name in ids else match.group(0)

    def url(match: re.Match) -> str:
        name = match.group(1)
        return f"url(#{prefix}-{name})" if name in ids else match.group(0)

    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = _REF.sub(ref, svg)
    return _URL.sub(url, svg)


def responsive(svg: str) -> str:
    """Drop the fixed width and height (the viewBox keeps the aspect ratio; CSS sets the width)."""
    return _SIZE.sub(r"<svg\1", svg, count=1)


def inline_svg(svg: str, prefix: str, label: str) -> str:
    """An SVG ready to inline: no metadata (a timestamp and links), namespaced ids, responsive
    size, an accessible label."""
    text = responsive(namespace_ids(_METADATA.sub("", svg, count=1), prefix))
    safe = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg", f'<svg role="img" aria-label="{safe}"', 1)
