"""Configuration: packaged defaults, then a user file, then environment variables.

Every value is checked once, here; a bad one raises ConfigError naming the key and what is
allowed. The API key is held apart from everything printable (see ``CoinGeckoConfig.masked_key``).
"""
from __future__ import annotations

import math
import os
import re
import sys
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import ConfigError
from .urls import mask_url

PLANS = ("keyless", "demo", "pro")
PLAN_BASE_URLS = {
    "keyless": "https://api.coingecko.com/api/v3",
    "demo": "https://api.coingecko.com/api/v3",
    "pro": "https://pro-api.coingecko.com/api/v3",
}
# Conservative calls per minute when the config leaves it at 0 (see docs/coingecko.md).
PLAN_CALLS_PER_MINUTE = {"keyless": 5.0, "demo": 30.0, "pro": 250.0}
JOBS = ("markets", "categories", "members", "history", "candles", "candles_hourly")

_DURATION = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|m|h|d)?\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_EVERY_SECONDS = 366 * 86400  # a schedule longer than a year is a typo, and overflows the scheduler
MAX_HISTORY_DAYS = 36500  # a century: far beyond CoinGecko's data, far below a date overflow


def config_dir() -> Path:
    """The folder of packaged defaults: ``config/`` beside the packages, or under sys.prefix."""
    for candidate in (
        Path(__file__).resolve().parents[1] / "config",
        Path(sys.prefix) / "share" / "ai-token-tracker" / "config",
    ):
        if (candidate / "tracker.toml").is_file():
            return candidate
    raise ConfigError("the packaged config/tracker.toml is missing; reinstall ai-token-tracker")


def parse_duration(value: Any, key: str) -> float:
    """'30s', '10m', '1h', '1d' or a number of seconds."""
    if isinstance(value, bool):
        raise ConfigError(f"{key} = {value!r} is not a duration; use e.g. 30s, 10m, 1h, 1d")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ConfigError(f"{key} = {value!r} is not a duration; use e.g. 30s, 10m, 1h, 1d")
        seconds = float(match["n"]) * _UNIT_SECONDS[match["unit"]]
    if not math.isfinite(seconds):
        raise ConfigError(f"{key} = {value!r} is not a finite duration; use e.g. 30s, 10m, 1h, 1d")
    if seconds < 0:
        raise ConfigError(f"{key} = {value!r} must not be negative")
    if seconds > MAX_EVERY_SECONDS:
        raise ConfigError(f"{key} = {value!r} is longer than 366d; use at most 366d")
    return seconds


@dataclass(frozen=True)
class DatabaseConfig:
    path: Path
    snapshot_dir: Path
    spool_dir: Path
    lock_timeout_seconds: float


@dataclass(frozen=True)
class CoinGeckoConfig:
    plan: str
    base_url: str
    calls_per_minute: float
    timeout_seconds: float
    max_retries: int
    retry_after_cap_seconds: float
    api_key: str | None = field(default=None, repr=False)
    backoff_seconds: float = 1.0        # first wait before retrying a 5xx or network error; doubles each time
    backoff_max_seconds: float = 60.0   # longest such wait (also the wait after a 429 without Retry-After)

    @property
    def masked_key(self) -> str:
        """What may be printed about the key: whether it is set, never its characters."""
        if not self.api_key:
            return "not set"
        return f"set ({len(self.api_key)} characters, masked)"

    @property
    def key_header(self) -> str | None:
        return {"demo": "x-cg-demo-api-key", "pro": "x-cg-pro-api-key"}.get(self.plan)


@dataclass(frozen=True)
class TrackingConfig:
    vs_currency: str
    categories: tuple[str, ...]
    benchmarks: tuple[str, ...]
    history_days: int
    repair_calls_per_run: int = 10  # history calls a run may spend re-fetching drifted nulls
    # Quotes an analysis in usd reads as usd (exchange candles in USDT, USDC, FDUSD): docs/eventstudy.md
    usd_equivalents: tuple[str, ...] = ("usdt", "usdc", "fdusd")


