"""The report as a list of sections of simple blocks, rendered to HTML or Markdown.

Every number shown is a :class:`Cell` made by :meth:`Doc.cell` from a JSON pointer into the
report's JSON (``/studies/0/caar/2/caar``), so the printed number is the JSON's number by
construction, and the HTML carries the pointer (``data-path``) for anyone to check it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from .formatting import format_value


def pointer(*parts: Any) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped)


def resolve(document: Any, path: str) -> Any:
    """The value at JSON pointer ``path`` in ``document``."""
    value = document
    for raw in path.lstrip("/").split("/") if path != "/" else []:
        part = raw.replace("~1", "/").replace("~0", "~")
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


@dataclass(frozen=True)
class Cell:
    """A number (or short text) from the JSON, with how to print it."""

    value: Any
    kind: str = "text"
    path: str | None = None

    @property
    def text(self) -> str:
        return format_value(self.value, self.kind)

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


@dataclass(frozen=True)
class Link:
    """A provenance link (an event's source page): the only external URL a report holds."""

    text: str
    url: str


Inline = Union[str, Cell, Link]


@dataclass
class Paragraph:
    parts: list[Inline]


@dataclass
class Callout:
    """A boxed note: ``warning``, ``info`` or ``simulated``."""

    kind: str
    title: str
    parts: list[Inline]


@dataclass
class BulletList:
    items: list[list[Inline]]


@dataclass
class Table:
    columns: list[str]
    rows: list[list[Inline]]
    caption: str = ""
    name: str = ""            # the CSV file holding the full table (tables/<name>.csv)

    def numeric_column(self, index: int) -> bool:
        cells = [row[index] for row in self.rows if index < len(row)]
        return bool(cells) and all(isinstance(c, Cell) and c.numeric for c in cells)


@dataclass
class Figure:
    name: str                 # file stem under charts/, and the HTML anchor
    title: str
    caption: str
    svg: str


@dataclass
class FigureRow:
    """Figures side by side (the findings' at-a-glance charts)."""

    figures: list[Figure]


@dataclass
class Subheading:
    text: str


Block = Union[Paragraph, Callout, BulletList, Table, Figure, FigureRow, Subheading]


@dataclass
class Section:
    anchor: str
    title: str
    blocks: list[Block] = field(default_factory=list)


class Doc:
    """The report's JSON with a helper that makes cells from pointers."""

    def __init__(self, data: dict):
        self.data = data

    def cell(self, *parts: Any, kind: str = "text") -> Cell:
        path = pointer(*parts)
        value = resolve(self.data, path)
        return Cell(value, kind, path if kind != "text" else None)

    def get(self, *parts: Any) -> Any:
        return resolve(self.data, pointer(*parts))
