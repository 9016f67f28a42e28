"""Re-fetching stored history points whose market cap or volume came back null.

The top-up only moves forward, so a point stored while the API sent nulls (a schema drift,
the fake server's ``drift_nulls``) would stay null for ever. Each history run therefore also
looks for **suspect nulls**: CoinGecko points of a tracked coin, not partial, with a price,
whose ``market_cap`` (or ``total_volume``) is NULL although other points of the same coin
have one: the source normally has values for that coin. A coin whose caps were never known
(no circulating supply) has no value anywhere and is left alone; one whose caps became known
later has its early NULLs re-fetched once (a daily call covers a year) and then confirmed.

The suspects of a coin are grouped into as few ``/market_chart/range`` calls as CoinGecko's
granularity rules allow: daily points in calls longer than 90 days (one call covers up to a
year), hourly points in calls of 2 to 89 days. A run spends at most
``tracking.repair_calls_per_run`` such calls (default 10); the rest wait for the next run.

Each re-fetched point is matched to the stored one within 5 minutes (timestamps jitter); a
value that comes back fills the NULL, through the same upsert as every history row (same key,
so no duplicate). A suspect that comes back null again, or not at all, is **confirmed
missing**: the stretch of such points is recorded in the coin's ``ingest_state`` detail
(``confirmed_missing``: ``[[first, last], ...]``) and never asked for again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Sequence

import duckdb
import pandas as pd

import storage

from ..sources.coingecko.chunking import DAILY_MAX, DAILY_MIN, HOURLY_MIN, ChartChunk, infer_granularity
from .frames import SOURCE, amount_or_null, cap_or_null

TOLERANCE = pd.Timedelta(minutes=5)  # timestamps jitter by seconds; the close views allow 5 minutes
HOURLY_GROUP = timedelta(days=89)    # suspects per hourly call: with its margins the call stays under 90 days
DAILY_GROUP = DAILY_MAX - timedelta(days=2)
MARGIN = timedelta(hours=1)

@dataclass(frozen=True)
class RepairWindow:
    """One re-fetch: the call to make and the stored points it is for."""

    chunk: ChartChunk
    suspects: pd.DataFrame  # rows of read_suspects for this window


@dataclass
class RepairResult:
    rows: pd.DataFrame            # price_history rows to upsert (only those that gained a value)
    confirmed: list[tuple[datetime, datetime]]
    filled: int
    still_missing: int


def confirmed_spans(detail: dict[str, Any] | None) -> list[tuple[datetime, datetime]]:
    """The confirmed-missing stretches recorded in a coin's ``ingest_state`` detail."""
    spans = []
    for item in (detail or {}).get("confirmed_missing", []) or []:
        try:
            spans.append((datetime.fromisoformat(item[0]), datetime.fromisoformat(item[1])))
        except (TypeError, ValueError, IndexError):
            continue  # a damaged entry only costs one more re-fetch
    return spans


