"""`tracker demo`: a newcomer's offline tour, in its own folder, on SIMULATED DATA.

1. start the fake CoinGecko server of :mod:`tracker.sources.fakegecko` in this process, its data
   clock frozen at 2024-04-30 12:00 UTC (two and a half months after the Sora demo);
2. write a config for the demo folder that points the client at it, create a fresh database
   and seed the events calendar;
3. run the daemon's jobs once, in its order (categories, markets, members, history), through
   ``run_jobs`` (the CLI passes :func:`jobs.run_jobs_once`), each run recorded in ``ingest_runs``;
4. run a few cookbook queries (docs/sql.md) on the result;
5. write an event-study report of the Sora demo and Nvidia's results six days later.

Everything is labelled SIMULATED DATA: the report (banner, Markdown, ``simulated`` in the
JSON) and the CLI output. The fake server's market is calibrated to the real one
(``tracker/sources/fakegecko/calibration.toml``: real closes and market caps on 2024-02-14,
betas to BTC, volatilities, a common AI factor, fat tails, listing dates) and has a Sora-like
rally over days 0 to +5 built in, so the tour looks like crypto; it is still a seeded
simulation, not a finding.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import pandas as pd

import storage

from ..analysis import panels
from ..analysis.events import seed_events
from ..config import Config, load_config
from ..errors import TrackerError
from ..ingest import JOB_ORDER
from ..sources.fakegecko import FakeGecko
from . import ReportData, ReportOptions, build_report, check_report_dir, write_report

DEMO_NOW = datetime(2024, 4, 30, 12, 0)
DEMO_SEED = 7  # the fake market's seed: the tour's numbers are the same on every run
DEMO_AI_COINS, DEMO_OTHER_COINS = 20, 8
DEMO_EVENTS = ("sora-demo", "nvidia-earnings-2024-02")
CATEGORY = "artificial-intelligence"
SIMULATED = "SIMULATED DATA"
NOTICE = (f"{SIMULATED}: every price in this tour comes from a fake CoinGecko server on this machine "
          "(a seeded simulation calibrated to real 2024 prices); no number describes a real market.")

# Cookbook queries (docs/sql.md), adapted to a database whose history starts with this run.
QUERIES = storage.DEMO_QUERIES


@dataclass
class DemoResult:
    """Where the tour put everything, and what it found."""

    folder: Path
    config_path: Path
    database: Path
    report_dir: Path
    server_url: str
    runs: pd.DataFrame
    queries: list[tuple[str, str, pd.DataFrame]]
    report: ReportData
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def _config_text(folder: Path, base_url: str) -> str:
    return f"""# {NOTICE}
# Written by `tracker demo`. The server it names only ran during the demo; the database stays.
# Query it with: tracker --config {folder / 'tracker.toml'} sql "select * from coin_latest"

[database]
path = "{(folder / 'data' / 'tracker.duckdb').as_posix()}"
snapshot_dir = "{(folder / 'data' / 'snapshot').as_posix()}"
spool_dir = "{(folder / 'data' / 'spool').as_posix()}"

[coingecko]
plan = "keyless"
base_url = "{base_url}"
# The fake server has no rate limit; CoinGecko's keyless budget would make the tour take minutes.
calls_per_minute = 6000
max_retries = 2

[tracking]
vs_currency = "usd"
categories = ["{CATEGORY}"]
benchmarks = ["bitcoin", "ethereum"]
history_days = 365
"""


def _fresh(folder: Path) -> None:
    """With --overwrite, the earlier demo's database goes: the tour always starts empty."""
    for name in ("tracker.duckdb", "tracker.duckdb.wal"):
        (folder / "data" / name).unlink(missing_ok=True)


RunJobs = Callable[[Config, Callable[[], datetime]], object]


def run_demo(
    folder: str | Path,
    *,
    run_jobs: RunJobs,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
    ai_coins: int = DEMO_AI_COINS,
    other_coins: int = DEMO_OTHER_COINS,
) -> DemoResult:
    """Run the tour into ``folder`` (created; must be empty unless ``overwrite``).

    ``run_jobs(config, clock)`` runs the ingestion jobs once against the configured server with
    the data clock frozen by ``clock`` (the daemon's runner; this layer cannot import it).

    Raises
    ------
    TrackerError
        The folder cannot be used, or an ingestion job failed.
    """
    say = progress or (lambda text: None)
    started = time.perf_counter()
    folder = check_report_dir(folder, overwrite=overwrite).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    _fresh(folder)
    config_path = folder / "tracker.toml"
    with FakeGecko(now=DEMO_NOW, seed=DEMO_SEED, ai_coins=ai_coins, other_coins=other_coins) as fake:
        say(f"started the fake CoinGecko server at {fake.base_url} (its clock frozen at {DEMO_NOW:%Y-%m-%d %H:%M} UTC)")
        config_path.write_text(_config_text(folder, fake.base_url))
        # The user's own environment (a real key, another plan or server) must not leak in.
        config: Config = load_config(config_path, env={})
        db = storage.open_database(config.database.path, create=True)
        seed_events(db)
        say(f"running the daemon's jobs once ({', '.join(JOB_ORDER)}) into {config.database.path}")
        run_jobs(config, lambda: DEMO_NOW)
        server_url = fake.base_url
    runs = storage.run_durations(db)
    failed = runs[runs["status"] == "failed"]
    if not failed.empty:
        raise TrackerError(f"demo: the {failed['job'].iloc[0]} job failed against the fake server: {failed['error'].iloc[0]}")

    say("running cookbook queries")
    queries = [(title, sql, storage.run_user_sql(db, sql)) for title, sql in QUERIES]
    members = panels.category_members_at(db, CATEGORY, DEMO_NOW)
    if not members:
        raise TrackerError(f"demo: the fake server's {CATEGORY} category has no members")
    options = ReportOptions(
        events=DEMO_EVENTS,
        tokens=tuple(members),
        simulated=True,
        title=f"Event study of the Sora demo and Nvidia's results on {len(members)} simulated AI tokens",
        command=f"tracker --config {config_path} report event-study --event {' --event '.join(DEMO_EVENTS)} "
                f"--tokens {','.join(members)}",
    )
    report = build_report(db, config, options, progress=say)
    report_dir = folder / "report"
    say(f"writing the report to {report_dir}")
    files = write_report(report, report_dir, overwrite=True)
    return DemoResult(folder, config_path, Path(config.database.path), report_dir, server_url, runs, queries, report,
                      files, time.perf_counter() - started)
