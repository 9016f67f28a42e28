"""docs/sql.md cannot drift: every example runs against the fixture database and shows its real output.

Also: every table and view is documented with its real columns and types, no shell or Python
block escapes execution, every cookbook query runs in the stock duckdb 1.5 CLI with the same
answer, and one cookbook answer is recomputed independently in pandas.
"""
from __future__ import annotations

import io
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

import storage

from . import sqlcookbook
from .conftest import subprocess_env, venv_bin
from .sqlfixture import build_fixture

EXAMPLES = sqlcookbook.load_examples()
SHOWN = [e for e in EXAMPLES if e.kind in {"cookbook", "example"}]
COOKBOOK = [e for e in EXAMPLES if e.kind == "cookbook"]


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlfixture") / "fixture.duckdb"
    build_fixture(path)
    return path


@pytest.fixture(scope="module")
def actual_outputs(fixture_db):
    """Every example run once, in doc order, in one scratch folder (console blocks checked on the way)."""
    return sqlcookbook.run_all(fixture_db)


def test_cookbook_has_at_least_ten_real_questions():
    assert len(COOKBOOK) >= 10
    assert all(e.shown for e in COOKBOOK), "every cookbook query shows its output"
    assert all(re.match(r"\d+\. ", e.title) for e in COOKBOOK), "every query sits under a numbered question"


@pytest.mark.slow
@pytest.mark.parametrize("example", SHOWN, ids=[e.name for e in SHOWN])
def test_doc_shows_the_real_output(example, actual_outputs):
    assert example.shown is not None, f"{example.name} shows no output block"
    assert actual_outputs[example.name] == example.shown, (
        f"docs/sql.md is stale for {example.name}: run `python -m tests.sqlfixture --update-docs`"
    )


@pytest.mark.slow
def test_console_blocks_ran(actual_outputs):
    consoles = [e for e in EXAMPLES if e.kind == "console"]
    assert len(consoles) >= 3
    assert all(e.name in actual_outputs for e in consoles)


def test_no_shell_or_python_block_escapes_the_runner():
    assert sqlcookbook.unmarked_code_blocks() == []
    stray = "text\n```bash\necho hi\n```\n<!-- example: ok -->\n```python\nprint(1)\n```\n"
    assert sqlcookbook.unmarked_code_blocks(stray) == ["bash"]


def _documented_relations() -> dict[str, list[tuple[str, str]]]:
    text = sqlcookbook.DOC.read_text(encoding="utf-8")
    text = text[: text.index("## Cookbook")]
    relations: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        heading = re.fullmatch(r"### `([a-z_0-9]+)`", line)
        if heading:
            current = heading[1]
            relations[current] = []
            continue
        if line.startswith("## "):
            current = None
        row = re.match(r"\| `([a-z_0-9]+)` \| ([A-Z\[\]]+) \|", line)
        if current and row:
            relations[current].append((row[1], row[2]))
    return relations


def test_every_table_and_view_is_documented_with_its_columns(db):
    with db.connect(read_only=True) as con:
        real = {}
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY table_name"
        ).fetchall():
            real[name] = [
                (c, t) for c, t in con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [name]
                ).fetchall()
            ]
    documented = _documented_relations()
    missing = sorted(set(real) - set(documented))
    assert not missing, f"docs/sql.md does not document {missing}: add a section with its columns"
    assert not sorted(set(documented) - set(real)), "docs/sql.md documents relations that do not exist"
    for name, columns in real.items():
        assert documented[name] == columns, f"docs/sql.md columns of {name} differ from the database"


@pytest.mark.parametrize("example", COOKBOOK, ids=[e.name for e in COOKBOOK])
def test_cookbook_query_gives_the_same_answer_in_the_duckdb_15_cli(example, fixture_db):
    python = storage.run_user_sql(storage.Database(fixture_db), example.code)
    done = subprocess.run(
        [venv_bin("duckdb"), "-readonly", str(fixture_db), "-csv", "-c", example.code],
        capture_output=True, text=True, env=subprocess_env(), timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "v1.5" in subprocess.run([venv_bin("duckdb"), "--version"], capture_output=True, text=True).stdout
    cli = pd.read_csv(io.StringIO(done.stdout))
    assert list(cli.columns) == list(python.columns)
    assert len(cli) == len(python)
    for column in python.columns:
        ours = python[column]
        if pd.api.types.is_numeric_dtype(ours) and not pd.api.types.is_bool_dtype(ours):
            np.testing.assert_allclose(cli[column].astype(float), ours.astype(float), rtol=1e-9, equal_nan=True)


def test_rolling_correlation_example_matches_pandas(fixture_db):
    """Cookbook 6 recomputed from raw rows with pandas' own rolling correlation."""
    example = next(e for e in COOKBOOK if e.name == "rolling-correlation")
    sql_result = storage.run_user_sql(storage.Database(fixture_db), example.code)
    prices = storage.query(
        storage.Database(fixture_db),
        "SELECT coin_id, ts, price FROM price_history WHERE coin_id IN ('fetch-ai', 'bitcoin') "
        "AND granularity = 'daily' AND source = 'coingecko'",
    )
    # Daily closes straight from the raw points: the 00:00 point closes the day before.
    prices["day"] = (prices["ts"] - pd.Timedelta(minutes=5)).dt.floor("D")
    wide = prices.pivot_table(index="day", columns="coin_id", values="price", aggfunc="last")
    calendar = pd.date_range(wide.index.min(), wide.index.max(), freq="D")
    wide = wide.reindex(calendar)  # FET's missing days become NaN, so no return spans them
    logs = np.log(wide / wide.shift(1))
    rolling = logs["fetch-ai"].rolling(30, min_periods=2).corr(logs["bitcoin"])
    for _, row in sql_result.iterrows():
        expected = rolling.loc[pd.Timestamp(row["day"])]
        assert row["corr_30d"] == pytest.approx(round(expected, 3), abs=1e-9)
