"""--source on study, correlate and report; provenance per coin; tracker coverage per source;
[tracking] usd_equivalents in the config."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from tests.sources_fixture import build
from tracker.config import ConfigError, load_config
from tracker.report import ReportOptions, build_report

STUDY = ["study", "--event", "sora-demo", "--tokens", "fetch-ai,worldcoin-wld", "--benchmark", "bitcoin"]


@pytest.fixture(scope="module")
def sources_db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("sources_cli") / "tracker.duckdb"
    build(path)
    return path


def _ok(result):
    """stdout only (notes go to stderr)."""
    assert result.exit_code == 0, result.output
    return result.stdout


def test_study_settings_name_each_coins_source_and_the_usd_rule(cli_runner, sources_db_path):
    out = json.loads(_ok(cli_runner("--db", str(sources_db_path), *STUDY, "--format", "json")))
    sources = {row["coin_id"]: row["source"] for row in out["sources"]}
    assert sources == {"fetch-ai": "binance (usdt read as usd)", "worldcoin-wld": "okx (usdc read as usd)",
                       "bitcoin": "coingecko (usd)"}
    assert "USDT, USDC, FDUSD read as USD" in out["sources"][0]["rule"]
    text = _ok(cli_runner("--db", str(sources_db_path), *STUDY))
    assert "prices: one source per coin" in text and "fetch-ai from binance (usdt read as usd)" in text


def test_study_source_option_changes_the_series(cli_runner, sources_db_path, tmp_path):
    out = json.loads(_ok(cli_runner("--db", str(sources_db_path), *STUDY, "--source", "binance", "--format", "json",
                                    "--output", str(tmp_path / "study"))))
    binance = {"fetch-ai": "binance (usdt read as usd)", "bitcoin": "binance (usdt read as usd)"}
    assert {row["coin_id"]: row["source"] for row in out["sources"]} == binance  # worldcoin: no binance closes
    assert out["sources"][0]["rule"].startswith("--source binance")
    settings = json.loads((tmp_path / "study" / "results.json").read_text())["settings"]
    assert settings["sources"]["coins"] == binance
    # The benchmark comes from the chosen source too: bitcoin has no CSV closes, and one line says so.
    result = cli_runner("--db", str(sources_db_path), *STUDY, "--source", "csv")
    assert result.exit_code == 1 and result.output.strip().splitlines() == [
        "error: benchmark 'bitcoin' has no prices from --source 'csv' between 2023-10-07 and 2024-02-20"]


def test_an_unknown_source_is_one_line_naming_the_stored_ones(cli_runner, sources_db_path):
    for command in (STUDY, ["correlate", "matrix", "--tokens", "fetch-ai"], ["coverage"]):
        result = cli_runner("--db", str(sources_db_path), *command, "--source", "kraken")
        assert result.exit_code == 1
        lines = result.output.strip().splitlines()
        assert len(lines) == 1, result.output
        assert lines[0] == ("error: unknown --source 'kraken': the stored sources are binance, coingecko, csv:fet.csv, okx, csv")


def test_correlate_takes_source_and_says_where_prices_came_from(cli_runner, sources_db_path):
    args = ["--db", str(sources_db_path), "correlate", "matrix", "--tokens", "fetch-ai,render-token", "--against", "bitcoin",
            "--format", "json"]
    default = json.loads(_ok(cli_runner(*args)))
    assert default["settings"]["price_from"] == {"bitcoin": "coingecko (usd)", "fetch-ai": "binance (usdt read as usd)",
                                                   "render-token": "binance (usdt read as usd)"}
    okx = json.loads(_ok(cli_runner(*args[:-4], "--against", "none", "--tokens", "render-token,worldcoin-wld",
                                    "--source", "okx", "--format", "json")))
    settings = okx["settings"]
    assert settings["price_from"] == {"render-token": "okx (usdt read as usd)", "worldcoin-wld": "okx (usdc read as usd)"}
    assert settings["sources"].startswith("--source okx")


def test_coverage_shows_every_source_per_coin_in_every_format(cli_runner, sources_db_path):
    out = json.loads(_ok(cli_runner("--db", str(sources_db_path), "coverage", "--coin", "fetch-ai", "--format", "json")))
    rows = pd.DataFrame(out)
    daily = rows[rows.granularity == "daily"].set_index("source")
    assert sorted(daily.index) == ["binance", "coingecko", "csv:fet.csv"]
    assert daily.loc["binance", "points"] == 305 and daily.loc["coingecko", "points"] == 122
    assert daily.loc["binance", "vs_currency"] == "usdt" and daily.loc["binance", "read_as"] == "usd"
    assert (daily["missing"] == 0).all()
    csv = pd.read_csv(io.StringIO(_ok(cli_runner("--db", str(sources_db_path), "coverage", "--format", "csv", "--source", "okx"))))
    assert set(csv.source) == {"okx"} and set(csv.coin_id) == {"worldcoin-wld", "render-token"}
    table = _ok(cli_runner("--db", str(sources_db_path), "coverage", "--coin", "render-token,bitcoin"))
    assert "binance" in table and "okx" in table and "coingecko" in table and "worldcoin" not in table


@pytest.mark.slow  # over 3 s on a quiet machine
def test_report_provenance_names_the_source_per_coin(sources_db_path, tmp_path):
    import storage
    db = storage.open_database(sources_db_path)
    report = build_report(db, load_config(None), ReportOptions(events=("sora-demo",), tokens=("fetch-ai", "worldcoin-wld")))
    p = report.doc["provenance"]
    sources = {row["coin_id"]: (row["source"], row["quote"]) for row in p["price_sources"]}
    assert sources["fetch-ai"] == ("binance", "usdt read as usd") and sources["worldcoin-wld"] == ("okx", "usdc read as usd")
    assert sources["bitcoin"] == ("coingecko", "usd")
    fetch = next(row for row in p["price_sources"] if row["coin_id"] == "fetch-ai")
    assert "coingecko" in fetch["not_used"] and "csv:fet.csv" in fetch["not_used"]
    assert "USDT, USDC, FDUSD read as USD" in p["source_rule"] and report.doc["settings"]["sources"] == p["source_rule"]
    from tracker.report.markdown import render_markdown
    text = render_markdown(report)
    assert "read as USD" in text and "usdt read as usd" in text
    pinned = build_report(db, load_config(None), ReportOptions(events=("sora-demo",), tokens=("fetch-ai",), source="binance"))
    assert {r["coin_id"]: r["source"] for r in pinned.doc["provenance"]["price_sources"]} == {"fetch-ai": "binance", "bitcoin": "binance"}
    assert "--source binance" in pinned.doc["report"]["command"]


def test_usd_equivalents_config_is_checked(tmp_path):
    assert load_config(None).tracking.usd_equivalents == ("usdt", "usdc", "fdusd")
    config = tmp_path / "tracker.toml"
    config.write_text('[tracking]\nusd_equivalents = ["USDT", "dai"]\n')
    assert load_config(config).tracking.usd_equivalents == ("usdt", "dai")
    config.write_text("[tracking]\nusd_equivalents = []\n")
    assert load_config(config).tracking.usd_equivalents == ()
    for bad, words in (('"usdt"', "must be a list"), ('["usd"]', "lists 'usd' itself"), ('["us dt"]', "2-10 letters")):
        config.write_text(f"[tracking]\nusd_equivalents = {bad}\n")
        with pytest.raises(ConfigError, match=words):
            load_config(config)
