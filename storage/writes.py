"""Set-based, idempotent writes.

``upsert`` replaces rows by natural key from a whole DataFrame or Arrow table in a few SQL
statements (never row by row). Inside one batch, when several rows share a key, the last one
in the batch wins, so the result does not depend on hash order. Call it inside
``Database.transaction()`` so that a batch lands whole or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb

from .errors import WriteError, first_line
from .schema import quote_identifier as _quote
from .schema import table_spec

if TYPE_CHECKING:  # pandas and pyarrow load only when used: `tracker sql` starts without them
    import pandas as pd
    import pyarrow as pa

_ORDINAL = "__batch_ordinal"
_BATCH = "__upsert_batch"


@dataclass(frozen=True)
class UpsertResult:
    table: str
    received: int            # rows handed in
    written: int             # distinct keys written
    replaced: int            # of which already existed and were replaced
    duplicates_in_batch: int  # rows dropped because a later row had the same key

    @property
    def inserted(self) -> int:
        return self.written - self.replaced


def _with_ordinal(frame: pd.DataFrame | pa.Table) -> pa.Table:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    if isinstance(frame, pd.DataFrame):
        frame = pa.Table.from_pandas(frame, preserve_index=False)
    if not isinstance(frame, pa.Table):
        raise WriteError(f"upsert takes a pandas DataFrame or an Arrow table, not {type(frame).__name__}")
    return frame.append_column(_ORDINAL, pa.array(np.arange(frame.num_rows, dtype=np.int64)))


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def upsert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame | pa.Table) -> UpsertResult:
    """Insert or replace ``frame``'s rows in ``table`` by the table's natural key.

    Columns of the table missing from ``frame`` take their defaults (or NULL) in replaced rows.
    """
    spec = table_spec(table)
    batch = _with_ordinal(frame)
    columns = [c for c in batch.column_names if c != _ORDINAL]
    known = table_columns(con, table)
    unknown = sorted(set(columns) - set(known))
    if unknown:
        raise WriteError(f"{table} has no column(s) {', '.join(unknown)}")
    missing_keys = [k for k in spec.key if k not in columns]
    if missing_keys:
        raise WriteError(f"rows for {table} lack key column(s) {', '.join(missing_keys)}")
    for key in spec.key:
        if batch.column(key).null_count:
            raise WriteError(f"{batch.column(key).null_count} row(s) for {table} have no {key}")
    if batch.num_rows == 0:
        return UpsertResult(table, 0, 0, 0, 0)

    key_list = ", ".join(_quote(k) for k in spec.key)
    column_list = ", ".join(_quote(c) for c in columns)
    key_match = " AND ".join(f"t.{_quote(k)} = b.{_quote(k)}" for k in spec.key)
    con.register(_BATCH, batch)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE __deduped AS SELECT {column_list} FROM {_BATCH} "
            f"QUALIFY row_number() OVER (PARTITION BY {key_list} ORDER BY {_ORDINAL} DESC) = 1 "
            f"ORDER BY {key_list}"
        )
        written = con.execute("SELECT count(*) FROM __deduped").fetchone()[0]
        replaced = con.execute(
            f"DELETE FROM {_quote(table)} AS t USING __deduped AS b WHERE {key_match}"
        ).fetchone()[0]
        con.execute(f"INSERT INTO {_quote(table)} ({column_list}) SELECT {column_list} FROM __deduped")
        con.execute("DROP TABLE __deduped")
    except duckdb.Error as exc:
        raise WriteError(f"writing {table} failed: {first_line(exc)}") from None
    finally:
        con.unregister(_BATCH)
    return UpsertResult(table, batch.num_rows, written, replaced, batch.num_rows - written)
