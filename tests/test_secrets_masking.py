"""A key in COINGECKO_BASE_URL's query string, or a password in its userinfo, never reaches a
terminal, a log or a report: config errors, the daemon banner and logs, and `tracker status`."""
from __future__ import annotations

import pytest

from tracker.config import load_config
from tracker.errors import ConfigError
from tracker.sources.coingecko import CoinGeckoClient
from tracker.sources.fakegecko import FakeGecko
from tracker.urls import mask_url, mask_urls

from .daemon_harness import run_tracker, write_config
from .gecko_helpers import NOW

KEY = "CG-qu3ry-Key-7777"
PASSWORD = "pa55-w0rd-9191"


@pytest.mark.parametrize("url, shown", [
    ("http://me:pw@localhost:8000/api/v3?x_cg_demo_api_key=K", "http://me:***@localhost:8000/api/v3?***"),
    ("https://api.coingecko.com/api/v3", "https://api.coingecko.com/api/v3"),
    ("https://token@host/x#frag", "https://token:***@host/x#***"),
    ("http://host?k=v#f", "http://host?***"),
    ("http://:secret@host/", "http://***@host/"),
])
def test_mask_url(url, shown):
    assert mask_url(url) == shown


def test_mask_urls_inside_text():
    text = f"failed: GET http://u:{PASSWORD}@h:1/a?key={KEY} then 'https://x/y?z={KEY}'"
    masked = mask_urls(text)
    assert KEY not in masked and PASSWORD not in masked
    assert "http://u:***@h:1/a?***" in masked and "https://x/y?***" in masked


def test_config_error_masks_a_key_in_the_base_url_query():
    with pytest.raises(ConfigError) as caught:
        load_config(env={"COINGECKO_BASE_URL": f"https://api.coingecko.com/api/v3?x_cg_demo_api_key={KEY}"})
    assert KEY not in str(caught.value) and "?***" in str(caught.value)


def test_cli_and_daemon_config_errors_do_not_echo_the_key(tmp_path):
    env = {"COINGECKO_BASE_URL": f"http://127.0.0.1:9/api/v3?x_cg_pro_api_key={KEY}"}
    for args, code in ((("status",), 1), (("ingest", "markets"), 1), (("daemon", "--once"), 78)):
        done = run_tracker(tmp_path, *args, env=env)
        assert done.returncode == code, (args, done.stderr)
        assert KEY not in done.stdout + done.stderr
        assert done.stderr.startswith("error: coingecko.base_url") and done.stderr.count("\n") == 1


def test_client_repr_masks_userinfo():
    client = CoinGeckoClient(f"http://me:{PASSWORD}@127.0.0.1:9/api/v3", plan="keyless")
    try:
        assert PASSWORD not in repr(client)
    finally:
        client.close()


@pytest.mark.slow  # over 4 s on a quiet machine
def test_daemon_banner_logs_and_status_mask_the_userinfo_password(tmp_path):
    with FakeGecko(ai_coins=3, other_coins=2, now=NOW) as fake:
        url = fake.base_url.replace("http://", f"http://tracker:{PASSWORD}@")
        write_config(tmp_path, url, history_days=3)
        assert run_tracker(tmp_path, "init").returncode == 0
        once = run_tracker(tmp_path, "daemon", "--once", "--log-level", "debug")
        status = run_tracker(tmp_path, "status")
    assert once.returncode == 0, once.stderr[-2000:]
    assert "plan: keyless at http://tracker:***@127.0.0.1:" in once.stderr  # the banner, masked
    assert status.returncode == 0, status.stderr
    for text in (once.stdout, once.stderr, status.stdout, status.stderr):
        assert PASSWORD not in text


def test_coingecko_error_messages_mask_urls_a_server_quotes():
    from tracker.sources.coingecko import CoinGeckoError

    error = CoinGeckoError(f"blocked request to https://api.example/api/v3/ping?x_cg_demo_api_key={KEY}", status=403,
                           endpoint="/ping")
    assert KEY not in str(error) and "https://api.example/api/v3/ping?***" in str(error)
