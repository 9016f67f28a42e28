"""Report generation benchmark: one event, 50 tokens, from a database to a written folder.

Run from the project root::

    python bench/bench_report.py            # a few seconds for the report, then the baseline

A temporary database holds 400 days of synthetic daily CoinGecko-style closes (and market
caps) for 50 AI tokens, bitcoin and ethereum, with a common factor and a rally after the Sora
demo (2024-02-15), and the packaged events calendar.

* Report: ``build_report`` + ``write_report`` for ``--event sora-demo`` and the 50 tokens:
  per-event study with the full test battery, raw moves, correlation before and after against
  BTC and ETH and among all 1,225 token pairs, GPU context with its sensitivity tornado,
  provenance, six SVG charts, index.html, report.md, report.json and 17 CSV tables.
* Naive baseline: what a notebook does: one SQL query per token, a statsmodels OLS per token
  on the estimation window, ARs, CARs and a t statistic per token, one PNG chart per token
  (its cumulative AR) and one for the CAAR, base64-embedded in an HTML page built by string
  concatenation. It computes much less than the report (no battery, moves, correlation or
  GPU context), so the ratio understates the gap.

The baseline's CARs are checked against the report's (they must agree to 1e-9).
"""
from __future__ import annotations

import argparse
import base64
import io
import platform
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

import storage
from tracker.analysis.events import seed_events
from tracker.analysis.plotting import new_figure
from tracker.config import load_config
from tracker.report import ReportOptions, build_report, write_report

EVENT_DAY = datetime(2024, 2, 15)
FIRST_DAY = EVENT_DAY - timedelta(days=300)
DAYS = 400
ESTIMATION = (-130, -11)
WINDOW = (0, 5)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def make_database(path: Path, tokens: int, seed: int = 9) -> tuple[storage.Database, list[str]]:
    """Synthetic daily closes stamped as CoinGecko stamps them (00:00 of the next day)."""
    rng = np.random.default_rng(seed)
    days = [FIRST_DAY + timedelta(days=i) for i in range(DAYS)]
    market = rng.normal(0.0005, 0.025, DAYS)
    rally = np.array([EVENT_DAY <= d <= EVENT_DAY + timedelta(days=5) for d in days])
    coins = [f"ai-token-{i:03d}" for i in range(tokens)]
    rows = []
    for coin, beta in zip(["bitcoin", "ethereum"], [1.0, 1.1]):
        rows.append((coin, beta * market + rng.normal(0, 0.005, DAYS), 30000.0 if coin == "bitcoin" else 2000.0))
    for coin in coins:
        beta = rng.uniform(0.6, 1.6)
        steps = beta * market + rng.normal(0, 0.05, DAYS) + np.where(rally, rng.uniform(0.0, 0.06), 0.0)
        rows.append((coin, steps, rng.uniform(0.05, 50.0)))
    history = []
    for coin, steps, first in rows:
        prices = first * np.exp(np.cumsum(steps))
        frame = pd.DataFrame({
            "coin_id": coin, "vs_currency": "usd", "ts": [d + timedelta(days=1) for d in days], "price": prices,
            "market_cap": prices * 1e8, "total_volume": prices * 4e6, "granularity": "daily", "is_partial": False,
            "source": "coingecko", "ingested_at": datetime(2024, 6, 1),
        })
        history.append(frame)
    db = storage.open_database(path, create=True)
    with db.transaction() as con:
        storage.upsert(con, "coins", pd.DataFrame({"coin_id": [r[0] for r in rows], "symbol": [r[0][:6] for r in rows],
                                                   "name": [r[0] for r in rows], "active": True, "updated_at": datetime(2024, 6, 1)}))
        storage.upsert(con, "price_history", pd.concat(history, ignore_index=True))
    seed_events(db)
    return db, coins


