"""What a candles run asks for, and the rows it stores: intervals, windows, watermarks, rows.

Each market and interval has a watermark in ``ingest_state`` (job ``candles``, scope
``exchange:SYMBOL:interval``, e.g. ``binance:FET/USDT:1d``): ``watermark`` is the close instant
of the newest candle stored without a gap, ``detail.start`` the open instant where that stretch
begins and ``detail.from_listing`` whether it reaches back to the market's first candle. A run
asks only for what lies outside it: a backfill before ``start`` and a top-up after the
watermark, so a rerun with nothing new costs at most one call per market.

Minute candles around events (``--around-events``) have one scope per event instead
(``binance:FET/USDT:1m:sora-demo``) whose watermark is the end of the window fetched.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from .frames import amount_or_null, price_or_null

JOB = "candles"
# interval -> (length, price_history granularity)
INTERVALS = {"1d": (timedelta(days=1), "daily"), "1h": (timedelta(hours=1), "hourly"), "1m": (timedelta(minutes=1), "minute")}


def interval_length(interval: str) -> timedelta:
    return INTERVALS[interval][0]


def scope(exchange: str, symbol: str, interval: str, event_id: str | None = None) -> str:
    return f"{exchange}:{symbol}:{interval}" + (f":{event_id}" if event_id else "")


@dataclass
class Coverage:
    """The stretch of one market's candles stored without a gap (open of the first, close of the last)."""

    start: datetime | None = None
    last: datetime | None = None
    from_listing: bool = False

    @classmethod
    def from_state(cls, watermark: datetime | None, detail: dict[str, Any]) -> "Coverage":
        if watermark is None:
            return cls()
        try:
            start = datetime.fromisoformat(detail["start"]) if detail.get("start") else watermark
        except (TypeError, ValueError):
            start = watermark
        return cls(start, watermark, bool(detail.get("from_listing")))

    def detail(self) -> dict[str, Any]:
        return {"start": self.start.isoformat() if self.start else None, "from_listing": self.from_listing}


@dataclass(frozen=True)
class Window:
    """Open instants ``since <= open < until`` to fetch (None: from listing / up to now)."""

    since: datetime | None
    until: datetime | None
    backfill: bool  # ends where the stored stretch starts


def plan_windows(cover: Coverage, since: datetime | None, until: datetime) -> list[Window]:
    """The windows outside ``cover`` that the run must fetch, oldest first.

    ``since`` None asks for everything from the market's first candle; ``until`` is an open
    instant (exclusive), at most now.
    """
    if cover.last is None:
        return [Window(since, until, False)] if since is None or since < until else []
    windows = []
    if since is None and not cover.from_listing:
        windows.append(Window(None, min(cover.start, until), True))
    elif since is not None and since < cover.start:
        windows.append(Window(since, min(cover.start, until), True))
    if cover.last < until:
        windows.append(Window(cover.last, until, False))
    return [w for w in windows if w.since is None or w.until is None or w.since < w.until]


def closed_candles(frame: pd.DataFrame, interval: str, window: Window, now: datetime) -> pd.DataFrame:
    """The page's candles inside ``window`` that had closed by ``now``."""
    opens = pd.to_datetime(frame["open_time"])
    keep = opens + interval_length(interval) <= pd.Timestamp(now)
    if window.since is not None:
        keep &= opens >= pd.Timestamp(window.since)
    if window.until is not None:
        keep &= opens < pd.Timestamp(window.until)
    return frame.loc[keep.to_numpy()]


def price_rows(candles: pd.DataFrame, coin_id: str, quote: str, interval: str, exchange: str, ingested_at: datetime) -> pd.DataFrame:
    """``price_history`` rows: ts = the candle's close instant (open + interval), price = close,
    volume = quote volume when the exchange gives it, no market cap, never partial."""
    length, granularity = INTERVALS[interval]
    volume = candles["quote_volume"] if "quote_volume" in candles.columns else pd.Series([float("nan")] * len(candles))
    return pd.DataFrame(
        {
            "coin_id": coin_id,
            "vs_currency": quote.lower(),
            "ts": (pd.to_datetime(candles["open_time"]) + length).to_numpy(),
            "price": price_or_null(candles["close"]).to_numpy(),
            "market_cap": pd.Series([float("nan")] * len(candles), dtype=float).to_numpy(),
            "total_volume": amount_or_null(volume).to_numpy(),
            "granularity": granularity,
            "is_partial": False,
            "source": exchange,
            "ingested_at": pd.Timestamp(ingested_at),
        }
    )


def event_windows(events: pd.DataFrame, days: float, now: datetime) -> list[tuple[str, datetime, datetime]]:
    """``(event_id, since, until)`` for minute candles within ±``days`` of each event, the
    windows' ends capped at now; events still ahead are left out."""
    out = []
    reach = timedelta(days=days)
    for row in events.itertuples():
        at = pd.Timestamp(row.ts).to_pydatetime()
        since, until = at - reach, min(at + reach, now)
        if since < until:
            out.append((str(row.event_id), since.replace(second=0, microsecond=0), until))
    return out


__all__ = ["INTERVALS", "JOB", "Coverage", "Window", "closed_candles", "event_windows", "interval_length", "plan_windows",
           "price_rows", "scope"]
