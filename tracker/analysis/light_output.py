"""Render :class:`storage.rows.Rows` as a table, JSON or CSV without importing pandas.

The commands that must start fast (`tracker sql`, `tracker status`, `tracker events list`)
print through this module; it prints exactly what :mod:`tracker.analysis.output` prints for
the same data as a DataFrame (tests/test_startup_output.py compares the two).
"""
from __future__ import annotations

import csv
import io
import json
import math
from datetime import date, datetime
from typing import Any, Mapping

from storage.rows import NUMBER, TIME, Rows

FORMATS = ("table", "json", "csv")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _jsonable(value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float):
        return None if math.isinf(value) else value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") if (value.hour or value.minute or value.second) else value.strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else f"{value:.4e}"
    return str(value)


def to_table(rows: Rows) -> str:
    if not rows.columns:
        return "(no rows)"
    body = [[_cell(v) for v in row] for row in rows.rows]
    return aligned_table(list(rows.columns), body, [kind == NUMBER for kind in rows.kinds])


def aligned_table(headers: list[str], body: list[list[str]], numeric: list[bool]) -> str:
    """Cells already written as text, in aligned columns under a dashed rule: numbers to the
    right, the rest to the left (the one table layout of every command's table output)."""
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in body]
    if not body:
        out.append("(no rows)")
    return "\n".join(out)


def _csv_value(value: Any, kind: str) -> Any:
    if _missing(value):
        return ""
    if kind == TIME and isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, float):
        return repr(value)
    return value


def to_csv(rows: Rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(rows.columns)
    for row in rows.rows:
        writer.writerow([_csv_value(v, k) for v, k in zip(row, rows.kinds)])
    return buffer.getvalue().rstrip("\n")


def records(rows: Rows) -> list[dict]:
    return [{k: _jsonable(v) for k, v in zip(rows.columns, row)} for row in rows.rows]


def to_json(obj: Any) -> str:
    if isinstance(obj, Rows):
        return json.dumps(records(obj), indent=2)
    if isinstance(obj, Mapping):
        return json.dumps({k: records(v) if isinstance(v, Rows) else _jsonable(v) for k, v in obj.items()}, indent=2)
    return json.dumps(_jsonable(obj), indent=2)


def render(rows: Rows, fmt: str) -> str:
    if fmt == "json":
        return to_json(rows)
    if fmt == "csv":
        return to_csv(rows)
    return to_table(rows)


def render_sections(sections: Mapping[str, Rows | Any], fmt: str) -> str:
    """Several named tables: headed tables, one JSON object, or CSV blocks headed by '# name'."""
    if fmt == "json":
        return to_json(sections)
    parts = []
    for name, value in sections.items():
        if isinstance(value, Rows):
            body = to_csv(value) if fmt == "csv" else to_table(value)
        else:
            body = json.dumps(_jsonable(value)) if fmt == "csv" else str(value)
        parts.append(f"# {name}\n{body}" if fmt == "csv" else f"{name}\n{body}")
    return "\n\n".join(parts)
