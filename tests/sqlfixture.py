"""A small, deterministic database for the SQL views and the docs/sql.md cookbook.

Everything in it is synthetic (seeded random walks), shaped like the real thing:

* daily CoinGecko-style history 2023-10-01..2024-04-30 for six AI tokens plus bitcoin and
  ethereum (each day's close is the 00:00:00 point of the next day, as CoinGecko stamps it),
  with an injected rally after the Sora demo (2024-02-15);
* holes on purpose: fetch-ai has no points for 2024-01-08..2024-01-10; render-token's CoinGecko
  series misses 2024-03-01..03-03, which a CSV import fills; bittensor only has CSV history
  (no market caps) from 2024-02-19;
* hourly history 2024-02-14..2024-02-17 for bitcoin, fetch-ai and worldcoin-wld, stamped at
  HH:00:07 (jitter) and consistent with the daily closes; worldcoin-wld misses one hour;
* point-in-time membership of 'artificial-intelligence': worldcoin-wld joins 2024-01-15 12:00,
  bittensor joins 2024-02-20, ocean-protocol leaves 2024-03-28;
* category snapshots through February 2024 (one with a NULL market cap), market snapshots on
  2024-04-30 and 2024-05-01, and the packaged events calendar (`tracker.analysis.events.seed_events`).

Run ``python -m tests.sqlfixture --update-docs`` from the project root to rewrite the outputs
shown in docs/sql.md after changing a view or a cookbook query; tests/test_sql_docs.py fails
while the doc and the real outputs differ.
"""
from __future__ import annotations

import argparse
import atexit
import shutil
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

import storage
from tracker.analysis.events import seed_events

FIRST_DAY = datetime(2023, 10, 1)
LAST_DAY = datetime(2024, 4, 30)
INGESTED_AT = datetime(2024, 5, 1, 7, 0)
SORA_DAY = datetime(2024, 2, 15)
AI = "artificial-intelligence"

# coin id, symbol, name, first price, daily volatility, circulating supply,
# extra daily log drift on 2024-02-15..2024-02-21 (the Sora rally)
COINS = [
    ("bitcoin", "btc", "Bitcoin", 27000.0, 0.022, 19.5e6, 0.012),
    ("ethereum", "eth", "Ethereum", 1670.0, 0.026, 120.2e6, 0.010),
    ("fetch-ai", "fet", "Fetch.ai", 0.22, 0.045, 8.4e8, 0.055),
    ("render-token", "rndr", "Render", 1.55, 0.045, 3.75e8, 0.045),
    ("singularitynet", "agix", "SingularityNET", 0.17, 0.045, 1.25e9, 0.050),
    ("ocean-protocol", "ocean", "Ocean Protocol", 0.30, 0.045, 5.7e8, 0.030),
    ("worldcoin-wld", "wld", "Worldcoin", 1.60, 0.055, 1.3e8, 0.140),
    ("bittensor", "tao", "Bittensor", 240.0, 0.045, 6.3e6, 0.0),
]
MEMBERSHIP = [
    # category, coin, valid_from, valid_to
    (AI, "fetch-ai", datetime(2023, 6, 1), None),
    (AI, "render-token", datetime(2023, 6, 1), None),
    (AI, "singularitynet", datetime(2023, 6, 1), None),
    (AI, "ocean-protocol", datetime(2023, 6, 1), datetime(2024, 3, 28)),
    (AI, "worldcoin-wld", datetime(2024, 1, 15, 12), None),
    (AI, "bittensor", datetime(2024, 2, 20), None),
    ("layer-1", "bitcoin", datetime(2023, 6, 1), None),
    ("layer-1", "ethereum", datetime(2023, 6, 1), None),
]
FET_HOLE = (datetime(2024, 1, 8), datetime(2024, 1, 10))
RNDR_COINGECKO_HOLE = (datetime(2024, 3, 1), datetime(2024, 3, 3))
TAO_FIRST_DAY = datetime(2024, 2, 19)
HOURLY_COINS = ("bitcoin", "fetch-ai", "worldcoin-wld")
HOURLY_FIRST, HOURLY_LAST = datetime(2024, 2, 14), datetime(2024, 2, 17)
WLD_MISSING_HOUR_STAMP = datetime(2024, 2, 16, 5, 0, 7)  # the close of 04:00-05:00
SORA_HOUR = 18


