"""Split a history request into ``/market_chart/range`` calls that come back at the right granularity.

CoinGecko picks the granularity from the length of the range asked for:

============================  ==========================
range                         points
============================  ==========================
1 day ending now              5-minutely
1 day at any other time       hourly
2 to 90 days                  hourly
more than 90 days             daily, at 00:00 UTC
============================  ==========================

So the planner asks for old history (before ``now - 89 days``) in chunks longer than 90 days,
which come back daily, and for the last 89 days in one chunk (at least 2 days long, so that a
short top-up is not 5-minutely), which comes back hourly. Both stay a day clear of the 90-day
edge, so rounding ``from``/``to`` to whole seconds can never tip a chunk over it. A chunk may *ask* for more
than it *owns* (to reach 91 or 2 days); the points outside what it owns are dropped, so chunks
never overlap. The last chunk reaches "now", and its last point is the live price at the
moment of the call, not a close: it is flagged ``is_partial`` and replaced by the next run.

Keyless and Demo keys only see the past 365 days (error 10012 beyond): the planner clamps the
start to ``history_days`` and says so in :attr:`HistoryPlan.note`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

HOURLY_MAX = timedelta(days=90)   # ranges up to 90 days come back hourly
HOURLY_SPAN = timedelta(days=89)  # the hourly chunk: a day clear of the edge, whatever the rounding
DAILY_MIN = timedelta(days=91)    # ranges over 90 days come back daily; one day clear of the edge
HOURLY_MIN = timedelta(days=2)    # a range of a day or less ending now would come back 5-minutely
DAILY_MAX = timedelta(days=365)   # the longest daily chunk: bounds a response and what a kill loses
REFRESH_AFTER = timedelta(hours=1)  # no new hourly close can exist sooner than this after the last one
ONE_MS = timedelta(milliseconds=1)
STEPS = {"5m": timedelta(minutes=5), "hourly": timedelta(hours=1), "daily": timedelta(days=1)}


@dataclass(frozen=True)
class ChartChunk:
    """One ``/market_chart/range`` call.

    Attributes
    ----------
    start, end:
        The stretch this chunk owns: ``start <= ts < end``; the final chunk owns everything from
        ``start`` on.
    request_from, request_to:
        What is asked for (may be wider than what is owned).
    granularity:
        What CoinGecko's rules give for the requested length: ``daily`` or ``hourly``.
    final:
        The chunk reaches "now": its last point is the live value.
    """

    start: datetime
    end: datetime
    request_from: datetime
    request_to: datetime
    granularity: str
    final: bool = False

    def params(self) -> dict[str, int]:
        """``from``/``to`` as whole UNIX seconds, widened outward so nothing owned is cut off."""
        return {"from": math.floor(_unix(self.request_from)), "to": math.ceil(_unix(self.request_to))}

    def owns(self, ts: pd.Series) -> pd.Series:
        inside = ts >= pd.Timestamp(self.start)
        return inside if self.final else inside & (ts < pd.Timestamp(self.end))


@dataclass(frozen=True)
class HistoryPlan:
    """The calls needed to bring one coin's history up to date.

    ``chunks`` are ordered so that what is stored stays one unbroken stretch even if a call
    fails: older history newest-first (growing backwards), then newer history oldest-first.
    """

    chunks: list[ChartChunk]
    start: datetime
    clamped: bool = False
    note: str | None = None
    backward: int = 0  # how many of the first chunks extend the stored stretch backwards
    extra: dict = field(default_factory=dict)


def _unix(moment: datetime) -> float:
    return (moment - datetime(1970, 1, 1)).total_seconds()


def _split(a: datetime, b: datetime, now: datetime, boundary: datetime, lower: datetime | None,
           reaches_now: bool, daily_max: timedelta) -> list[ChartChunk]:
    """Chunks for the stretch ``[a, b)`` (``[a, now]`` when it reaches now), oldest first."""
    chunks = []
    daily_end = min(b, boundary)
    piece = a
    while piece < daily_end:
        piece_end = min(daily_end, piece + daily_max)
        request_to = min(now, max(piece_end, piece + DAILY_MIN))
        request_from = min(piece, request_to - DAILY_MIN)
        if lower is not None:
            request_from = max(request_from, lower)
        chunks.append(ChartChunk(piece, piece_end, request_from, request_to, "daily"))
        piece = piece_end
    hourly_start = max(a, boundary)
    if hourly_start < b:
        request_from = min(hourly_start, b - HOURLY_MIN)
        if lower is not None:
            request_from = max(request_from, lower)
        chunks.append(ChartChunk(hourly_start, b, request_from, b, "hourly", final=reaches_now))
    return chunks


def plan_history(
    *,
    now: datetime,
    target_start: datetime,
    covered: tuple[datetime, datetime] | None = None,
    history_days: int | None = None,
    plan_name: str = "this plan",
    daily_max: timedelta = DAILY_MAX,
    refresh_after: timedelta = REFRESH_AFTER,
) -> HistoryPlan:
    """Plan the calls that fill ``[target_start, now]`` around what is already stored.

    Parameters
    ----------
    now:
        The present, naive UTC.
    target_start:
        How far back history should reach.
    covered:
        ``(first, last)``: the stretch already stored without gaps (``last`` is the newest
        complete point), or None for a coin never fetched.
    history_days:
        The plan's limit (365 on keyless and demo, so 364 is asked), or None for none.
    daily_max:
        The longest daily chunk.
    refresh_after:
        Skip the top-up when the newest stored close is younger than this.
    """
    lower = now - timedelta(days=history_days) if history_days else None
    start, clamped, note = target_start, False, None
    if lower is not None and start < lower:
        start, clamped = lower, True
        # The plan allows one day more than is asked (a margin for clock skew); only say so
        # when the caller wanted more than the plan allows.
        if start - target_start > timedelta(days=1):
            note = (
                f"clamped to the past {history_days} days: the {plan_name} plan refuses older history "
                f"(CoinGecko error 10012); older history needs a Pro key or a CSV import"
            )
    boundary = now - HOURLY_SPAN
    backward: list[ChartChunk] = []
    forward: list[ChartChunk] = []
    if covered is None:
        forward = _split(start, now, now, boundary, lower, True, daily_max)
    else:
        first, last = covered
        if start < first:
            backward = list(reversed(_split(start, first, now, boundary, lower, False, daily_max)))
        resume = max(last + ONE_MS, start)
        if now - last >= refresh_after and resume < now:
            forward = _split(resume, now, now, boundary, lower, True, daily_max)
    return HistoryPlan(backward + forward, start, clamped, note, backward=len(backward))


def infer_granularity(ts: pd.Series, expected: str) -> str:
    """The granularity the points actually have (median spacing), or ``expected`` with too few points."""
    if len(ts) < 3:
        return expected
    gaps = np.diff(pd.to_datetime(ts).to_numpy(dtype="datetime64[ms]").astype(np.int64)) / 1000.0
    median = float(np.median(gaps))
    if median < 20 * 60:
        return "5m"
    if median < 6 * 3600:
        return "hourly"
    return "daily"


def label_points(frame: pd.DataFrame, chunk: ChartChunk, now: datetime) -> pd.DataFrame:
    """Keep the points ``chunk`` owns and add ``granularity`` and ``is_partial``.

    In the final chunk the last point is the live "now" value when it is younger than one step
    of the granularity: it is flagged partial, so a daily or hourly close is never faked.
    """
    granularity = infer_granularity(frame["ts"].iloc[:-1] if len(frame) > 3 else frame["ts"], chunk.granularity)
    kept = frame.loc[chunk.owns(frame["ts"])].copy()
    kept["granularity"] = granularity
    kept["is_partial"] = False
    if chunk.final and len(kept):
        last = kept.index[-1]
        if kept.at[last, "ts"] > pd.Timestamp(now - STEPS[granularity]):
            kept.at[last, "is_partial"] = True
    return kept.reset_index(drop=True)


def chunk_watermark(chunk: ChartChunk, labelled: pd.DataFrame) -> datetime | None:
    """Everything up to the returned instant is stored once ``chunk`` is: its end, or for the
    final chunk its newest complete point (None when it brought no complete point)."""
    if not chunk.final:
        return chunk.end - ONE_MS
    complete = labelled.loc[~labelled["is_partial"], "ts"]
    if complete.empty:
        return None
    return pd.Timestamp(complete.max()).to_pydatetime()


__all__ = [
    "DAILY_MAX",
    "HOURLY_SPAN",
    "DAILY_MIN",
    "HOURLY_MAX",
    "HOURLY_MIN",
    "REFRESH_AFTER",
    "ChartChunk",
    "HistoryPlan",
    "chunk_watermark",
    "infer_granularity",
    "label_points",
    "plan_history",
]
