"""The one rule every importer applies to a number before it is stored.

Prices and outside-series values become returns (a ratio of two values, or its logarithm), so
a value that is not finite or not positive would turn into ``inf``, ``-inf`` or ``NaN``
downstream; one that is absurdly large or small (``1e308``, the subnormal ``1e-320``) makes
the ratio overflow. The bounds are far outside anything real, so they only ever refuse typos,
unit mistakes and corrupt files:

=================  ===================  ==========================================================
value              accepted             why
=================  ===================  ==========================================================
price              1e-12 .. 1e9         the cheapest real tokens trade near 1e-10 per unit (SHIB-like
                                        memecoins were ~1e-8); the dearest, BTC, near 1e5 in any
                                        major currency. Two orders of magnitude spare either side.
market cap, volume 0 .. 1e14            the whole crypto market has never reached 1e13 USD
outside series     1e-12 .. 1e15        positive levels (an equity close, a GPU-hour price, an index,
                                        a money supply in dollars ~2e13): they become ratio returns,
                                        so a series that can be zero or negative (a rate, a net
                                        flow) must be imported as a positive level (e.g. 100 + rate)
=================  ===================  ==========================================================

Each check returns a boolean mask of the *bad* entries (NaN counts as absent, not bad), so the
importers can name the file line and column of each one; :func:`describe` words the problem.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["AMOUNT", "PRICE", "SERIES", "Bounds", "bad_values", "describe"]


@dataclass(frozen=True)
class Bounds:
    """An accepted range: ``low <= value <= high`` (and finite)."""

    what: str
    low: float
    high: float

    def text(self) -> str:
        return f"{_short(self.low)} to {_short(self.high)}"


def _short(number: float) -> str:
    """1e-12, 1e9, 0: the bounds as a person writes them."""
    if number == 0:
        return "0"
    mantissa, exponent = f"{number:e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


PRICE = Bounds("price", 1e-12, 1e9)
AMOUNT = Bounds("amount", 0.0, 1e14)  # market caps and volumes: 0 is allowed (CoinGecko's "unknown")
SERIES = Bounds("value", 1e-12, 1e15)


def bad_values(values: pd.Series | np.ndarray, bounds: Bounds) -> np.ndarray:
    """True where a present (non-NaN) value is not finite or lies outside ``bounds``."""
    array = np.asarray(values, dtype=float)
    present = ~np.isnan(array)
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(array) & (array >= bounds.low) & (array <= bounds.high)
    return present & ~inside


def describe(value: object, bounds: Bounds, what: str | None = None, *, quoted: bool = False) -> str:
    """One bad value in words: ``price -2 is not a positive finite number`` or
    ``price 1e308 is outside the accepted range 1e-12 to 1e9``."""
    name = what or bounds.what
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = float("nan")
    shown = repr(text) if quoted else text
    if not np.isfinite(number) or number < 0 or (number == 0 and bounds.low > 0):
        sign = "non-negative" if bounds.low == 0 else "positive"
        return f"{name} {shown} is not a {sign} finite number"
    return f"{name} {shown} is outside the accepted range {bounds.text()}"
