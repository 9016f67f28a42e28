"""storage/ is the data-access layer: SQL lives there, as named functions; services hold none.

The scan reads tracker/ and jobs/ with ``ast`` and flags every string constant (f-strings
included) that reads like SQL. Docstrings and click ``help=``/``epilog=`` text may show SQL.
"""
from __future__ import annotations

import ast
import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

import storage
from tracker.analysis import panels
from tracker.report import sample

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("tracker", "jobs")

# Files allowed to hold SQL for a while, e.g. during a move into storage/ in several steps.
# Empty now: every service module is covered.
PENDING: set[str] = set()
PENDING_FOLDERS: tuple[str, ...] = ()

_SQL = re.compile(
    r"""
    \bSELECT\b[\s\S]*\bFROM\b
    | \bINSERT\s+(OR\s+\w+\s+)?INTO\b | \bUPDATE\s+\w+\s+(AS\s+\w+\s+)?SET\b | \bDELETE\s+FROM\b
    | \bCREATE\s+(OR\s+REPLACE\s+)?(TEMP\w*\s+)?(TABLE|VIEW|INDEX|SEQUENCE|SCHEMA|MACRO)\b
    | \bDROP\s+(TABLE|VIEW|INDEX|SCHEMA)\b | \bALTER\s+TABLE\b
    | \bCOPY\b[\s\S]*\b(TO|FROM)\b | \bATTACH\s | \bDETACH\s | \bPRAGMA\s | \bSET\s+\w+\s*=
    | \bWITH\s+\w+\s+AS\s*\( | \bGROUP\s+BY\b | \bORDER\s+BY\b | \bQUALIFY\b
    | \bCHECKPOINT\b | \b(EXPORT|IMPORT)\s+DATABASE\b | \bINSTALL\s+\w+ | \bBEGIN\s+TRANSACTION\b
    | (<=|>=|<>|!=|=|<|>)\s*\?(\s|\)|$)          # a comparison with a parameter
    | \b(WHERE|AND|OR)\s+\(?\w+\s+(IS\s+(NOT\s+)?NULL|BETWEEN)\b
    | \blist_contains\(\?
    | ^\s*AND\s+\w+\s*$                           # a bare ' AND complete' fragment
    """,
    re.X,
)


def _texts(tree: ast.AST):
    """(line, text) of every string constant and f-string outside docstrings and help text."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                skip.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in ("help", "epilog"):
            skip.update(id(n) for n in ast.walk(node.value))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.JoinedStr):
            skip.update(id(n) for n in ast.walk(node))
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def sql_strings(path: Path, root: Path = ROOT) -> list[str]:
    """``path:line: text`` of each SQL-like string in a Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return [f"{path.relative_to(root)}:{line}: {text[:100]!r}" for line, text in _texts(tree) if _SQL.search(text)]


def _service_files() -> list[Path]:
    return sorted(p for folder in SERVICES for p in (ROOT / folder).rglob("*.py"))


def _pending(path: Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return relative in PENDING or relative.startswith(PENDING_FOLDERS)


def test_services_hold_no_sql():
    found = [hit for path in _service_files() if not _pending(path) for hit in sql_strings(path)]
    assert not found, "SQL outside storage/ (move it into a named storage function):\n" + "\n".join(found)


def _raw_query_calls(path: Path) -> list[str]:
    """Calls of ``storage.query`` (SQL text in, frame out) or imports of it: the generic read a
    service would only need if it still wrote its own SQL."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hits = []
    for node in ast.walk(tree):
        attribute = isinstance(node, ast.Attribute) and node.attr == "query" and getattr(node.value, "id", None) == "storage"
        imported = isinstance(node, ast.ImportFrom) and node.module == "storage" and any(a.name == "query" for a in node.names)
        if attribute or imported:
            hits.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return hits


def test_services_do_not_call_the_raw_query():
    found = [hit for path in _service_files() if not _pending(path) for hit in _raw_query_calls(path)]
    assert not found, "storage.query called outside storage/ (add a named storage function):\n" + "\n".join(found)


def test_pending_files_still_exist():
    """A stale allow-list entry would hide nothing; one that vanished must be dropped from it."""
    for relative in PENDING:
        assert (ROOT / relative).is_file(), f"{relative} is gone; remove it from PENDING"


@pytest.mark.parametrize("text", [
    "SELECT coin_id FROM coins WHERE list_contains(?, coin_id)",
    "SELECT {}, {} FROM {} WHERE vs_currency = ?{}",
    " AND {} >= ?",
    " AND complete",
    "UPDATE category_members AS m SET valid_to = s.observed_at",
    "INSERT INTO events SELECT * FROM incoming",
    "DELETE FROM price_history WHERE is_partial",
    "SET enable_progress_bar = false",
    "CREATE OR REPLACE TEMP TABLE t AS SELECT 1",
    "ATTACH 'x.duckdb' AS other",
    "CHECKPOINT",
    "EXPORT DATABASE 'dir'",
])
def test_the_scan_recognises_sql(text):
    assert _SQL.search(text)


@pytest.mark.parametrize("text", [
    "DELETE", "select the tokens with --tokens", "no event given; name one with --event",
    "category {} had no members at {} UTC in the database", "GET /api/v3/coins/markets",
])
def test_the_scan_leaves_prose_alone(text):
    assert not _SQL.search(text)


def test_the_scan_skips_docstrings_and_help_but_not_code(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text(
        '"""Run SELECT * FROM coins in the shell."""\n'
        'import click\n'
        '@click.option("--q", help="e.g. SELECT count(*) FROM events")\n'
        'def f(con):\n'
        '    """Reads SELECT x FROM y."""\n'
        '    return con.execute(f"SELECT {1} FROM events WHERE event_id = ?")\n'
    )
    hits = sql_strings(source, tmp_path)
    assert len(hits) == 1 and ":6:" in hits[0]


# ---------------------------------------------------------------- one membership rule


@pytest.fixture
def members_db(db):
    t0 = datetime(2024, 1, 1)
    rows = pd.DataFrame({
        "category_id": "ai",
        "coin_id": ["fetch-ai", "near", "render-token", "fetch-ai"],
        "valid_from": [t0, t0, datetime(2024, 2, 1), datetime(2024, 3, 1)],
        "valid_to": [datetime(2024, 2, 1), None, None, None],
        "source": "coingecko",
    })
    with db.transaction() as con:
        storage.upsert(con, "category_members", rows)
    return db


def test_panels_and_report_sample_share_storage_members_at(members_db, monkeypatch):
    calls = []
    real = storage.members_at

    def spy(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(storage, "members_at", spy)
    at = datetime(2024, 2, 1)  # fetch-ai's first span ended exactly then; render-token's began
    assert panels.category_members_at(members_db, "ai", at) == ["near", "render-token"]
    since = sample.membership(members_db, "ai", ["fetch-ai", "render-token", "bitcoin"], at)
    assert since == {"render-token": pd.Timestamp("2024-02-01")}
    assert calls == ["ai", "ai"]


def test_members_at_gives_the_start_of_the_covering_span(members_db):
    frame = storage.members_at(members_db, "ai", datetime(2024, 3, 15))
    assert frame["coin_id"].tolist() == ["fetch-ai", "near", "render-token"]
    assert frame.set_index("coin_id")["since"].to_dict() == {
        "fetch-ai": pd.Timestamp("2024-03-01"), "near": pd.Timestamp("2024-01-01"), "render-token": pd.Timestamp("2024-02-01"),
    }