def _days(first: datetime, last: datetime) -> list[datetime]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _daily_paths() -> dict[str, pd.Series]:
    """Close per coin per day, indexed by the day (the close is stamped at the next midnight)."""
    rng = np.random.default_rng(20240215)
    days = _days(FIRST_DAY, LAST_DAY)
    rally = np.array([SORA_DAY <= d <= SORA_DAY + timedelta(days=6) for d in days])
    paths = {}
    for coin_id, _, _, first_price, vol, _, drift in COINS:
        steps = rng.normal(0.0005, vol, len(days)) + np.where(rally, drift, 0.0)
        steps[0] = 0.0
        # Rounded to 8 significant digits, as a price feed would print them.
        prices = [float(f"{p:.8g}") for p in first_price * np.exp(np.cumsum(steps))]
        paths[coin_id] = pd.Series(prices, index=pd.DatetimeIndex(days))
    return paths


def _in(day: datetime, span: tuple[datetime, datetime]) -> bool:
    return span[0] <= day <= span[1]


def _history_rows(paths: dict[str, pd.Series]) -> pd.DataFrame:
    supply = {c[0]: c[5] for c in COINS}
    rows = []
    for coin_id, series in paths.items():
        for day, price in series.items():
            day = day.to_pydatetime()
            stamp = day + timedelta(days=1)  # CoinGecko's daily point at 00:00 closes the day before
            cap = round(price * supply[coin_id], 0)
            volume = round(cap * 0.04, 0)
            if coin_id == "bittensor":
                if day >= TAO_FIRST_DAY:  # a CSV import: prices only, no caps
                    rows.append((coin_id, stamp, price, None, None, "daily", "csv:hyperliquid_tao.csv"))
                continue
            if coin_id == "fetch-ai" and _in(day, FET_HOLE):
                continue
            if coin_id == "render-token":
                if _in(day, (datetime(2024, 2, 1), RNDR_COINGECKO_HOLE[1])):
                    # A second source for the same days: CoinGecko wins wherever it has a point.
                    rows.append((coin_id, stamp, round(price * 1.003, 6), None, None, "daily", "csv:binance_rndr.csv"))
                if _in(day, RNDR_COINGECKO_HOLE):
                    continue
            rows.append((coin_id, stamp, price, cap, volume, "daily", "coingecko"))
    frame = pd.DataFrame(rows, columns=["coin_id", "ts", "price", "market_cap", "total_volume", "granularity", "source"])
    return frame


def _hourly_rows(paths: dict[str, pd.Series]) -> pd.DataFrame:
    """Hourly points that pass through the daily closes (a seeded Brownian bridge per day)."""
    rng = np.random.default_rng(7)
    supply = {c[0]: c[5] for c in COINS}
    rows = []
    for coin_id in HOURLY_COINS:
        series = paths[coin_id]
        for day in _days(HOURLY_FIRST, HOURLY_LAST):
            start = np.log(series[day - timedelta(days=1)])
            end = np.log(series[day])
            hours = np.arange(1, 25)
            if day == SORA_DAY:
                # Flat until the 18:00 announcement, then the day's move.
                weight = np.clip((hours - SORA_HOUR) / (24 - SORA_HOUR), 0, 1)
            else:
                weight = hours / 24
            noise = np.cumsum(rng.normal(0, 0.004, 24))
            bridge = noise - weight * noise[-1]
            log_prices = start + weight * (end - start) + bridge
            for hour, log_price in zip(hours, log_prices):
                stamp = day + timedelta(hours=int(hour), seconds=7)
                if coin_id == "worldcoin-wld" and stamp == WLD_MISSING_HOUR_STAMP:
                    continue
                price = float(series[day]) if hour == 24 else float(f"{np.exp(log_price):.8g}")
                cap = round(price * supply[coin_id], 0)
                rows.append((coin_id, stamp, price, cap, round(cap * 0.002, 0), "hourly", "coingecko"))
    return pd.DataFrame(rows, columns=["coin_id", "ts", "price", "market_cap", "total_volume", "granularity", "source"])


