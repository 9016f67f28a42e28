"""Raw price moves the way the press reports them: close to close over a labelled week.

No model, no benchmark: "FET rose 47% in the week of the Sora demo" is the close of
2024-02-12 to the close of 2024-02-19, i.e. relative days -3 to +4 around day 0 (2024-02-15).
The same daily closes feed the event study (``panels.daily_closes``: a UTC day's close is
its last price before midnight), so these moves and the study's returns agree.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from storage import Database

from ..analysis import panels
from ..analysis.events import Event
from ..analysis.eventstudy import Window
from ..analysis.source_choice import SourcePolicy

COLUMNS = [
    "event_id", "coin_id", "role", "start_day", "end_day", "close_start", "close_end", "move",
    "day0", "close_before_day0", "close_day0", "day0_move", "note",
]


def day_zero(event: Event) -> pd.Timestamp:
    """The UTC day that contains the announcement (daily closes end at midnight UTC)."""
    return pd.Timestamp(event.ts).floor("D")


def raw_moves(
    db: Database,
    events: Sequence[Event],
    samples: Mapping[str, Sequence[str]],
    references: Sequence[str],
    window: Window,
    policy: SourcePolicy | None = None,
) -> pd.DataFrame:
    """Each token's close-to-close move over ``window`` (relative days) around each event.

    Parameters
    ----------
    samples
        event id -> coin ids of its sample (role ``sample``).
    references
        Coins shown beside every sample for comparison, such as bitcoin (role ``benchmark``).
    window
        ``Window(-3, 4)``: from the close of day -3 to the close of day +4 (seven days).

    Returns
    -------
    DataFrame
        One row per event and coin, largest move first within an event; ``move`` and
        ``day0_move`` (close of day -1 to close of day 0) are simple returns, missing when a
        close is missing (``note`` says which).
    """
    day0s = {e.event_id: day_zero(e) for e in events}
    first = min(day0s.values()) + pd.Timedelta(days=min(window.start, -1))
    last = max(day0s.values()) + pd.Timedelta(days=max(window.end, 0))
    coins = sorted({c for members in samples.values() for c in members} | set(references))
    closes = panels.daily_closes(db, coins, first, last, policy=policy)
    rows = []
    for event in events:
        day0 = day0s[event.event_id]
        start, end = day0 + pd.Timedelta(days=window.start), day0 + pd.Timedelta(days=window.end)
        before = day0 - pd.Timedelta(days=1)
        members = list(dict.fromkeys(samples.get(event.event_id, [])))
        roles = [(c, "sample") for c in members] + [(c, "benchmark") for c in references if c not in members]
        for coin, role in roles:
            series = closes[coin] if coin in closes.columns else pd.Series(dtype=float)
            values = {day: float(series.get(day, np.nan)) for day in (start, end, before, day0)}
            missing = [f"{day:%Y-%m-%d}" for day in sorted(values) if not np.isfinite(values[day])]
            rows.append({
                "event_id": event.event_id,
                "coin_id": coin,
                "role": role,
                "start_day": start.date(),
                "end_day": end.date(),
                "close_start": values[start],
                "close_end": values[end],
                "move": values[end] / values[start] - 1 if values[start] > 0 else np.nan,
                "day0": day0.date(),
                "close_before_day0": values[before],
                "close_day0": values[day0],
                "day0_move": values[day0] / values[before] - 1 if values[before] > 0 else np.nan,
                "note": f"no daily close on {', '.join(missing)}" if missing else "",
            })
    frame = pd.DataFrame(rows, columns=COLUMNS)
    if frame.empty:
        return frame
    frame["_order"] = frame["role"].map({"sample": 0, "benchmark": 1})
    frame["_event"] = frame["event_id"].map({e.event_id: i for i, e in enumerate(events)})
    frame = frame.sort_values(["_event", "_order", "move"], ascending=[True, True, False], na_position="last", kind="stable")
    return frame.drop(columns=["_order", "_event"]).reset_index(drop=True)
