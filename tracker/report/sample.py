"""Who is in each event's sample, why, and what data each token brought: the report's set-up table.

One row per event and token: why the token is in the sample (named with ``--tokens``, or a
member of the category at the event's instant, since when), whether the study used it or left
it out and the engine's reason, how many estimation returns it had and how complete its
event window was.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

import storage
from storage import Database

from ..analysis.events import Event
from ..analysis.eventstudy.data import StudyData
from ..analysis.eventstudy.windows import locate_day0, parse_day_boundary
from .options import ReportOptions
from .studies import StudyOutcome

COLUMNS = [
    "event_id", "coin_id", "symbol", "name", "why", "status", "reason", "detail",
    "estimation_obs", "event_window_returns", "event_window_periods",
]


def coin_names(db: Database, coin_ids: Sequence[str]) -> pd.DataFrame:
    """symbol and name per coin id (coins the ``coins`` table does not know get empty names)."""
    frame = storage.coin_labels(db, coin_ids)
    frame = frame.drop_duplicates("coin_id").set_index("coin_id")
    return frame.reindex(list(coin_ids)).fillna("")


def membership(db: Database, category: str, coin_ids: Sequence[str], at) -> dict[str, pd.Timestamp]:
    """When each coin's membership of ``category`` that covers instant ``at`` began."""
    frame = storage.members_at(db, category, pd.Timestamp(at).to_pydatetime(), coin_ids)
    return dict(zip(frame["coin_id"], pd.to_datetime(frame["since"])))


def _why(event: Event, coin: str, category: str | None, since: dict[str, pd.Timestamp]) -> str:
    if category is None:
        return "named with --tokens"
    start = since.get(coin)
    when = f" (member since {start:%Y-%m-%d})" if start is not None else ""
    return f"in {category} at {event.ts:%Y-%m-%d %H:%M} UTC{when}"


def sample_frame(
    db: Database,
    events: Sequence[Event],
    data: StudyData,
    outcomes: Sequence[StudyOutcome],
    options: ReportOptions,
    category: str | None,
) -> pd.DataFrame:
    """The set-up table: one row per event and token (the benchmark too, when it was named)."""
    by_event = {o.id: o for o in outcomes}
    index = data.returns.index
    windows = options.event_windows
    span = (min(w.start for w in windows), max(w.end for w in windows))
    stamps = pd.DatetimeIndex([pd.Timestamp(e.ts) for e in events])
    day0s = locate_day0(index, data.period, parse_day_boundary("00:00"), stamps)
    coins = sorted(set(data.events["security"]) | ({options.benchmark} if options.benchmark != "index" else set()))
    names = coin_names(db, coins)
    rows = []
    for event, day0 in zip(events, day0s):
        members = data.events.loc[data.events["event_id"] == event.event_id, "security"].tolist()
        since = membership(db, category, members + [options.benchmark], event.ts) if category else {}
        outcome = by_event.get(event.event_id)
        used, left_out = {}, {}
        if outcome is not None and outcome.ok:
            used = dict(zip(outcome.results.estimation["security"], outcome.results.estimation["n_obs"]))
            left_out = {r.security: r for r in outcome.results.excluded.itertuples()}
        named_benchmark = options.tokens is not None and options.benchmark in options.tokens
        if named_benchmark or (category and options.benchmark in since):
            rows.append({
                "event_id": event.event_id, "coin_id": options.benchmark,
                "why": "named with --tokens" if named_benchmark else _why(event, options.benchmark, category, since),
                "status": "benchmark", "reason": "it is the benchmark, so it is not in the sample",
            })
        for coin in members:
            returns = data.returns[coin].to_numpy() if coin in data.returns else np.full(len(index), np.nan)
            window = returns[max(day0 + span[0], 0): day0 + span[1] + 1] if day0 >= 0 else np.array([])
            row = {
                "event_id": event.event_id,
                "coin_id": coin,
                "why": _why(event, coin, category, since),
                "event_window_returns": int(np.isfinite(window).sum()),
                "event_window_periods": span[1] - span[0] + 1,
            }
            if outcome is None or not outcome.ok:
                row.update(status="not studied", reason=outcome.error if outcome else "")
            elif coin in used:
                row.update(status="included", estimation_obs=int(used[coin]))
            elif coin in left_out:
                reason = left_out[coin]
                row.update(status="excluded", reason=reason.reason, detail=reason.detail, estimation_obs=int(reason.n_obs))
            rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["symbol"] = frame["coin_id"].map(names["symbol"]).fillna("").str.upper()
    frame["name"] = frame["coin_id"].map(names["name"]).fillna("")
    for column in ("reason", "detail", "why", "status"):
        frame[column] = frame[column].astype(object).where(frame[column].notna(), "").astype(str)
    frame["estimation_obs"] = frame["estimation_obs"].astype("Int64")
    frame["event_window_returns"] = frame["event_window_returns"].astype("Int64")
    frame["event_window_periods"] = frame["event_window_periods"].astype("Int64")
    return frame
