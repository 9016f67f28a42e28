"""Results as tidy frames, and their JSON form.

Every analysis returns a long ("tidy") DataFrame: one row per figure, with the series it is
about, the method, the number of observations ``n`` behind it, and the figure. The settings
that produced it (return kind, grid step, window, min_overlap, ...) ride along in
``frame.attrs``, and :func:`to_json` writes them next to the rows.
"""
from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from .. import output

__all__ = ["settings_of", "to_json"]


def settings_of(frame: pd.DataFrame) -> dict:
    """The return settings :func:`tracker.correlation.to_returns` recorded on ``frame``."""
    return {key: frame.attrs[key] for key in ("kind", "freq", "max_span") if key in frame.attrs}


def to_json(result: Any) -> str:
    """JSON text for a tidy frame (``{"settings": attrs, "rows": [...]}``), a result object with
    its own ``to_json``, or a mapping of frames and plain values."""
    if hasattr(result, "to_json") and not isinstance(result, pd.DataFrame):
        return result.to_json()
    if isinstance(result, pd.DataFrame):
        return output.to_json({"settings": dict(result.attrs), "rows": result})
    if isinstance(result, Mapping):
        return output.to_json(result)
    return output.to_json(result)
