"""Every numeric config value is checked at load: finite, whole where it counts, within a
documented range; the error names the key and what is allowed, and `tracker daemon` exits 78."""
from __future__ import annotations

import pytest

from tracker.config import load_config
from tracker.errors import ConfigError

from .daemon_harness import run_tracker

OUT_OF_RANGE = [
    ("[coingecko]\ntimeout_seconds = nan\n", r"coingecko.timeout_seconds = nan must be a finite number from 0.1 to 600"),
    ("[coingecko]\ntimeout_seconds = inf\n", r"coingecko.timeout_seconds = inf must be a finite number"),
    ("[coingecko]\ntimeout_seconds = -inf\n", r"coingecko.timeout_seconds = -inf must be a finite number"),
    ("[coingecko]\ntimeout_seconds = 1e9\n", r"coingecko.timeout_seconds = 1000000000.0 must be at most 600 \(allowed: 0.1 to 600\)"),
    ("[tracking]\nhistory_days = 1e9\n", r"tracking.history_days = 1000000000.0 must be at most 36500"),
    ("[tracking]\nhistory_days = 0\n", r"tracking.history_days = 0 must be at least 1"),
    ("[coingecko]\nmax_retries = 1e100\n", r"coingecko.max_retries = 1e\+100 must be at most 100"),
    ("[coingecko]\ncalls_per_minute = nan\n", r"coingecko.calls_per_minute = nan must be a finite number"),
    ("[coingecko]\nbackoff_seconds = inf\n", r"coingecko.backoff_seconds = inf must be a finite number"),
    ("[coingecko]\nbackoff_max_seconds = 1e300\n", r"coingecko.backoff_max_seconds = 1e\+300 must be at most 86400"),
    ("[coingecko]\nretry_after_cap_seconds = -1\n", r"coingecko.retry_after_cap_seconds = -1 must be at least 0"),
    ("[database]\nlock_timeout_seconds = nan\n", r"database.lock_timeout_seconds = nan must be a finite number"),
    ("[database]\nlock_timeout_seconds = 1e12\n", r"database.lock_timeout_seconds = 1000000000000.0 must be at most 3600"),
    ('[schedules.markets]\nevery = nan\n', r"schedules.markets.every = nan is not a finite duration"),
    ('[schedules.markets]\nevery = inf\n', r"schedules.markets.every = inf is not a finite duration"),
    ('[schedules.markets]\nevery = "99999999999d"\n', r"schedules.markets.every = '99999999999d' is longer than 366d"),
    ('[schedules.markets]\nevery = "1h"\njitter = nan\n', r"schedules.markets.jitter = nan is not a finite duration"),
]


@pytest.mark.parametrize("text, message", OUT_OF_RANGE)
def test_numbers_out_of_range_are_refused_at_load(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path, env={})
    assert "\n" not in str(info.value)


def test_sane_values_at_the_edges_load(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text("[coingecko]\ntimeout_seconds = 600\nmax_retries = 100.0\n[tracking]\nhistory_days = 36500\n")
    config = load_config(path, env={})
    assert (config.coingecko.timeout_seconds, config.coingecko.max_retries, config.tracking.history_days) == (600, 100, 36500)
    assert isinstance(config.coingecko.max_retries, int)


def test_a_config_file_that_is_not_utf8_names_the_file_and_the_offset(tmp_path):
    path = tmp_path / "latin1.toml"
    body = b'[tracking]\nvs_currency = "usd" # caf\xe9\n'
    path.write_bytes(body)
    offset = body.index(b"\xe9")
    with pytest.raises(ConfigError, match=rf"config file .*latin1.toml is not UTF-8 text \(bad byte at offset {offset}\)"):
        load_config(path, env={})


@pytest.mark.parametrize("text", ["[coingecko]\ntimeout_seconds = nan\n", "[tracking]\nhistory_days = 1e9\n",
                                  b"[tracking]\n# \xff\xfe\n"])
def test_daemon_exits_78_on_any_config_error_before_touching_the_network(tmp_path, text):
    path = tmp_path / "tracker.toml"
    # An address nothing listens on: a daemon that ran on would log connection failures.
    body = text if isinstance(text, bytes) else text.encode()
    path.write_bytes(b'[database]\npath = "data/t.duckdb"\n' + body)
    for args in (("daemon", "--once"), ("daemon",)):
        done = run_tracker(tmp_path, *args, timeout=60)
        assert done.returncode == 78, (args, done.stderr)
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, done.stderr
        assert "unexpected" not in done.stderr
    assert not (tmp_path / "data").exists()  # nothing was made


def test_a_schedule_shorter_than_a_second_is_refused(tmp_path):
    path = tmp_path / "fast.toml"
    path.write_text('[schedules.markets]\nevery = "0.001s"\njitter = "0s"\n')
    with pytest.raises(ConfigError, match=r"schedules.markets.every = '0.001s' must be at least 1s"):
        load_config(path, env={})
