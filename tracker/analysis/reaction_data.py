"""Minute closes around an event from the database, for :func:`tracker.analysis.reaction.minute_reaction`.

Minute candles (``granularity = 'minute'``, from ``tracker ingest candles --interval 1m`` or
``--around-events``) are read for [announcement - pre - 15 min, announcement + post]. Each coin's
minutes come from one source and quote, picked as for every analysis (``source_choice``: the
policy's ``--source``, else the most minutes, then the fixed order).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

import storage
from storage import Database

from . import panels
from .events import Event
from .reaction import MINUTE, ReactionResults, minute_reaction
from .source_choice import SourcePolicy, choose

TOLERANCE = 15  # minutes before the window a base close may come from


def minute_closes(db: Database, coins: Sequence[str], start, end, policy: SourcePolicy | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(wide minute closes indexed by close instant, one column per coin that has any; the
    chosen source per coin as ``source_choice.choose`` gives it)."""
    policy = policy or SourcePolicy()
    quotes = policy.quotes(panels.quote_currency(db, None, policy))
    rows = storage.minute_prices(db, list(coins), quotes, pd.Timestamp(start).to_pydatetime(),
                                 pd.Timestamp(end).to_pydatetime())
    if rows.empty:
        return pd.DataFrame(dtype=float), choose(pd.DataFrame(columns=["coin_id", "source", "vs_currency", "closes",
                                                                        "snapshots_only"]), policy, quotes)
    coverage = (rows.groupby(["coin_id", "source", "vs_currency"], as_index=False)
                .agg(closes=("price", "size"), first_close=("ts", "min"), last_close=("ts", "max")))
    coverage["snapshots_only"] = False
    chosen = choose(coverage, policy, quotes)
    picked = rows.merge(chosen[["coin_id", "source", "vs_currency"]], on=["coin_id", "source", "vs_currency"])
    wide = picked.pivot_table(index="ts", columns="coin_id", values="price", aggfunc="last").sort_index()
    wide.index = pd.DatetimeIndex(wide.index)
    wide.columns.name = None
    return wide.astype(float), chosen


def load_reaction(db: Database, event: Event, tokens: Sequence[str], benchmark: str = "bitcoin", *,
                  policy: SourcePolicy | None = None, pre: int = 60, post: int = 1440
                  ) -> tuple[ReactionResults | None, pd.DataFrame]:
    """The minute reaction to ``event`` of ``tokens`` against ``benchmark`` (a coin id), and the
    chosen source per coin; (None, ...) when the database has no minute candles of the benchmark
    and at least one token in the window."""
    t0 = pd.Timestamp(event.ts).floor(MINUTE)
    start, end = t0 - (pre + TOLERANCE) * MINUTE, t0 + post * MINUTE
    wide, chosen = minute_closes(db, list(dict.fromkeys([*tokens, benchmark])), start, end, policy)
    present = [t for t in tokens if t in wide.columns and t != benchmark]
    if benchmark not in wide.columns or not present:
        return None, chosen
    results = minute_reaction(wide[present], wide[benchmark].rename(benchmark), t0, present, event_id=event.event_id,
                              time_known=event.time_known, benchmark_name=benchmark, pre=pre, post=post,
                              base_tolerance=TOLERANCE)
    return results, chosen


def speed_frame(db: Database, events: Sequence[Event], samples: dict[str, Sequence[str]], benchmark: str = "bitcoin", *,
                policy: SourcePolicy | None = None) -> pd.DataFrame:
    """Every event's speed rows (``tracker study --show reaction``), with the announcement and how
    precise its time is; an event without minute candles gets one row saying so."""
    frames = []
    for event in events:
        results, _ = load_reaction(db, event, list(samples.get(event.event_id, [])), benchmark, policy=policy)
        if results is None:
            frames.append(pd.DataFrame([{"series": "", "note": f"no minute candles of {benchmark} and the sample around the event"}]))
        else:
            frames.append(results.speed.assign(benchmark=benchmark))
        frames[-1].insert(0, "event_id", event.event_id)
        frames[-1]["announcement"] = pd.Timestamp(event.ts)
        frames[-1]["time"] = "known" if event.time_known else "approximate (day only)"
    return pd.concat(frames, ignore_index=True)