def _market_snapshots(paths: dict[str, pd.Series]) -> pd.DataFrame:
    rows = []
    for observed_at, drift in ((datetime(2024, 4, 30, 12), 0.99), (datetime(2024, 5, 1, 6), 1.01)):
        caps = []
        for coin_id, _, _, _, _, supply, _ in COINS:
            price = round(float(paths[coin_id].iloc[-1]) * drift, 6)
            caps.append((coin_id, price, round(price * supply, 0)))
        ranked = sorted(caps, key=lambda c: -c[2])
        for rank, (coin_id, price, cap) in enumerate(ranked, start=1):
            supply = next(c[5] for c in COINS if c[0] == coin_id)
            rows.append({
                "coin_id": coin_id, "vs_currency": "usd", "observed_at": observed_at, "price": price,
                "market_cap": cap, "total_volume": round(cap * 0.05, 0), "market_cap_rank": rank,
                "circulating_supply": supply, "price_change_pct_24h": round((drift - 1) * 100, 2),
                "source_updated_at": observed_at - timedelta(minutes=1), "source": "coingecko",
            })
    return pd.DataFrame(rows)


def _category_snapshots(paths: dict[str, pd.Series]) -> pd.DataFrame:
    """CoinGecko's whole-category figure: about 12x the tracked members, through February 2024."""
    supply = {c[0]: c[5] for c in COINS}
    members = ["fetch-ai", "render-token", "singularitynet", "ocean-protocol", "worldcoin-wld"]
    rows = []
    for day in _days(datetime(2024, 2, 1), datetime(2024, 2, 29)):
        base = sum(float(paths[c][day]) * supply[c] for c in members)
        for hour, factor in ((12, 11.9), (23, 12.1)):
            observed_at = day + timedelta(hours=hour, minutes=50 if hour == 23 else 0)
            cap = round(base * factor, -6)
            if day == datetime(2024, 2, 10) and hour == 23:
                cap = None  # CoinGecko sometimes reports no figure
            rows.append({
                "category_id": AI, "observed_at": observed_at, "market_cap": cap,
                "volume_24h": None if cap is None else round(cap * 0.08, -6),
                "market_cap_change_24h_pct": None, "top_3_coins": ["render-token", "fetch-ai", "worldcoin-wld"],
                "source_updated_at": observed_at - timedelta(minutes=3), "source": "coingecko",
            })
    return pd.DataFrame(rows)


_TEMPLATE: list[Path] = []  # this process's one built copy, which build_fixture copies


def build_fixture(path: str | Path) -> storage.Database:
    """Create the cookbook database at ``path`` (which must not exist yet) and return it.

    The database is built once per test process (a few seconds) and copied after that: every
    caller gets its own file, identical to a fresh build, which it may change freely.
    """
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} exists; the fixture builder only creates new files")
    if not _TEMPLATE or not _TEMPLATE[0].is_file():
        folder = Path(tempfile.mkdtemp(prefix="sqlfixture-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        _build(folder / "fixture.duckdb")
        _TEMPLATE[:] = [folder / "fixture.duckdb"]
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_TEMPLATE[0], path)
    return storage.open_database(path)


def _build(path: Path) -> storage.Database:
    db = storage.open_database(path, create=True)
    paths = _daily_paths()
    history = pd.concat([_history_rows(paths), _hourly_rows(paths)], ignore_index=True)
    history.insert(1, "vs_currency", "usd")
    history["is_partial"] = False
    history["ingested_at"] = INGESTED_AT
    with db.transaction() as con:
        storage.upsert(con, "coins", pd.DataFrame(
            [{"coin_id": c[0], "symbol": c[1], "name": c[2], "active": True, "updated_at": INGESTED_AT} for c in COINS]))
        storage.upsert(con, "categories", pd.DataFrame([
            {"category_id": AI, "name": "Artificial Intelligence (AI)", "updated_at": INGESTED_AT},
            {"category_id": "layer-1", "name": "Layer 1 (L1)", "updated_at": INGESTED_AT},
        ]))
        storage.upsert(con, "category_members", pd.DataFrame(
            [{"category_id": c, "coin_id": coin, "valid_from": start, "valid_to": end, "source": "coingecko"}
             for c, coin, start, end in MEMBERSHIP]))
        storage.upsert(con, "price_history", history)
        storage.upsert(con, "market_snapshots", _market_snapshots(paths))
        storage.upsert(con, "category_snapshots", _category_snapshots(paths))
    seed_events(db)
    return db


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-docs", action="store_true", help="rewrite the outputs shown in docs/sql.md")
    parser.add_argument("--build", metavar="PATH", help="only build the fixture database at PATH")
    args = parser.parse_args(argv)
    if args.build:
        build_fixture(args.build)
        print(f"built {args.build}")
        return 0
    if args.update_docs:
        from tests.sqlcookbook import update_docs

        changed = update_docs()
        print(f"docs/sql.md: {changed} output block(s) rewritten")
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