@dataclass(frozen=True)
class ScheduleConfig:
    job: str
    every_seconds: float | None
    cron: str | None
    jitter_seconds: float
    enabled: bool = True
    run_at_start: bool = False

    def describe(self) -> str:
        when = f"every {self.every_seconds:g}s" if self.every_seconds is not None else f"cron '{self.cron}' UTC"
        extra = ", and at start" if self.run_at_start else ""
        state = "" if self.enabled else " (disabled)"
        return f"{when}, jitter {self.jitter_seconds:g}s{extra}{state}"


@dataclass(frozen=True)
class ExchangesConfig:
    """Per-exchange REST roots from ``[exchanges.<id>] base_url``, and ``TRACKER_EXCHANGE_BASE_URL``,
    which applies to whichever exchange is in use and wins over the file."""

    base_urls: Mapping[str, str] = field(default_factory=dict)
    override: str | None = None

    def base_url(self, exchange_id: str) -> str | None:
        """The root to give ``ExchangeClient(exchange_id, base_url=...)``; None: the exchange's own hosts."""
        return self.override or self.base_urls.get(exchange_id) or None


@dataclass(frozen=True)
class ReportsConfig:
    """The daemon's live reports (jobs/reports.py): one folder per recent event under ``dir``."""

    enabled: bool = True
    dir: Path | None = None  # None: a reports/ folder beside the database (Config.reports_dir)
    recent_days: int = 7  # rebuild an event's report from this long before it to this long after its windows close


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig
    coingecko: CoinGeckoConfig
    tracking: TrackingConfig
    schedules: dict[str, ScheduleConfig]
    sources: tuple[str, ...] = ()  # the files and variables this config was built from
    exchanges: ExchangesConfig = field(default_factory=ExchangesConfig)
    reports: ReportsConfig = field(default_factory=ReportsConfig)

    @property
    def reports_dir(self) -> Path:
        """Where the live reports go: ``reports.dir``, else ``reports/`` beside the database."""
        return self.reports.dir if self.reports.dir is not None else self.database.path.parent / "reports"

    def with_database(self, path: str | Path) -> "Config":
        return replace(self, database=replace(self.database, path=Path(path)))


def _merge(base: dict, override: Mapping) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder") from None
    except PermissionError:
        raise ConfigError(f"config file {path} cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


class _Section:
    """Typed access to one TOML table, naming the full key in every error."""

    def __init__(self, data: Mapping, prefix: str, known: set[str]):
        if not isinstance(data, Mapping):
            raise ConfigError(f"[{prefix}] must be a table")
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{prefix}.{unknown[0]} is not a known setting; known: {', '.join(sorted(known))}")
        self.data, self.prefix = data, prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}.{name}"

    def string(self, name: str, default: str | None = None) -> str:
        value = self.data.get(name, default)
        if not isinstance(value, str):
            raise ConfigError(f"{self.key(name)} = {value!r} must be a string")
        return value

    def number(self, name: str, default: float, *, minimum: float, maximum: float, integer: bool = False) -> float:
        """A finite number in [minimum, maximum]; the error names the key and the range."""
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{self.key(name)} = {value!r} must be a number")
        allowed = f"{minimum:g} to {maximum:g}"
        if not math.isfinite(value):
            raise ConfigError(f"{self.key(name)} = {value!r} must be a finite number from {allowed}")
        if integer and int(value) != value:
            raise ConfigError(f"{self.key(name)} = {value!r} must be a whole number from {allowed}")
        if value < minimum:
            raise ConfigError(f"{self.key(name)} = {value!r} must be at least {minimum:g} (allowed: {allowed})")
        if value > maximum:
            raise ConfigError(f"{self.key(name)} = {value!r} must be at most {maximum:g} (allowed: {allowed})")
        return int(value) if integer else float(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.data.get(name, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.key(name)} = {value!r} must be true or false")
        return value

    def slugs(self, name: str) -> tuple[str, ...]:
        value = self.data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self.key(name)} must be a list of ids, e.g. [\"artificial-intelligence\"]")
        for item in value:
            if not _SLUG.match(item):
                raise ConfigError(f"{self.key(name)} has {item!r}; ids are lowercase letters, digits and dashes")
        return tuple(value)


