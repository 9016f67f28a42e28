"""How a report prints a number, by kind. HTML and Markdown use the same functions.

Kinds: ``pct`` (a return, signed, 2 decimals), ``spread`` (a standard deviation of returns,
as a percent without a sign), ``share`` (a fraction as a whole percent), ``num2`` and ``num3``
(statistics, correlations), ``sig`` (4 significant digits), ``p`` (p-values: 3 decimals,
``<0.001`` below, and as many more as it takes for the shown value to fall on the same side of
5% as the real one: 0.0496 shows as 0.0496, never 0.050), ``int``, ``big`` (GPU counts and
FLOPs), ``price``. A missing value prints ``n/a``.
"""
from __future__ import annotations

import math
from typing import Any

from ..analysis.pvalues import p_rounded

MISSING = "n/a"
ALPHA = 0.05
KINDS = ("pct", "spread", "share", "num2", "num3", "sig", "p", "int", "big", "price", "text")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_value(value: Any, kind: str) -> str:
    """``value`` as the report prints it (see the module notes for the kinds)."""
    if _missing(value):
        return MISSING
    if kind == "text" or isinstance(value, (str, bool)):
        return "yes" if value is True else "no" if value is False else str(value)
    value = float(value)
    if kind == "pct":
        return f"{value * 100:+.2f}%"
    if kind == "spread":
        return f"{value * 100:.2f}%"
    if kind == "share":
        return f"{value * 100:.0f}%"
    if kind == "num2":
        return f"{value:.2f}"
    if kind == "num3":
        return f"{value:.3f}"
    if kind == "sig":
        return f"{value:.4g}"
    if kind == "p":
        return "<0.001" if value < 0.001 else p_text(value)
    if kind == "int":
        return f"{int(round(value)):,}"
    if kind == "big":
        magnitude = abs(value)
        if magnitude >= 1e12 or (0 < magnitude < 1e-3):
            return f"{value:.3e}"
        if magnitude >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"
    if kind == "price":
        return f"{value:.6g}"
    raise ValueError(f"unknown number kind {kind!r}")


def p_text(p: float, decimals: int = 3, alpha: float = ALPHA) -> str:
    """``p`` with ``decimals`` decimals, or more when rounding would carry it across ``alpha``
    (p = 0.0496 shows as 0.0496, so "significant at 5%" never sits beside "0.050")."""
    return p_rounded(p, decimals, alpha=alpha)


def significance(p: Any, alpha: float = ALPHA) -> str:
    """Plain words for a p-value."""
    if _missing(p):
        return "not testable"
    return "significant at 5%" if p < alpha else "not significant at 5%"


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``n`` and the noun in the right number: "1 token", "3 tokens"."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def pooled_label(n_events: int) -> str:
    """The pooled study's name: "Both events pooled", "All 3 events pooled"."""
    return "Both events pooled" if n_events == 2 else f"All {n_events} events pooled"


def plain_time(value: Any) -> str:
    """A stored timestamp as "YYYY-MM-DD HH:MM:SS" (no microseconds, no "T"); "" for none."""
    if value is None or value == "":
        return ""
    return str(value).replace("T", " ")[:19]
