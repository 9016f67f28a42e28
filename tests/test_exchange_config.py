"""The exchange base URL: [exchanges.<id>] base_url in config, TRACKER_EXCHANGE_BASE_URL in the environment."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tracker.config import load_config
from tracker.errors import ConfigError
from tracker.sources.exchange import ExchangeClient, ExchangeError
from tracker.sources.exchange.urls import api_roots, point_at

from . import exchange_helpers
from .exchange_helpers import candles

fake = exchange_helpers.fake  # fixture


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my.toml"
    path.write_text(text)
    return path


def test_defaults_use_the_exchanges_own_hosts():
    config = load_config(env={})
    assert config.exchanges.base_url("binance") is None and config.exchanges.base_url("okx") is None


def test_config_sets_a_root_per_exchange(tmp_path):
    path = _write(tmp_path, '[exchanges.binance]\nbase_url = "http://127.0.0.1:8080/"\n[exchanges.bybit]\nbase_url = "https://proxy.example/bybit"\n')
    exchanges = load_config(path, env={}).exchanges
    assert exchanges.base_url("binance") == "http://127.0.0.1:8080"
    assert exchanges.base_url("bybit") == "https://proxy.example/bybit"
    assert exchanges.base_url("okx") is None


def test_the_environment_applies_to_the_exchange_in_use_and_wins(tmp_path):
    path = _write(tmp_path, '[exchanges.binance]\nbase_url = "http://127.0.0.1:8080"\n')
    config = load_config(path, env={"TRACKER_EXCHANGE_BASE_URL": "http://127.0.0.1:9090"})
    assert config.exchanges.base_url("binance") == "http://127.0.0.1:9090"
    assert config.exchanges.base_url("okx") == "http://127.0.0.1:9090"
    assert "TRACKER_EXCHANGE_BASE_URL" in config.sources


@pytest.mark.parametrize("text, message", [
    ('[exchanges.binance]\nbase_url = "ftp://x"\n', "exchanges.binance.base_url = 'ftp://x' must be an http(s) URL"),
    ('[exchanges.binance]\nbase_url = "http://h/api?key=1"\n', "exchanges.binance.base_url = "),
    ('[exchanges.binance]\nbase_url = 8080\n', "exchanges.binance.base_url = 8080 must be a string"),
    ('[exchanges.binance]\nurl = "http://h"\n', "exchanges.binance.url is not a known setting; known: base_url"),
    ('[exchanges.Bin-ance]\nbase_url = ""\n', "exchanges.Bin-ance is not an exchange id"),
    ('[exchanges]\nbinance = "http://h"\n', "[exchanges.binance] must be a table"),
    ('exchanges = 3\n', "[exchanges] must be a table"),
])
def test_bad_values_give_one_line_naming_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text), env={})
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert "key=1" not in str(caught.value)  # a query string is never echoed


def test_a_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match="^TRACKER_EXCHANGE_BASE_URL = 'not a url' must be an http"):
        load_config(env={"TRACKER_EXCHANGE_BASE_URL": "not a url"})


def test_the_client_goes_where_the_config_points(fake, tmp_path):
    path = _write(tmp_path, f'[exchanges.binance]\nbase_url = "{fake.base_url}"\n')
    client = ExchangeClient("binance", base_url=load_config(path, env={}).exchanges.base_url("binance"), enable_rate_limit=False)
    assert len(candles(client, "FET/USDT", "1d", datetime(2024, 2, 1))) == 29
    assert fake.calls("/api/v3/exchangeInfo") == 1 and fake.calls("/api/v3/klines") == 1


def test_the_client_goes_where_the_environment_points(fake, monkeypatch):
    monkeypatch.setenv("TRACKER_EXCHANGE_BASE_URL", fake.base_url)
    config = load_config()
    for exchange_id, path in (("binance", "/api/v3/exchangeInfo"), ("okx", "/api/v5/public/instruments")):
        client = ExchangeClient.from_config(exchange_id, config, enable_rate_limit=False)
        assert client.base_url == fake.base_url
        assert any(m.symbol == "FET/USDT" for m in client.markets())
        assert fake.calls(path) == 1


def test_point_at_keeps_each_path_and_swaps_the_host():
    import ccxt

    binance, okx = ccxt.binance(), ccxt.okx()
    point_at(binance, "http://127.0.0.1:8080/")
    point_at(okx, "http://proxy.example/okx")
    assert binance.urls["api"]["public"] == "http://127.0.0.1:8080/api/v3"
    assert binance.urls["api"]["sapi"] == "http://127.0.0.1:8080/sapi/v1"
    assert all(root.startswith("http://127.0.0.1:8080") for root in api_roots(binance))
    assert okx.urls["api"]["rest"] == "http://proxy.example/okx"


def test_the_client_refuses_a_bad_root():
    with pytest.raises(ExchangeError, match=r"`base_url` 'http://u:\*\*\*@h' must be an http"):
        ExchangeClient("binance", base_url="http://u:p@h")
