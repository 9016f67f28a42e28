"""The pandas-free rendering (tracker.analysis.light_output over storage.Rows) prints exactly what
tracker.analysis.output prints for the same data as a DataFrame, in every format: `tracker sql`,
`tracker status` and `tracker events list` look as they did when they went through pandas.
"""
from __future__ import annotations

import json
import math
from datetime import datetime

import pandas as pd
import pytest

import storage
from jobs.heartbeat import heartbeat_path, write_heartbeat
from jobs.status import daemon_sections
from storage.rows import from_records
from tracker.analysis import light_output, output
from tracker.ingest.status import collect_status

FORMATS = ("table", "json", "csv")

QUERIES = [
    "select 1 as a, 2::BIGINT as b, 'x' as c",
    "select * from (values (1), (NULL), (3)) t(n)",
    "select * from (values (1.5::DOUBLE), ('nan'::DOUBLE), ('inf'::DOUBLE), (NULL), (1e20), (1e-7)) t(x)",
    "select 12.345::DECIMAL(10,3) as d, 1::HUGEINT as h, 255::UTINYINT as u",
    "select * from (values (true), (false), (NULL)) t(b)",
    "select * from (values (true), (false)) t(b)",
    "select TIMESTAMP '2024-02-15 18:00:00.123456' as ts, TIMESTAMP '2024-02-15 00:00:00' as midnight, NULL::TIMESTAMP as none",
    "select DATE '2024-02-15' as day, TIMESTAMPTZ '2024-02-15 18:30:00+00' as tz",
    "select * from (values ('a,b'), ('say \"hi\"'), ('two\nlines'), (''), (NULL)) t(s)",
    "select NULL as nothing, 1 as one",
    "select 1 as a where false",
    "select event_id, name, ts, time_known, kind, source_url, notes from events order by ts",
]


@pytest.fixture
def filled(db):
    from tracker.analysis.events import seed_events

    seed_events(db)
    with db.transaction() as con:
        con.execute(
            "INSERT INTO ingest_runs VALUES "
            "('r1', 'markets', TIMESTAMP '2026-03-12 10:00:00.5', TIMESTAMP '2026-03-12 10:00:02.25', 'ok', 3, 300, NULL, NULL), "
            "('r2', 'history', TIMESTAMP '2026-03-12 10:05:00', NULL, 'running', 0, 0, NULL, NULL), "
            "('r3', 'members', TIMESTAMP '2026-03-12 10:06:00', TIMESTAMP '2026-03-12 10:06:01', 'failed', 2, 0, "
            "'CoinGecko /coins/markets (HTTP 503): \"busy\", try later', NULL)"
        )
    return db


@pytest.mark.parametrize("sql", QUERIES)
def test_sql_results_print_as_they_did_through_pandas(filled, sql):
    frame = storage.run_user_sql(filled, sql)
    rows = storage.run_user_sql_rows(filled, sql)
    for fmt in FORMATS:
        assert light_output.render(rows, fmt) == output.render(frame, fmt), fmt


RECORDS = [
    [{"a": 1, "b": None}, {"a": None, "b": None}],                     # ints with a None: floats in pandas
    [{"flag": True, "x": 1.5}, {"flag": None, "x": 2}],                 # bools with a None: objects
    [{"flag": False, "n": 3}],
    [{"when": datetime(2026, 3, 12, 15, 0), "s": "ok"}, {"when": None, "s": None}],
    [{"when": "2026-03-12T15:00:00+00:00", "age": 12.25}],
    [{"v": math.nan, "w": 1e16}, {"v": 0.1, "w": -3.0}],
]


@pytest.mark.parametrize("records", RECORDS)
def test_rows_from_records_type_like_pandas(records):
    rows = from_records(records)
    frame = pd.DataFrame(records)
    for fmt in FORMATS:
        assert light_output.render(rows, fmt) == output.render(frame, fmt), fmt


def test_status_sections_print_as_they_did_through_pandas(filled):
    beat = {
        "started_at": "2026-03-12T10:00:00+00:00", "lock_held_ms": {"markets": {"writes": 4, "median_ms": 12.5, "p95_ms": 30.0,
                                                                                  "max_ms": 31.2}},
        "spool_waiting": 0, "plan": "keyless", "database": str(filled.path), "stopped": False,
        "jobs": {"markets": {"status": "ok", "finished_at": "2026-03-12T10:00:02+00:00", "next_run": "2026-03-12T10:10:00+00:00"},
                 "history": {}, "members": {}},
    }
    write_heartbeat(heartbeat_path(filled.path), beat)
    sections = collect_status(filled)
    sections.update(daemon_sections(filled.path, sections["jobs"]))
    # The same sections the way `tracker status` built them before: frames from the same
    # dicts, and DuckDB's own DataFrames for the runs.
    with filled.connect(read_only=True) as con:
        reference = {
            "database": pd.DataFrame(sections["database"].records()),
            "tables": storage.table_stats(con).assign(age=sections["tables"].column("age")),
            "jobs": storage.last_run_per_job(con),
            "recent_errors": storage.recent_errors(con, 5),
        }
    reference["daemon"] = pd.DataFrame(sections["daemon"].records())
    reference["schedule"] = pd.DataFrame(
        [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in sections["schedule"].records()],
        columns=list(sections["schedule"].columns))
    for fmt in FORMATS:
        assert light_output.render_sections(sections, fmt) == output.render_sections(reference, fmt), fmt
    shown = json.loads(light_output.render_sections(sections, "json"))
    assert [r["job"] for r in shown["schedule"]] == ["markets", "history", "members"]
    assert shown["recent_errors"][0]["error"].startswith("CoinGecko /coins/markets (HTTP 503)")
    assert shown["jobs"][0]["finished_at"] is None or isinstance(shown["jobs"][0]["finished_at"], str)


def test_age_of_the_newest_row_is_measured_in_utc(filled):
    tables = collect_status(filled)["tables"]
    ages = dict(zip(tables.column("table"), tables.column("age")))
    assert ages["ingest_runs"].endswith("d")  # 2026-03-12, long before now
    assert ages["price_history"] == ""        # no rows, no age
