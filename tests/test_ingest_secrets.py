"""The API key reaches the server in its header and nowhere else: not in URLs, logs, errors, the database or the spool."""
from __future__ import annotations

import logging

import pytest

from tracker.config import TrackingConfig
from tracker.ingest import Batch, fetch_categories, ingest_all
from tracker.sources.coingecko import CoinGeckoError
from tracker.sources.fakegecko import FakeGecko

from .gecko_helpers import NOW, all_text, make_client

KEY = "CG-s3cr3t-Key-4242"
TRACKING = TrackingConfig("usd", ("artificial-intelligence",), ("bitcoin", "ethereum", "not-a-coin"), 365)


@pytest.mark.slow  # over 4 s on a quiet machine
def test_key_never_leaks(db, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)  # every logger, urllib3's included
    with FakeGecko(ai_coins=3, other_coins=2, now=NOW, demo_keys={KEY}) as server, \
            make_client(server, plan="demo", api_key=KEY, timeout=1.5) as client:
        # Errors of every kind, so their messages and the run rows are exercised too.
        server.add_faults([
            {"kind": "server_error", "endpoint": "/coins/markets", "status": 502},
            {"kind": "rate_limit", "endpoint": "/coins/categories", "retry_after": 0.1},
            {"kind": "not_found", "endpoint": "/coins/ethereum/market_chart/range", "times": None},
            {"kind": "history_limit", "endpoint": "/coins/bitcoin/market_chart/range", "times": None},
            {"kind": "reset", "endpoint": "/coins/fetch-ai/market_chart/range"},
            {"kind": "timeout", "endpoint": "/coins/near/market_chart/range", "delay": 60, "times": None},
        ])
        runs = ingest_all(db, client, TRACKING, now=NOW)
        assert {r.status for r in runs} >= {"partial"}

        errors = []
        for call in (client.ping, lambda: client.market_chart_range("nope", "usd", 0, 10)):
            server.add_fault("unauthorized", endpoint="/ping")
            try:
                call()
            except CoinGeckoError as exc:
                errors.append(exc)
        spooled = next(iter(fetch_categories(client, TRACKING, now=NOW))).save(tmp_path / "spool" / "b")
        Batch.load(spooled)
        stats = server.stats()

    # The key did reach the server, in the demo header, on every call.
    assert {r["auth"] for r in stats["requests"]} == {"demo"}
    assert stats["key_in_query"] == 0
    # ...and nowhere else.
    assert all(KEY not in r["path"] + r["query"] for r in stats["requests"])
    assert KEY not in caplog.text
    assert caplog.text  # the client did log its calls
    assert errors and all(KEY not in str(e) and KEY not in repr(e) for e in errors)
    assert all(KEY not in (r.error or "") for r in runs)
    assert KEY not in all_text(db)
    assert "coin not found" in all_text(db)  # the scan does read the rows
    for path in (tmp_path / "spool").rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes()


def test_key_is_not_in_the_cli_output_or_errors(tmp_path, cli_runner, monkeypatch):
    with FakeGecko(ai_coins=2, other_coins=2, now=NOW) as server:
        server.add_fault("unauthorized", endpoint="/coins/categories", times=None)
        (tmp_path / "tracker.toml").write_text("[coingecko]\nplan = \"demo\"\ncalls_per_minute = 6000\n"
                                               "backoff_seconds = 0.01\nbackoff_max_seconds = 0.05\n")
        env = {"COINGECKO_BASE_URL": server.base_url, "COINGECKO_API_KEY": KEY}
        assert cli_runner("init").exit_code == 0
        failed = cli_runner("ingest", "categories", "--format", "json", env=env)
        status = cli_runner("status", env=env)
    assert failed.exit_code == 1 and "error: ingest categories failed" in failed.output
    assert status.exit_code == 0 and "API Key Missing" in status.output
    assert KEY not in failed.output and KEY not in status.output
    from tracker.config import load_config
    from tracker.sources.coingecko import client_from_config

    config = load_config(env=env)
    assert KEY not in repr(config) and KEY not in config.coingecko.masked_key
    assert KEY not in repr(client_from_config(config))
