"""Render DataFrames as a table, JSON or CSV for the CLI.

JSON and CSV keep every number at full precision. A table is for reading, so it formats
numbers by what their column holds, decided by the column's name (:func:`column_kind`):

* returns (``caar``, ``car``, ``aar``, ``ar``, ``median_car``, ``estimate``, the event-study
  tests' CAAR or AAR, and any name ending ``_return``): a signed percent, ``+5.48%``;
* their standard deviations (``sd_car``, ``sd_ar``, names starting ``sd_`` and ending
  ``_return``): a percent without a sign, ``2.02%``;
* ``share_positive``: a whole percent, ``67%``;
* p-values (``p_value``, ``p_adj``, names ending ``_p`` or ``_p_value``): 3 significant digits,
  ``< 0.001`` below that, and more digits when rounding would carry a value across 5%
  (0.0496 never shows as 0.05);
* test statistics (``statistic``, ``z``, ``t_stat``, ``f_stat``, ``scar``, names ending
  ``_statistic``): 2 decimals.

Any other float prints with 6 significant digits. ``tracker sql`` prints the user's columns as
they are (``formatted=False``): a column named ``car`` there need not be a return.
"""
from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .light_output import aligned_table
from .pvalues import p_rounded

FORMATS = ("table", "json", "csv")
RETURN_COLUMNS = frozenset({"caar", "car", "aar", "ar", "median_car", "estimate"})
SPREAD_COLUMNS = frozenset({"sd_car", "sd_ar"})
SHARE_COLUMNS = frozenset({"share_positive"})
P_COLUMNS = frozenset({"p_value", "p_adj"})
STATISTIC_COLUMNS = frozenset({"statistic", "z", "t_stat", "f_stat", "scar"})


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (pd.Timestamp, datetime)):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def records(frame: pd.DataFrame) -> list[dict]:
    return [{str(k): _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def to_json(obj: Any) -> str:
    """JSON for a DataFrame (a list of records), a mapping of frames, or plain values."""
    if isinstance(obj, pd.DataFrame):
        return json.dumps(records(obj), indent=2)
    if isinstance(obj, Mapping):
        return json.dumps(
            {k: records(v) if isinstance(v, pd.DataFrame) else _jsonable(v) for k, v in obj.items()}, indent=2
        )
    return json.dumps(_jsonable(obj), indent=2)


def column_kind(name: Any) -> str | None:
    """How a table shows the column called ``name``: return, spread, share, p, statistic or None."""
    name = str(name).lower()
    if name in RETURN_COLUMNS:
        return "return"
    if name in SPREAD_COLUMNS or (name.startswith("sd_") and name.endswith("_return")):
        return "spread"
    if name.endswith("_return"):
        return "return"
    if name in SHARE_COLUMNS:
        return "share"
    if name in P_COLUMNS or name.endswith("_p") or name.endswith("_p_value"):
        return "p"
    if name in STATISTIC_COLUMNS or name.endswith("_statistic"):
        return "statistic"
    return None


def p_value_text(p: float, digits: int = 3) -> str:
    """``p`` to ``digits`` significant digits, ``< 0.001`` below, never rounded across 5%."""
    if p < 0.001:
        return "< 0.001"
    return p_rounded(p, digits, significant=True)


def _number(value: float, kind: str | None) -> str:
    if kind == "return":
        return f"{value * 100:+.2f}%"
    if kind == "spread":
        return f"{value * 100:.2f}%"
    if kind == "share":
        return f"{value * 100:.0f}%"
    if kind == "p":
        return p_value_text(value)
    if kind == "statistic":
        return f"{value:.2f}"
    return f"{value:.6g}" if abs(value) < 1e15 else f"{value:.4e}"


def _cell(value: Any, kind: str | None = None) -> str:
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour or value.minute or value.second) else value.strftime("%Y-%m-%d")
    if isinstance(value, (float, np.floating)):
        return _number(float(value), kind) if math.isfinite(value) else f"{value}"
    return str(value)


def to_table(frame: pd.DataFrame, *, formatted: bool = True) -> str:
    """``frame`` as an aligned text table, numbers formatted by column (see the module notes)."""
    if frame.empty and not len(frame.columns):
        return "(no rows)"
    headers = [str(c) for c in frame.columns]
    kinds = [column_kind(c) if formatted and pd.api.types.is_float_dtype(frame[c]) else None for c in frame.columns]
    body = [[_cell(v, k) for v, k in zip(row, kinds)] for row in frame.itertuples(index=False, name=None)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]
    return aligned_table(headers, body, numeric)


def to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").rstrip("\n")


def render(frame: pd.DataFrame, fmt: str, *, formatted: bool = True) -> str:
    if fmt == "json":
        return to_json(frame)
    if fmt == "csv":
        return to_csv(frame)
    return to_table(frame, formatted=formatted)


def render_sections(sections: Mapping[str, pd.DataFrame | Any], fmt: str) -> str:
    """Several named frames: headed tables, one JSON object, or CSV blocks headed by '# name'."""
    if fmt == "json":
        return to_json(sections)
    parts = []
    for name, value in sections.items():
        if isinstance(value, pd.DataFrame):
            body = to_csv(value) if fmt == "csv" else to_table(value)
        else:
            body = json.dumps(_jsonable(value)) if fmt == "csv" else str(value)
        parts.append(f"# {name}\n{body}" if fmt == "csv" else f"{name}\n{body}")
    return "\n\n".join(parts)