def _database(data: Mapping, env: Mapping[str, str]) -> DatabaseConfig:
    s = _Section(data, "database", {"path", "snapshot_dir", "spool_dir", "lock_timeout_seconds"})
    path = env.get("TRACKER_DB") or s.string("path")
    if not path.strip():
        raise ConfigError("database.path must not be empty")
    return DatabaseConfig(
        path=Path(path).expanduser(),
        snapshot_dir=Path(s.string("snapshot_dir")).expanduser(),
        spool_dir=Path(s.string("spool_dir")).expanduser(),
        lock_timeout_seconds=s.number("lock_timeout_seconds", 10, minimum=0, maximum=3600),
    )


def _coingecko(data: Mapping, env: Mapping[str, str]) -> CoinGeckoConfig:
    s = _Section(
        data,
        "coingecko",
        {"plan", "base_url", "calls_per_minute", "timeout_seconds", "max_retries", "retry_after_cap_seconds", "api_key",
         "backoff_seconds", "backoff_max_seconds"},
    )
    plan = (env.get("COINGECKO_PLAN") or s.string("plan")).strip().lower()
    if plan not in PLANS:
        source = "COINGECKO_PLAN" if env.get("COINGECKO_PLAN") else "coingecko.plan"
        raise ConfigError(f"{source} = {plan!r} is not one of {', '.join(PLANS)}")
    base_url = (env.get("COINGECKO_BASE_URL") or s.string("base_url", "")).strip().rstrip("/")
    if base_url and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", base_url):
        raise ConfigError(f"coingecko.base_url = {mask_url(base_url)!r} must be an http(s) URL without query string "
                          "(the API key goes in COINGECKO_API_KEY, never in the URL)")
    api_key = env.get("COINGECKO_API_KEY") or s.data.get("api_key") or None
    if api_key is not None and (not isinstance(api_key, str) or any(c.isspace() for c in api_key)):
        raise ConfigError("the CoinGecko API key must be one word without spaces")
    calls = s.number("calls_per_minute", 0, minimum=0, maximum=100_000)
    return CoinGeckoConfig(
        plan=plan,
        base_url=base_url or PLAN_BASE_URLS[plan],
        calls_per_minute=calls or PLAN_CALLS_PER_MINUTE[plan],
        timeout_seconds=s.number("timeout_seconds", 20, minimum=0.1, maximum=600),
        max_retries=s.number("max_retries", 5, minimum=0, maximum=100, integer=True),
        retry_after_cap_seconds=s.number("retry_after_cap_seconds", 300, minimum=0, maximum=86400),
        backoff_seconds=s.number("backoff_seconds", 1.0, minimum=0, maximum=3600),
        backoff_max_seconds=s.number("backoff_max_seconds", 60.0, minimum=0, maximum=86400),
        api_key=api_key,
    )


def _tracking(data: Mapping) -> TrackingConfig:
    s = _Section(data, "tracking", {"vs_currency", "categories", "benchmarks", "history_days", "repair_calls_per_run",
                                    "usd_equivalents"})
    vs = s.string("vs_currency").strip().lower()
    if not re.match(r"^[a-z]{2,10}$", vs):
        raise ConfigError(f"tracking.vs_currency = {vs!r} must be a currency code such as usd")
    return TrackingConfig(
        vs_currency=vs,
        categories=s.slugs("categories"),
        benchmarks=s.slugs("benchmarks"),
        history_days=s.number("history_days", 365, minimum=1, maximum=MAX_HISTORY_DAYS, integer=True),
        repair_calls_per_run=s.number("repair_calls_per_run", 10, minimum=0, maximum=1000, integer=True),
        usd_equivalents=_usd_equivalents(s),
    )


