"""Query results as plain rows, for the commands that start without pandas (`tracker sql`,
`tracker status`, `tracker events list`).

Values are normalised the way a DataFrame would hold them, so that rendering rows
(``tracker.analysis.light_output``) prints what rendering the DataFrame printed: DECIMAL and
HUGEINT become floats, DATE a midnight datetime; a column of ints with a None among them,
built from Python values, becomes floats (as pandas makes it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

# Column kinds: how a column is aligned and how its cells print.
NUMBER, BOOL, TIME, OTHER = "number", "bool", "time", "other"
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"}
_FLOAT_TYPES = {"FLOAT", "DOUBLE", "HUGEINT", "UHUGEINT"}


@dataclass(frozen=True)
class Rows:
    """A small result table: column names, one tuple per row, and each column's kind."""

    columns: tuple[str, ...]
    rows: list[tuple]
    kinds: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def empty(self) -> bool:
        return not self.rows

    def column(self, name: str) -> list:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_frame(self):
        """The same rows as a DataFrame (imports pandas)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=list(self.columns))


def _duck_kind(type_name: str) -> tuple[str, Any]:
    """(kind, converter) for a DuckDB column type name."""
    base = type_name.split("(")[0].strip()
    if base in _INTEGER_TYPES:
        return NUMBER, None
    if base in _FLOAT_TYPES or base == "DECIMAL":
        return NUMBER, float
    if base == "BOOLEAN":
        return BOOL, None
    if base == "DATE":
        return TIME, lambda d: datetime(d.year, d.month, d.day) if isinstance(d, date) and not isinstance(d, datetime) else d
    if base.startswith("TIMESTAMP"):
        return TIME, None
    return OTHER, None


def from_cursor(result) -> Rows:
    """Fetch a DuckDB result (``con.execute(...)``) into :class:`Rows`."""
    if result is None or not result.description:
        return Rows((), [], ())
    columns = tuple(str(d[0]) for d in result.description)
    kinds, converters = zip(*(_duck_kind(str(d[1])) for d in result.description))
    rows = result.fetchall()
    if any(converters):
        rows = [tuple(v if c is None or v is None else c(v) for v, c in zip(row, converters)) for row in rows]
    return Rows(columns, rows, tuple(kinds))


def _infer(values: Sequence[Any]) -> tuple[str, Any]:
    """(kind, converter) for a column of Python values, as pandas would type it."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if not present:
        return OTHER, None
    if all(isinstance(v, bool) for v in present):
        return (BOOL, None) if len(present) == len(values) else (OTHER, None)
    if all(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) for v in present):
        exact = all(isinstance(v, int) for v in present) and len(present) == len(values)
        return NUMBER, None if exact else (lambda v: float(v))
    if all(isinstance(v, datetime) for v in present) and len({v.tzinfo is None for v in present}) == 1:
        return TIME, None
    return OTHER, None


def from_records(records: Iterable[Mapping[str, Any]], columns: Sequence[str] | None = None) -> Rows:
    """:class:`Rows` from dicts (missing keys are None); ``columns`` fixes their order."""
    records = list(records)
    if columns is None:
        columns = list(dict.fromkeys(k for r in records for k in r))
    rows = [tuple(r.get(c) for c in columns) for r in records]
    kinds = []
    for i in range(len(columns)):
        kind, convert = _infer([row[i] for row in rows])
        if convert is not None:
            rows = [row[:i] + ((convert(row[i]) if row[i] is not None else math.nan),) + row[i + 1:] for row in rows]
        kinds.append(kind)
    return Rows(tuple(columns), rows, tuple(kinds))


__all__ = ["BOOL", "NUMBER", "OTHER", "TIME", "Rows", "from_cursor", "from_records"]
