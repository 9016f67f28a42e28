"""The report's correlation section: did the event change how the tokens move with the market
and with each other? Everything is computed by :mod:`tracker.analysis.correlation`.

For each event: log returns of the sample and the benchmarks over ``n`` periods before and
``n`` periods from the event's period, the correlation of each token with each benchmark in
both windows and Fisher's z test of the change (``change_table``), and the same for every
pair of tokens, summarised as the mean correlation before and after.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from storage import Database

from ..analysis import panels
from ..analysis.correlation.correlation_charts import change_chart
from ..analysis.correlation.service import Selection, change_range, change_table, load_panel
from ..analysis.events import Event
from ..analysis.source_choice import SourcePolicy
from ..errors import TrackerError

DEFAULT_BENCHMARKS = ("bitcoin", "ethereum")
ALPHA = 0.05
CHART_ROWS = 40


@dataclass
class CorrelationOutcome:
    event_id: str
    pairs: pd.DataFrame | None = None           # token x benchmark rows of change_table
    summary: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    figure: object | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.pairs is not None


def _with_prices(db: Database, coins: Sequence[str], start, end, hourly: bool, policy: SourcePolicy | None = None) -> list[str]:
    """The coins that have at least one close in [start, end]."""
    if not coins:
        return []
    closes = (panels.hourly_closes(db, list(coins), start, end, policy=policy) if hourly
              else panels.daily_closes(db, list(coins), start, end, policy=policy))
    return [c for c in coins if c in closes.columns and closes[c].notna().any()]


def token_pairs_summary(frame: pd.DataFrame) -> dict:
    """Mean pre and post correlation over token pairs, and how many changed significantly."""
    both = frame.dropna(subset=["r_pre", "r_post"])
    significant = both[both["p_adj"] < ALPHA]
    return {
        "pairs": int(len(frame)),
        "pairs_with_both_windows": int(len(both)),
        "mean_r_pre": float(both["r_pre"].mean()) if len(both) else np.nan,
        "mean_r_post": float(both["r_post"].mean()) if len(both) else np.nan,
        "mean_delta": float(both["delta"].mean()) if len(both) else np.nan,
        "significant_rises": int((significant["delta"] > 0).sum()),
        "significant_falls": int((significant["delta"] < 0).sum()),
    }


def correlation_context(
    db: Database, event: Event, tokens: Sequence[str], benchmark: str, *, periods: int, hourly: bool,
    policy: SourcePolicy | None = None,
) -> CorrelationOutcome:
    """Pre- against post-event correlations around ``event``; an outcome with ``error`` when the
    data cannot support the comparison (the reason is shown in the report)."""
    step = pd.Timedelta(hours=1) if hourly else pd.Timedelta(days=1)
    start, end = change_range(event.ts, periods, periods, 0, step)
    candidates = list(dict.fromkeys(([benchmark] if benchmark != "index" else []) + list(DEFAULT_BENCHMARKS)))
    benchmarks = _with_prices(db, candidates, start - step, end, hourly, policy)
    series = [t for t in _with_prices(db, [t for t in tokens if t not in benchmarks], start - step, end, hourly, policy)]
    settings = {
        "method": "pearson",
        "returns": "log",
        "frequency": "hourly" if hourly else "daily",
        "pre_periods": periods,
        "post_periods": periods,
        "pre_start": start,
        "post_end": end,
        "benchmarks": benchmarks,
        "tokens": series,
        "test": "Fisher z of the change, windows treated as independent; p_adj = Benjamini-Hochberg",
        "alpha": ALPHA,
    }
    if not benchmarks or not series:
        missing = "benchmark (bitcoin, ethereum)" if not benchmarks else "token"
        return CorrelationOutcome(event.event_id, settings=settings, error=f"no {missing} has prices between {start:%Y-%m-%d} and {end:%Y-%m-%d}")
    try:
        panel = load_panel(db, Selection(tokens=series, benchmarks=benchmarks, start=start, end=end, hourly=hourly, kind="log",
                                         sources=policy))
        change = change_table(panel, event.ts, periods, periods, pairing="benchmarks")
        summary = token_pairs_summary(change_table(panel, event.ts, periods, periods, pairing="tokens").frame) if len(series) > 1 else {}
    except TrackerError as exc:
        return CorrelationOutcome(event.event_id, settings=settings, error=str(exc))
    pairs = change.frame
    settings.update({k: change.settings[k] for k in ("event_period", "pre_start", "pre_end", "post_start", "post_end") if k in change.settings})
    # Past about 40 rows the chart stops being readable (and costs a second to draw): then it
    # shows the pairs with the first benchmark only; the table keeps every pair.
    shown = benchmarks if len(pairs) <= CHART_ROWS else benchmarks[:1]
    figure = change_chart(pairs[pairs["y"].isin(shown)],
                          title=f"Correlation with {', '.join(shown)}: {periods} {'hours' if hourly else 'days'} before vs after {event.event_id}")
    return CorrelationOutcome(event.event_id, pairs.reset_index(drop=True), summary, settings, figure)
