"""Configuration: defaults, overrides, and one-line errors naming the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import PLAN_BASE_URLS, load_config
from tracker.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "my.toml"
    path.write_text(text)
    return path


def test_defaults():
    config = load_config(env={})
    assert config.database.path == Path("data/tracker.duckdb")
    assert config.coingecko.plan == "keyless"
    assert config.coingecko.base_url == PLAN_BASE_URLS["keyless"]
    assert config.coingecko.calls_per_minute == 5
    assert config.tracking.categories == ("artificial-intelligence",)
    assert config.tracking.benchmarks == ("bitcoin", "ethereum")
    assert set(config.schedules) == {"markets", "categories", "members", "history", "candles", "candles_hourly"}
    # The exchange-candle jobs call an exchange, not CoinGecko: configured (daily, hourly) but off.
    assert config.schedules["candles"].cron == "15 0 * * *" and config.schedules["candles_hourly"].cron == "5 * * * *"
    assert not config.schedules["candles"].enabled and not config.schedules["candles_hourly"].enabled
    assert config.schedules["markets"].every_seconds == 600
    assert config.schedules["history"].run_at_start


def test_environment_wins_over_files(tmp_path):
    path = _write(tmp_path, '[coingecko]\nplan = "demo"\n[database]\npath = "elsewhere.duckdb"\n')
    env = {
        "TRACKER_CONFIG": str(path),
        "TRACKER_DB": "env.duckdb",
        "COINGECKO_PLAN": "pro",
        "COINGECKO_BASE_URL": "http://127.0.0.1:9999/api/v3/",
        "COINGECKO_API_KEY": "CG-secret-key-123",
    }
    config = load_config(env=env)
    assert config.database.path == Path("env.duckdb")
    assert config.coingecko.plan == "pro"
    assert config.coingecko.base_url == "http://127.0.0.1:9999/api/v3"
    assert config.coingecko.calls_per_minute == 250
    assert config.coingecko.key_header == "x-cg-pro-api-key"


def test_user_file_only_needs_changed_keys(tmp_path):
    path = _write(tmp_path, "[schedules.markets]\nevery = \"2m\"\njitter = 5\n")
    config = load_config(path, env={})
    assert config.schedules["markets"].every_seconds == 120
    assert config.schedules["markets"].jitter_seconds == 5
    assert config.schedules["categories"].every_seconds == 3600


def test_user_schedule_kind_replaces_the_default_kind(tmp_path):
    path = _write(tmp_path, '[schedules.members]\nevery = "20m"\n[schedules.markets]\ncron = "*/5 * * * *"\n')
    config = load_config(path, env={})
    assert (config.schedules["members"].every_seconds, config.schedules["members"].cron) == (1200, None)
    assert (config.schedules["markets"].every_seconds, config.schedules["markets"].cron) == (None, "*/5 * * * *")
    assert config.schedules["members"].jitter_seconds == 300  # the rest of the default table stays


def test_tracker_toml_in_working_directory_is_read(tmp_path):
    (tmp_path / "tracker.toml").write_text('[tracking]\nvs_currency = "EUR"\n')
    assert load_config(env={}).tracking.vs_currency == "eur"


def test_key_is_never_in_repr_or_mask():
    config = load_config(env={"COINGECKO_API_KEY": "CG-supersecret", "COINGECKO_PLAN": "demo"})
    assert "supersecret" not in repr(config)
    assert "supersecret" not in config.coingecko.masked_key
    assert config.coingecko.masked_key.startswith("set")


INVALID = [
    ('[coingecko]\nplan = "gold"\n', {}, r"coingecko.plan = 'gold' is not one of keyless, demo, pro"),
    ("", {"COINGECKO_PLAN": "platinum"}, r"COINGECKO_PLAN = 'platinum' is not one of"),
    ('[coingecko]\nbase_url = "ftp://x"\n', {}, r"coingecko.base_url .* must be an http\(s\) URL"),
    ('[coingecko]\ntimeout_seconds = "soon"\n', {}, r"coingecko.timeout_seconds = 'soon' must be a number"),
    ('[coingecko]\nmax_retries = -1\n', {}, r"coingecko.max_retries = -1 must be at least 0"),
    ('[coingecko]\nmax_retries = 1.5\n', {}, r"must be a whole number"),
    ('[coingecko]\ncolour = "red"\n', {}, r"coingecko.colour is not a known setting"),
    ('[tracking]\ncategories = ["Artificial Intelligence"]\n', {}, r"tracking.categories has 'Artificial Intelligence'"),
    ('[tracking]\nvs_currency = "us dollars"\n', {}, r"tracking.vs_currency = 'us dollars' must be a currency code"),
    ('[schedules.markets]\nevery = "ten minutes"\n', {}, r"schedules.markets.every = 'ten minutes' is not a duration"),
    ('[schedules.markets]\nevery = "0s"\n', {}, r"schedules.markets.every must be longer than 0s"),
    ('[schedules.markets]\nevery = "1m"\ncron = "* * * * *"\n', {}, r"schedules.markets needs exactly one of `every`"),
    ('[schedules.markets]\ncron = "* * *"\n', {}, r"schedules.markets.cron = '\* \* \*' is not a valid cron"),
    ('[schedules.markets]\nevery = "10s"\njitter = "30s"\n', {}, r"schedules.markets.jitter \(30s\) must be at most half of schedules.markets.every"),
    ('[schedules.members]\ncron = "61 * * * *"\n', {}, r"schedules.members.cron = '61 \* \* \* \*' is not a valid cron"),
    ('[schedules.weekly]\nevery = "7d"\n', {}, r"schedules.weekly is not a job"),
    ("[nonsense]\nx = 1\n", {}, r"\[nonsense\] is not a known config section"),
    ("this is = not toml [", {}, r"is not valid TOML"),
    ('[database]\npath = ""\n', {}, r"database.path must not be empty"),
]


@pytest.mark.parametrize("text, env, message", INVALID)
def test_invalid_values_give_one_line_naming_the_key(tmp_path, text, env, message):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path, env=env)
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match=r"config file .*nope.toml does not exist"):
        load_config(env={"TRACKER_CONFIG": str(tmp_path / "nope.toml")})


def test_bad_config_through_the_cli_is_one_line(tmp_path, cli_runner):
    path = _write(tmp_path, '[coingecko]\nplan = "gold"\n')
    result = cli_runner("--config", str(path), "init")
    assert result.exit_code == 1
    assert result.output.strip() == "error: coingecko.plan = 'gold' is not one of keyless, demo, pro"


def test_repair_calls_per_run_defaults_to_10_and_is_bounded(tmp_path):
    """tracking.repair_calls_per_run bounds the history job's re-fetching of drifted nulls (issue 12 item 6)."""
    assert load_config(_write(tmp_path, "")).tracking.repair_calls_per_run == 10
    assert load_config(_write(tmp_path, "[tracking]\nrepair_calls_per_run = 0\n")).tracking.repair_calls_per_run == 0
    for text, message in (("-1", "must be at least 0"), ("1e9", "must be at most 1000"), ("2.5", "must be a whole number")):
        with pytest.raises(ConfigError, match=rf"tracking.repair_calls_per_run = .* {message}"):
            load_config(_write(tmp_path, f"[tracking]\nrepair_calls_per_run = {text}\n"))