def _usd_equivalents(s: "_Section") -> tuple[str, ...]:
    value = s.data.get("usd_equivalents", ["usdt", "usdc", "fdusd"])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{s.key('usd_equivalents')} must be a list of quote codes, e.g. [\"usdt\", \"usdc\"]")
    codes = [v.strip().lower() for v in value]
    for code in codes:
        if not re.match(r"^[a-z0-9]{2,10}$", code):
            raise ConfigError(f"{s.key('usd_equivalents')} has {code!r}; quote codes are 2-10 letters or digits, e.g. usdt")
        if code == "usd":
            raise ConfigError(f"{s.key('usd_equivalents')} lists 'usd' itself; name only the quotes read as usd, e.g. usdt")
    return tuple(dict.fromkeys(codes))


# minute, hour, day of month, month: the bounds of plain numeric cron fields.
_CRON_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12))
_CRON_PART = re.compile(r"^(\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")


def _plain_cron(expression: str) -> bool:
    """True for a crontab that is surely valid in its plain form (numbers, ``*``, ranges,
    steps, lists; any day of week ``*``): those skip importing APScheduler (a third of a
    second), so every command starts fast. Anything else is left to APScheduler to judge."""
    fields = expression.split()
    if len(fields) != 5 or fields[4] != "*":
        return False
    for field_text, (low, high) in zip(fields, _CRON_BOUNDS):
        for part in field_text.split(","):
            match = _CRON_PART.match(part)
            if not match:
                return False
            first, last, step = match.group(2), match.group(3), match.group(4)
            if first is not None and not (low <= int(first) <= (int(last) if last else high) <= high):
                return False
            if step is not None and not 0 < int(step) <= high - low:
                return False
    return True


def _check_cron(cron: str, key: str) -> None:
    if _plain_cron(cron):
        return
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(cron, timezone="UTC")
    except ValueError as exc:
        raise ConfigError(f"{key} = {cron!r} is not a valid cron expression: {exc}") from None


def _schedules(data: Mapping) -> dict[str, ScheduleConfig]:
    if not isinstance(data, Mapping):
        raise ConfigError("[schedules] must be a table of jobs")
    unknown = sorted(set(data) - set(JOBS))
    if unknown:
        raise ConfigError(f"schedules.{unknown[0]} is not a job; jobs are {', '.join(JOBS)}")
    schedules = {}
    for job in JOBS:
        s = _Section(data.get(job, {}), f"schedules.{job}", {"every", "cron", "jitter", "enabled", "run_at_start"})
        has_every, has_cron = "every" in s.data, "cron" in s.data
        if has_every == has_cron:
            raise ConfigError(f"schedules.{job} needs exactly one of `every` (e.g. \"10m\") or `cron` (five fields)")
        every = cron = None
        if has_every:
            every = parse_duration(s.data["every"], s.key("every"))
            if every <= 0:
                raise ConfigError(f"{s.key('every')} must be longer than 0s")
            if every < 1:  # a job every few milliseconds would only spin the scheduler
                raise ConfigError(f"{s.key('every')} = {s.data['every']!r} must be at least 1s")
        else:
            cron = s.string("cron")
            _check_cron(cron, s.key("cron"))
        jitter = parse_duration(s.data.get("jitter", 0), s.key("jitter"))
        if every is not None and jitter > every / 2:
            raise ConfigError(
                f"{s.key('jitter')} ({jitter:g}s) must be at most half of {s.key('every')} ({every:g}s); set a smaller jitter"
            )
        schedules[job] = ScheduleConfig(
            job=job,
            every_seconds=every,
            cron=cron,
            jitter_seconds=jitter,
            enabled=s.boolean("enabled", True),
            run_at_start=s.boolean("run_at_start", False),
        )
    return schedules


