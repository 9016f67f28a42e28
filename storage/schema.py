"""The tables the writers know about, with their natural keys.

Tables carry no PRIMARY KEY constraint: DuckDB's ART index makes the file about 3x bigger and
bulk upserts several times slower (see docs/storage.md). Uniqueness of the natural key is
kept by `storage.writes.upsert` instead, and checked by the tests.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TableSpec:
    name: str
    key: tuple[str, ...]
    time_column: str | None = None  # used for freshness in `tracker status`


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("coins", ("coin_id",), "updated_at"),
        TableSpec("categories", ("category_id",), "updated_at"),
        TableSpec("category_snapshots", ("category_id", "observed_at"), "observed_at"),
        TableSpec("category_members", ("category_id", "coin_id", "valid_from"), "valid_from"),
        TableSpec("market_snapshots", ("coin_id", "vs_currency", "observed_at"), "observed_at"),
        TableSpec("price_history", ("coin_id", "vs_currency", "source", "ts"), "ts"),
        TableSpec("events", ("event_id",), "ts"),
        TableSpec("ingest_runs", ("run_id",), "started_at"),
        TableSpec("ingest_state", ("job", "scope"), "updated_at"),
        TableSpec("external_series", ("series_id", "ts"), "ts"),
        TableSpec("coin_markets", ("exchange", "symbol"), "updated_at"),
    )
}


def table_spec(name: str) -> TableSpec:
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(sorted(TABLES))
        raise KeyError(f"unknown table {name!r}; known tables: {known}") from None


def quote_identifier(identifier: str) -> str:
    """Double-quote an identifier from this module's registry (never from user input)."""
    return '"' + identifier.replace('"', '""') + '"'
