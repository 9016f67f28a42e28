"""Render DataFrames as a table, JSON or CSV for the CLI."""
from __future__ import annotations

import json
import math
from datetime import date, datetime
from typing import Any, Mapping

import numpy as np
import pandas as pd

FORMATS = ("table", "json", "csv")


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


def _cell(value: Any) -> str:
    if value is None or (not isinstance(value, (list, tuple, np.ndarray)) and pd.isna(value)):
        return ""
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour or value.minute or value.second) else value.strftime("%Y-%m-%d")
    if isinstance(value, (float, np.floating)):
        return f"{value:.6g}" if abs(value) < 1e15 else f"{value:.4e}"
    return str(value)


def to_table(frame: pd.DataFrame) -> str:
    if frame.empty and not len(frame.columns):
        return "(no rows)"
    headers = [str(c) for c in frame.columns]
    body = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c]) for c in frame.columns]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in body]
    if not body:
        out.append("(no rows)")
    return "\n".join(out)


def to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S").rstrip("\n")


def render(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "json":
        return to_json(frame)
    if fmt == "csv":
        return to_csv(frame)
    return to_table(frame)


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
