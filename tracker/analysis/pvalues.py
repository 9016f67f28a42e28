"""How a p-value is written: rounded for reading, but never rounded across the significance level.

p = 0.0496 rounded to two decimals reads 0.05, which beside "significant at 5%" (or a verdict that
counts it below 5%) contradicts itself. Every place that prints a p-value (report, tables,
verdict sentences) rounds through :func:`p_rounded`, which adds digits until the printed number
falls on the same side of alpha as the true one.
"""
from __future__ import annotations

ALPHA = 0.05


def p_rounded(p: float, digits: int, *, significant: bool = False, alpha: float = ALPHA) -> str:
    """``p`` to ``digits`` decimals (or significant digits), with more while rounding would carry it across ``alpha``."""
    style = "g" if significant else "f"
    text = f"{p:.{digits}{style}}"
    while digits < 12 and (float(text) < alpha) != (p < alpha):
        digits += 1
        text = f"{p:.{digits}{style}}"
    return text