def run_report(db, coins: list[str], folder: Path) -> tuple[float, dict, int]:
    start = time.perf_counter()
    options = ReportOptions(events=("sora-demo",), tokens=tuple(coins))
    report = build_report(db, load_config(None), options)
    files = write_report(report, folder)
    elapsed = time.perf_counter() - start
    study = report.doc["studies"][0]
    cars = {r["security"]: r["car"] for r in study["car"] if r["window"] == f"[{WINDOW[0]}, {WINDOW[1]}]"}
    return elapsed, cars, len(files)


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def run_naive(db, coins: list[str], folder: Path) -> tuple[float, dict]:
    import statsmodels.api as sm

    start = time.perf_counter()
    day0 = pd.Timestamp(EVENT_DAY)
    first = day0 + pd.Timedelta(days=ESTIMATION[0] - 1)
    last = day0 + pd.Timedelta(days=WINDOW[1])
    sql = "SELECT day, close FROM daily_prices WHERE coin_id = ? AND day BETWEEN ? AND ? ORDER BY day"
    bench = storage.query(db, sql, ["bitcoin", first.to_pydatetime(), last.to_pydatetime()]).set_index("day")["close"]
    market = bench.pct_change()
    market.index = pd.DatetimeIndex(market.index)
    cars, pieces, paths = {}, [], []
    for coin in coins:
        prices = storage.query(db, sql, [coin, first.to_pydatetime(), last.to_pydatetime()]).set_index("day")["close"]
        returns = prices.pct_change()
        returns.index = pd.DatetimeIndex(returns.index)
        relative = (returns.index - day0).days
        est = (relative >= ESTIMATION[0]) & (relative <= ESTIMATION[1])
        evt = (relative >= WINDOW[0]) & (relative <= WINDOW[1])
        fit = sm.OLS(returns[est].to_numpy(), sm.add_constant(market[est].to_numpy())).fit()
        ar = returns[evt].to_numpy() - fit.predict(sm.add_constant(market[evt].to_numpy(), has_constant="add"))
        car = float(ar.sum())
        t = car / (np.sqrt(fit.scale) * np.sqrt(len(ar)))
        cars[coin] = car
        paths.append(np.cumsum(ar))
        fig, ax = new_figure()
        ax.plot(np.arange(WINDOW[0], WINDOW[1] + 1), np.cumsum(ar) * 100, marker="o")
        ax.set_title(f"{coin}: CAR {car:.2%} (t = {t:.2f})")
        image = _png(fig)
        (folder / f"{coin}.png").write_bytes(base64.b64decode(image))
        pieces.append(f"<h2>{coin}</h2><p>CAR {car:.4%}, t {t:.3f}</p><img src='data:image/png;base64,{image}'>")
    fig, ax = new_figure()
    ax.plot(np.arange(WINDOW[0], WINDOW[1] + 1), np.mean(paths, axis=0) * 100, marker="o")
    ax.set_title("CAAR")
    caar = _png(fig)
    page = f"<html><body><h1>Naive report</h1><img src='data:image/png;base64,{caar}'>{''.join(pieces)}</body></html>"
    (folder / "index.html").write_text(page)
    return time.perf_counter() - start, cars


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=50, help="tokens in the sample (default 50)")
    parser.add_argument("--repeat", type=int, default=2, help="report runs; the best is kept (default 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        root = Path(tmp)
        log(f"building a database of {args.tokens} tokens x {DAYS} days ...")
        db, coins = make_database(root / "bench.duckdb", args.tokens)
        times = []
        for run in range(args.repeat):
            log(f"report run {run + 1} of {args.repeat} ...")
            elapsed, cars, files = run_report(db, coins, root / f"report-{run}")
            times.append(elapsed)
        log("naive baseline ...")
        (root / "naive").mkdir()
        naive, naive_cars = run_naive(db, coins, root / "naive")
        worst = max(abs(cars[c] - naive_cars[c]) for c in coins)
        if worst > 1e-9:
            raise SystemExit(f"the baseline disagrees with the report: largest CAR difference {worst:.3g}")
        best = min(times)
        print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
        print(f"report, 1 event x {args.tokens} tokens (everything, {files} files): best {best:.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")
        print(f"naive baseline (per-token SQL + statsmodels + PNG per chart, CARs only): {naive:.2f} s")
        print(f"CARs agree to {worst:.1e}; report is {naive / best:.1f}x faster than the naive baseline while computing far more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
