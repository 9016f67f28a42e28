"""`tracker ingest ...` against the fake server: every table filled with the minimum number of calls, within the rate limit."""
from __future__ import annotations

import json
import math
import subprocess

import pytest

import storage
from tracker.sources.fakegecko import FakeGecko, FakeGeckoProcess

from .conftest import subprocess_env, venv_bin

FAST = "[coingecko]\ncalls_per_minute = 3000\nbackoff_seconds = 0.01\nbackoff_max_seconds = 0.05\n"


@pytest.fixture
def configured(tmp_path, cli_runner):
    (tmp_path / "tracker.toml").write_text(FAST)
    assert cli_runner("init").exit_code == 0
    return tmp_path


def _db(tmp_path):
    return storage.open_database(tmp_path / "data" / "tracker.duckdb")


@pytest.mark.slow
def test_ingest_all_fills_every_table_with_the_minimum_calls(configured, cli_runner):
    n = 20
    # The server enforces 50 calls per second; the client's budget is 3000/min = 50/s.
    with FakeGecko(ai_coins=n, other_coins=10, rate_limit_per_minute=50, rate_window_seconds=1.0) as server:
        env = {"COINGECKO_BASE_URL": server.base_url}
        result = cli_runner("ingest", "all", "--format", "json", env=env)
        assert result.exit_code == 0, result.output
        runs = json.loads(result.stdout)  # the progress bar went to stderr, not into the JSON
        stats = server.stats()
        again = json.loads(cli_runner("ingest", "all", "--format", "json", env=env).stdout)
    # categories: 1; markets: ceil(n / 250) pages + 1 call for the two benchmarks outside the
    # category; members: 0 (the markets pages are reused); history: 2 chunks per coin.
    expected = {"categories": 1, "markets": math.ceil(n / 250) + 1, "members": 0, "history": 2 * (n + 2)}
    assert {r["job"]: r["calls"] for r in runs} == expected
    assert {r["job"]: r["status"] for r in runs} == dict.fromkeys(expected, "ok")
    assert stats["calls"] == sum(expected.values())
    assert stats["by_endpoint"] == {"/coins/categories": 1, "/coins/markets": expected["markets"],
                                    "/coins/{id}/market_chart/range": expected["history"]}
    assert stats["rate_limited"] == 0 and set(stats["by_status"]) == {"200"}
    db = _db(configured)
    for table in ("coins", "categories", "category_snapshots", "category_members", "market_snapshots",
                  "price_history", "ingest_runs", "ingest_state"):
        assert storage.query(db, f"SELECT count(*) AS n FROM {table}")["n"][0] > 0, table
    assert storage.query(db, "SELECT count(*) AS n FROM category_members")["n"][0] == n
    # Straight away again: snapshots are taken again, history is already up to date.
    assert {r["job"]: r["calls"] for r in again} == {**expected, "history": 0}


def test_a_big_category_costs_ceil_n_over_250_through_the_cli(configured, cli_runner):
    with FakeGecko(ai_coins=300, other_coins=10) as server:
        env = {"COINGECKO_BASE_URL": server.base_url}
        for job in ("categories", "markets", "members"):
            assert cli_runner("ingest", job, env=env).exit_code == 0
        by_endpoint = server.stats()["by_endpoint"]
    # markets: 2 pages + benchmarks; members (run alone, so it pages the category itself): 2.
    assert by_endpoint == {"/coins/categories": 1, "/coins/markets": 2 + 1 + 2}
    table = storage.query(_db(configured), "SELECT job, calls FROM ingest_runs ORDER BY started_at")
    assert table.values.tolist() == [["categories", 1], ["markets", 3], ["members", 2]]


def test_history_for_chosen_coins_with_a_table(configured, cli_runner):
    with FakeGecko(ai_coins=5, other_coins=5) as server:
        result = cli_runner("ingest", "history", "--coin", "bitcoin", "--coin", "fetch-ai", "--days", "30",
                            env={"COINGECKO_BASE_URL": server.base_url})
    assert result.exit_code == 0, result.output
    header, rule, row = result.stdout.splitlines()[:3]
    assert header.split()[:4] == ["job", "status", "calls", "rows"] and row.split()[:3] == ["history", "ok", "2"]
    coins = storage.query(_db(configured), "SELECT DISTINCT coin_id FROM price_history ORDER BY 1")["coin_id"].tolist()
    assert coins == ["bitcoin", "fetch-ai"]


def test_partial_run_warns_and_failed_run_exits_1(configured, cli_runner):
    with FakeGecko(ai_coins=2, other_coins=2) as server:
        env = {"COINGECKO_BASE_URL": server.base_url}
        server.add_fault("not_found", endpoint="/coins/ethereum/market_chart/range", times=None)
        partial = cli_runner("ingest", "history", "--format", "csv", env=env)
        server.add_fault("cloudflare_403", endpoint="/coins/categories", times=None)
        failed = cli_runner("ingest", "categories", env=env)
    assert partial.exit_code == 3 and "warning: history finished partial: ethereum: marked inactive" in partial.stderr
    assert partial.stdout.splitlines()[0] == "job,status,calls,rows,seconds,error,run_id"
    assert failed.exit_code == 1
    (line,) = [text for text in failed.stderr.splitlines() if text.startswith("error:")]
    assert line.startswith("error: ingest categories failed: CoinGecko /coins/categories (HTTP 403, error 1020): Access denied")


def test_config_problems_are_one_line(configured, cli_runner):
    result = cli_runner("ingest", "markets", env={"COINGECKO_PLAN": "demo"})
    assert result.exit_code == 1
    assert result.output.strip() == "error: coingecko.plan = 'demo' needs an API key: set COINGECKO_API_KEY (or use plan keyless)"


def test_no_database_is_one_line(tmp_path, cli_runner):
    result = cli_runner("ingest", "markets", env={"COINGECKO_BASE_URL": "http://127.0.0.1:9/api/v3"})
    assert result.exit_code == 1 and "run `tracker init` first" in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["markets", "categories", "members", "history", "all"])
def test_help_and_format(cli_runner, command):
    result = cli_runner("ingest", command, "--help")
    assert result.exit_code == 0 and "--format [table|json|csv]" in result.output


@pytest.mark.slow
def test_real_processes_cli_against_a_subprocess_fake(configured):
    """The installed `tracker` command against `python -m tracker.sources.fakegecko`, as the daemon tests will run them."""
    with FakeGeckoProcess(["--ai-coins", "6", "--other-coins", "4", "--rate-limit", "100"]) as fake:
        fake.control.add_fault("server_error", endpoint="/coins/markets", status=503)
        done = subprocess.run([venv_bin("tracker"), "ingest", "all", "--format", "json"], cwd=configured,
                              env=subprocess_env(COINGECKO_BASE_URL=fake.base_url), capture_output=True, text=True, timeout=120)
        stats = fake.control.stats()
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    assert [r["status"] for r in runs] == ["ok"] * 4
    assert stats["faults_fired"] == {"server_error": 1} and stats["by_status"]["503"] == 1
    assert sum(r["calls"] for r in runs) == stats["calls"] == 1 + (1 + 1) + 1 + 0 + 2 * 8
