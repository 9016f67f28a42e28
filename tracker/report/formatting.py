"""How a report prints a number, by kind. HTML and Markdown use the same functions.

Kinds: ``pct`` (a return, signed, 2 decimals), ``share`` (a fraction as a whole percent),
``num2`` and ``num3`` (statistics, correlations), ``sig`` (4 significant digits), ``p``
(p-values: 3 decimals, ``<0.001`` below), ``int``, ``big`` (GPU counts and FLOPs), ``price``.
A missing value prints ``n/a``.
"""
from __future__ import annotations

import math
from typing import Any

MISSING = "n/a"
KINDS = ("pct", "share", "num2", "num3", "sig", "p", "int", "big", "price", "text")


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
    if kind == "share":
        return f"{value * 100:.0f}%"
    if kind == "num2":
        return f"{value:.2f}"
    if kind == "num3":
        return f"{value:.3f}"
    if kind == "sig":
        return f"{value:.4g}"
    if kind == "p":
        return "<0.001" if value < 0.001 else f"{value:.3f}"
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


def significance(p: Any, alpha: float = 0.05) -> str:
    """Plain words for a p-value."""
    if _missing(p):
        return "not testable"
    return "significant at 5%" if p < alpha else "not significant at 5%"