def merge_spans(spans: Sequence[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def spans_to_json(spans: Sequence[tuple[datetime, datetime]]) -> list[list[str]]:
    return [[a.isoformat(), b.isoformat()] for a, b in merge_spans(spans)]


def read_suspects(con: duckdb.DuckDBPyConnection, coins: Sequence[str], vs_currency: str,
                  confirmed: dict[str, list[tuple[datetime, datetime]]]) -> dict[str, pd.DataFrame]:
    """Suspect nulls per coin (see the module docstring), minus the confirmed-missing ones."""
    if not coins:
        return {}
    frame = storage.null_amount_points(con, SOURCE, vs_currency, coins)
    out = {}
    for coin, rows in frame.groupby("coin_id", sort=False):
        keep = pd.Series(True, index=rows.index)
        for start, end in confirmed.get(coin, []):
            keep &= ~rows["ts"].between(pd.Timestamp(start), pd.Timestamp(end))
        if keep.any():
            out[str(coin)] = rows.loc[keep].reset_index(drop=True)
    return out


def plan_repairs(suspects: pd.DataFrame, *, now: datetime, lower: datetime | None) -> list[RepairWindow]:
    """The fewest range calls that re-fetch ``suspects`` at their own granularity, oldest first.

    Suspects the plan can no longer reach (older than ``lower``, the keyless/demo 365-day
    limit) are left out: they are neither re-fetched nor confirmed.
    """
    windows = []
    for granularity, group_span in (("daily", DAILY_GROUP), ("hourly", HOURLY_GROUP)):
        rows = suspects[(suspects["granularity"] == "daily") == (granularity == "daily")]
        if lower is not None:
            rows = rows[rows["ts"] > pd.Timestamp(lower)]
        times = list(rows["ts"])
        start = 0
        while start < len(times):
            end = start
            while end + 1 < len(times) and times[end + 1] - times[start] <= group_span:
                end += 1
            first, last = times[start].to_pydatetime(), times[end].to_pydatetime()
            windows.append(RepairWindow(_chunk(first, last, granularity, now, lower), rows.iloc[start:end + 1]))
            start = end + 1
    return sorted(windows, key=lambda w: w.chunk.start)


def _chunk(first: datetime, last: datetime, granularity: str, now: datetime, lower: datetime | None) -> ChartChunk:
    """A call whose length gives ``granularity``: over 90 days for daily, 2 to 89 days for hourly."""
    shortest = DAILY_MIN if granularity == "daily" else HOURLY_MIN
    request_to = min(now, max(last + MARGIN, first - MARGIN + shortest))
    request_from = min(first - MARGIN, request_to - shortest)
    if lower is not None:
        request_from = max(request_from, lower)
    return ChartChunk(first - MARGIN, last + MARGIN, request_from, request_to, granularity)


def apply_repair(window: RepairWindow, raw: pd.DataFrame, coin: str, vs_currency: str, now: datetime) -> RepairResult:
    """Fill the window's suspects from the re-fetched points ``raw`` (``ts``, values).

    Raises ValueError when the answer came back at another granularity than asked: nothing is
    then filled or confirmed (a daily answer cannot say an hourly point is missing).
    """
    suspects = window.suspects.sort_values("ts")
    if len(raw) >= 3 and infer_granularity(raw["ts"], window.chunk.granularity) != window.chunk.granularity:
        raise ValueError(f"asked for {window.chunk.granularity} points, got {infer_granularity(raw['ts'], '')}")
    fetched = pd.DataFrame({
        "fetched_ts": pd.to_datetime(raw["ts"]).astype("datetime64[us]"),
        "new_cap": cap_or_null(raw["market_cap"]).to_numpy(),
        "new_volume": amount_or_null(raw["total_volume"]).to_numpy(),
    }).sort_values("fetched_ts")
    left = suspects.assign(ts=pd.to_datetime(suspects["ts"]).astype("datetime64[us]"))
    matched = pd.merge_asof(left, fetched, left_on="ts", right_on="fetched_ts", direction="nearest", tolerance=TOLERANCE)
    cap = matched["market_cap"].where(matched["market_cap"].notna(), matched["new_cap"])
    volume = matched["total_volume"].where(matched["total_volume"].notna(), matched["new_volume"])
    gained = (cap.notna() & matched["market_cap"].isna()) | (volume.notna() & matched["total_volume"].isna())
    missing = (matched["cap_suspect"].astype(bool) & cap.isna()) | (matched["volume_suspect"].astype(bool) & volume.isna())
    rows = pd.DataFrame({
        "coin_id": coin,
        "vs_currency": vs_currency,
        "ts": matched["ts"],
        "price": matched["price"].astype(float),
        "market_cap": cap.astype(float),
        "total_volume": volume.astype(float),
        "granularity": matched["granularity"].astype(str),
        "is_partial": False,
        "source": SOURCE,
        "ingested_at": pd.Timestamp(now),
    }).loc[gained].reset_index(drop=True)
    confirmed = []
    if missing.any():
        times = matched.loc[missing, "ts"]
        confirmed.append((times.min().to_pydatetime(), times.max().to_pydatetime()))
    return RepairResult(rows, confirmed, int(gained.sum()), int(missing.sum()))


__all__ = [
    "RepairResult",
    "RepairWindow",
    "apply_repair",
    "confirmed_spans",
    "merge_spans",
    "plan_repairs",
    "read_suspects",
    "spans_to_json",
]