_EXCHANGE_ID = re.compile(r"^[a-z][a-z0-9]*$")
_EXCHANGE_ROOT = re.compile(r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")
EXCHANGE_ENV = "TRACKER_EXCHANGE_BASE_URL"


def _exchange_root(value: str, key: str) -> str:
    url = value.strip().rstrip("/")
    if url and not _EXCHANGE_ROOT.match(url):
        raise ConfigError(f"{key} = {mask_url(url)!r} must be an http(s) URL such as http://127.0.0.1:8080, "
                          "without credentials or query string")
    return url


def _exchanges(data: Mapping, env: Mapping[str, str]) -> ExchangesConfig:
    if not isinstance(data, Mapping):
        raise ConfigError("[exchanges] must be a table of exchanges, e.g. [exchanges.binance]")
    base_urls = {}
    for exchange_id, table in data.items():
        if not _EXCHANGE_ID.match(exchange_id):
            raise ConfigError(f"exchanges.{exchange_id} is not an exchange id; ids are lowercase ccxt ids such as binance or okx")
        s = _Section(table, f"exchanges.{exchange_id}", {"base_url"})
        url = _exchange_root(s.string("base_url", ""), s.key("base_url"))
        if url:
            base_urls[exchange_id] = url
    override = _exchange_root(env.get(EXCHANGE_ENV) or "", EXCHANGE_ENV) or None
    return ExchangesConfig(base_urls=base_urls, override=override)


def _reports(data: Mapping) -> ReportsConfig:
    s = _Section(data, "reports", {"enabled", "dir", "recent_days"})
    folder = s.string("dir", "") if "dir" in s.data else None
    if folder is not None and not folder.strip():
        raise ConfigError("reports.dir must not be empty (set reports.enabled = false to turn live reports off)")
    return ReportsConfig(
        enabled=s.boolean("enabled", True),
        dir=Path(folder).expanduser() if folder is not None else None,
        recent_days=s.number("recent_days", 7, minimum=0, maximum=366, integer=True),
    )


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration.

    Order: packaged ``config/tracker.toml``; then ``path``, else ``$TRACKER_CONFIG``, else
    ``./tracker.toml`` when it exists; then the environment variables.
    """
    env = os.environ if env is None else env
    defaults_path = config_dir() / "tracker.toml"
    data = _read_toml(defaults_path)
    sources = [str(defaults_path)]
    user_path = path or env.get("TRACKER_CONFIG") or ("tracker.toml" if Path("tracker.toml").is_file() else None)
    if user_path:
        user = _read_toml(Path(user_path).expanduser())
        # A job given `every` in the user's file replaces the default `cron`, and vice versa.
        for job, table in (user.get("schedules") or {}).items():
            default = data.get("schedules", {}).get(job)
            if isinstance(table, Mapping) and isinstance(default, dict) and ({"every", "cron"} & set(table)):
                data["schedules"][job] = {k: v for k, v in default.items() if k not in ("every", "cron")}
        data = _merge(data, user)
        sources.append(str(user_path))
    sources += [name for name in ("TRACKER_DB", "COINGECKO_API_KEY", "COINGECKO_PLAN", "COINGECKO_BASE_URL", EXCHANGE_ENV) if env.get(name)]
    unknown = sorted(set(data) - {"database", "coingecko", "tracking", "schedules", "exchanges", "reports"})
    if unknown:
        raise ConfigError(f"[{unknown[0]}] is not a known config section; known: coingecko, database, exchanges, reports, schedules, tracking")
    return Config(
        database=_database(data.get("database", {}), env),
        coingecko=_coingecko(data.get("coingecko", {}), env),
        tracking=_tracking(data.get("tracking", {})),
        schedules=_schedules(data.get("schedules", {})),
        sources=tuple(sources),
        exchanges=_exchanges(data.get("exchanges", {}), env),
        reports=_reports(data.get("reports", {})),
    )
