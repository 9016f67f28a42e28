"""Shared pieces of the report tests: the fixture database, an HTML checker, number parsing.

The HTML checks use only the standard library's ``html.parser``: tags must balance (void
elements aside), and every ``src``/``href`` must be internal (``#...``) except the provenance
links to the events' source pages.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from tests.sqlfixture import build_fixture

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def fixture_database(folder: Path):
    """The deterministic cookbook database (tests/sqlfixture.py) in ``folder``."""
    return build_fixture(Path(folder) / "tracker.duckdb")


@dataclass
class PageFacts:
    errors: list[str] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    urls: list[tuple[str, str, str, dict]] = field(default_factory=list)    # (tag, attribute, value, attrs)
    numbers: list[dict] = field(default_factory=list)                      # data-path cells: attrs + text
    ids: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


class PageChecker(HTMLParser):
    """Collects what the tests assert about a page: balance, URLs, numbered cells, ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.facts = PageFacts()
        self.stack: list[str] = []
        self._number: dict | None = None

    def handle_starttag(self, tag, attrs):
        self._open(tag, dict(attrs), closing=tag not in VOID)

    def handle_startendtag(self, tag, attrs):
        self._open(tag, dict(attrs), closing=False)

    def _open(self, tag, attrs, closing):
        self.facts.tags[tag] = self.facts.tags.get(tag, 0) + 1
        for name in ("src", "href", "xlink:href", "action", "poster", "data"):
            if name in attrs and attrs[name] is not None:
                self.facts.urls.append((tag, name, attrs[name], attrs))
        if "id" in attrs:
            self.facts.ids.append(attrs["id"])
        if "data-path" in attrs:
            self._number = {"tag": tag, "path": attrs["data-path"], "value": attrs.get("data-value"), "text": ""}
            self.facts.numbers.append(self._number)
        if closing:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.facts.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else 'nothing'}> at {self.getpos()}")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
            return
        self.stack.pop()
        if self._number is not None and tag == self._number["tag"]:
            self._number = None

    def handle_data(self, data):
        if self._number is not None:
            self._number["text"] += data
        self.facts.text.append(data)

    def close(self):
        super().close()
        if self.stack:
            self.facts.errors.append(f"unclosed tags at the end: {self.stack}")


def check_page(html: str) -> PageFacts:
    checker = PageChecker()
    checker.feed(html)
    checker.close()
    return checker.facts


_NUMBER = re.compile(r"^([<+-]?)([0-9][0-9,]*(?:\.[0-9]+)?)(?:e([+-]?[0-9]+))?(%?)$")


def parse_shown(text: str) -> tuple[float, float, bool]:
    """A number as a report prints it -> (value, half a unit of its last digit, is an upper bound)."""
    text = text.strip()
    match = _NUMBER.match(text)
    if not match:
        raise ValueError(f"not a printed number: {text!r}")
    sign, digits, exponent, percent = match.groups()
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value = float(digits.replace(",", ""))
    tolerance = 0.5 * 10.0 ** (-decimals)
    if exponent is not None:
        value *= 10.0 ** int(exponent)
        tolerance *= 10.0 ** int(exponent)
    if sign == "-":
        value = -value
    if percent:
        value, tolerance = value / 100, tolerance / 100
    return value, tolerance * (1 + 1e-9) + 1e-15, sign == "<"


def shown_matches(text: str, value) -> bool:
    """Does the printed ``text`` say ``value`` (JSON), to the digits it shows?"""
    if value is None:
        return text.strip() == "n/a"
    shown, tolerance, bound = parse_shown(text)
    if bound:
        return value < shown
    return math.isclose(shown, value, abs_tol=tolerance)
