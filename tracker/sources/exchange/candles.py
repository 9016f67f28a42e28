"""Candle paging: one HTTP call per page, closed candles only, as DataFrames.

Pages start at ``since`` and move on from the last candle of the previous page, so each call
brings up to the exchange's page size (1000 on Binance and Bybit, 300 on OKX) of new candles:
the fewest calls the API allows. Paging stops at ``until`` (inclusive: the last candle yielded
opens at or before it), at the first candle still open, and at the end of the data (an empty
page, or a short page whose window reaches the present or whose market is no longer trading).
A candle is closed when ``open_time + interval <= now``, where "now" is the exchange's own
clock (the ``Date`` header of that page's answer) or, without one, the client's clock.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    import pandas as pd

INTERVAL_MS = {"1m": 60_000, "1h": 3_600_000, "1d": 86_400_000}
COLUMNS = ["open_time", "open", "high", "low", "close", "volume", "quote_volume"]
MAX_PAGE = 1000
# Where the quote volume sits in an exchange's raw candle rows (ccxt keeps only base volume).
QUOTE_VOLUME_INDEX = {"binance": 7, "okx": 7, "bybit": 6}


def to_ms(when: datetime | date) -> int:
    """A naive-UTC (or aware) datetime, or a date (its midnight UTC), as epoch milliseconds."""
    from calendar import timegm

    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    if when.tzinfo is not None:
        from datetime import timezone

        when = when.astimezone(timezone.utc).replace(tzinfo=None)
    return timegm(when.timetuple()) * 1000 + when.microsecond // 1000


def frame(rows: list[list[Any]], quote_volumes: dict[int, float]) -> "pd.DataFrame":
    import numpy as np
    import pandas as pd

    data = pd.DataFrame([r[:6] for r in rows], columns=COLUMNS[:6])
    data["open_time"] = pd.to_datetime(data["open_time"].astype("int64"), unit="ms").astype("datetime64[us]")
    for column in COLUMNS[1:6]:
        data[column] = pd.to_numeric(data[column], errors="coerce").astype("float64")
    data["quote_volume"] = np.array([quote_volumes.get(int(r[0]), np.nan) for r in rows], dtype="float64")
    return data


def raw_quote_volumes(exchange_id: str, payload: Any) -> dict[int, float]:
    """open-time ms -> quote volume, from the exchange's raw answer when its shape is known."""
    index = QUOTE_VOLUME_INDEX.get(exchange_id)
    if index is None:
        return {}
    rows = payload
    if isinstance(payload, dict):
        rows = payload.get("data")
        if rows is None and isinstance(payload.get("result"), dict):
            rows = payload["result"].get("list")
    found: dict[int, float] = {}
    if not isinstance(rows, list):
        return found
    for row in rows:
        if isinstance(row, list) and len(row) > index:
            try:
                found[int(row[0])] = float(row[index])
            except (TypeError, ValueError):
                continue
    return found


def pages(fetch_page: Callable[[int], tuple[list[list[Any]], Any, int]], *, start_ms: int, until_ms: int | None,
          step_ms: int, limit: int, active: bool, exchange_id: str, windowed: bool = False) -> Iterator["pd.DataFrame"]:
    """Yield frames of closed candles; ``fetch_page(since_ms)`` returns (ccxt rows, raw payload, now ms).

    ``windowed``: the exchange answers for the window [since, since + limit intervals) rather
    than with the next ``limit`` candles (OKX), so an empty page of a trading market may be a
    gap in its history, not the end: the next window is asked for while windows lie in the past.
    """
    since = start_ms
    while until_ms is None or since <= until_ms:
        rows, payload, now_ms = fetch_page(since)
        rows = sorted({int(r[0]): r for r in rows if r and r[0] is not None and int(r[0]) >= since}.values(), key=lambda r: int(r[0]))
        if not rows:
            if windowed and active and since + limit * step_ms + step_ms <= now_ms:
                since += limit * step_ms
                continue
            return
        closed = [r for r in rows if int(r[0]) + step_ms <= now_ms]
        wanted = [r for r in closed if until_ms is None or int(r[0]) <= until_ms]
        if wanted:
            yield frame(wanted, raw_quote_volumes(exchange_id, payload))
        last = int(rows[-1][0])
        if len(closed) < len(rows) or (until_ms is not None and last >= until_ms):
            return
        if len(rows) < limit and (since + limit * step_ms > now_ms or not active):
            return
        since = last + step_ms


__all__ = ["COLUMNS", "INTERVAL_MS", "MAX_PAGE", "frame", "pages", "raw_quote_volumes", "to_ms"]
