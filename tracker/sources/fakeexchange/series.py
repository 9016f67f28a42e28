"""Candles of the fake exchange, built from hourly closes: 1h as they are, 1d and 1m derived.

- **1h**: the hourly closes (real ones from a CSV, or a seeded random walk); each candle opens
  at the previous close, and its high, low and volumes are deterministic noise around it.
- **1d**: the day's hourly candles aggregated, so a day's close is its last hourly close (what
  Binance's 1d close is, and what ``daily_close_binance_spot_from_hourly.csv`` holds).
- **1m**: 60 minutes per hour on a Brownian bridge from the hour's open to its close (seeded by
  symbol and minute, so every fetch gets the same minutes); the 60th minute closes at the hour's close.

Every value is a pure function of (symbol, time, seed), so pages fetched in any order agree.
Candles exist only up to the fake's "now": the one containing "now" is served still open.
"""
from __future__ import annotations

import zlib
from datetime import datetime

import numpy as np

from .listings import Listing

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
MINUTE_MS = 60_000
INTERVALS = {"1m": MINUTE_MS, "1h": HOUR_MS, "1d": DAY_MS}
HORIZON = datetime(2027, 12, 31, 23)  # synthetic series end here (the fake's clock decides what is served)
FIELDS = ("open_time", "open", "high", "low", "close", "volume", "quote_volume", "trades")
_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), np.uint64(0x9E3779B97F4A7C15)


def ms(when: datetime) -> int:
    return int((when - datetime(1970, 1, 1)).total_seconds() * 1000)


def noise(key: int, stamps: np.ndarray, salt: int) -> np.ndarray:
    """Uniform [0, 1) numbers, one per timestamp: a splitmix64 hash of (key, salt, stamp)."""
    x = stamps.astype(np.uint64) * _GOLD ^ np.uint64((key * 1_000_003 + salt * 7919) & 0xFFFFFFFFFFFFFFFF)
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(2**53)


class Series:
    """Hourly candles of every listing, computed on first use and cached."""

    def __init__(self, listings: dict[str, Listing], seed: int = 7):
        self.listings = listings
        self.seed = seed
        self._hourly: dict[str, dict[str, np.ndarray]] = {}

    def key(self, symbol: str) -> int:
        return zlib.crc32(f"{symbol}:{self.seed}".encode())

    def forget(self, symbol: str) -> None:
        self._hourly.pop(symbol, None)

    def _closes(self, listing: Listing) -> tuple[np.ndarray, np.ndarray]:
        if listing.csv is not None:
            import pandas as pd

            table = pd.read_csv(listing.csv, dtype={"close": "float64"})
            stamps = pd.to_datetime(table["open_time"]).to_numpy("datetime64[ms]").astype(np.int64)
            return stamps, table["close"].to_numpy(np.float64)
        if listing.scale_of is not None:
            stamps, closes = self._closes(self.listings[listing.scale_of])
            keep = stamps >= ms(listing.first_open)
            return stamps[keep], np.round(closes[keep] * listing.scale, 8)
        end = ms(min(listing.last_open or HORIZON, HORIZON))
        stamps = np.arange(ms(listing.first_open), end + 1, HOUR_MS, dtype=np.int64)
        steps = (noise(self.key(listing.symbol), stamps, 1) - 0.5) * np.sqrt(12) * 0.005
        closes = listing.start_price * np.exp(np.cumsum(steps))
        if listing.end_price is not None:
            closes *= listing.end_price / closes[-1]
            closes[-1] = listing.end_price
        return stamps, _tidy(closes)

    def hourly(self, symbol: str) -> dict[str, np.ndarray]:
        """The listing's hourly candles (before its end and outside its gaps), as arrays."""
        if symbol in self._hourly:
            return self._hourly[symbol]
        listing = self.listings[symbol]
        stamps, closes = self._closes(listing)
        keep = np.ones(len(stamps), dtype=bool)
        if listing.last_open is not None:
            keep &= stamps <= ms(listing.last_open)
        for start, end in listing.gaps:
            keep &= (stamps < start) | (stamps >= end)
        stamps, closes = stamps[keep], closes[keep]
        key = self.key(symbol)
        opens = np.concatenate([closes[:1] * (1 + (noise(key, stamps[:1], 2) - 0.5) * 0.002), closes[:-1]])
        top, bottom = np.maximum(opens, closes), np.minimum(opens, closes)
        highs = top * (1 + 0.001 + 0.004 * noise(key, stamps, 3))
        lows = bottom * (1 - 0.001 - 0.004 * noise(key, stamps, 4))
        quote = 50_000 + 200_000 * noise(key, stamps, 5)
        volume = quote / ((opens + closes) / 2)
        trades = (50 + 500 * noise(key, stamps, 6)).astype(np.int64)
        self._hourly[symbol] = {
            "open_time": stamps, "open": _tidy(opens), "high": _tidy(highs), "low": _tidy(lows), "close": closes,
            "volume": _tidy(volume), "quote_volume": _tidy(quote), "trades": trades,
        }
        return self._hourly[symbol]

    def candles(self, symbol: str, interval: str, *, start: int | None, end: int | None, limit: int, now: int,
                oldest_first: bool) -> dict[str, np.ndarray]:
        """Candles opening in [start, end] and no later than ``now``: the first ``limit`` of them
        when ``oldest_first``, else the last ``limit``."""
        hours = self.hourly(symbol)
        upto = now if end is None else min(now, end + (DAY_MS if interval == "1d" else HOUR_MS))
        lo = 0 if start is None else int(np.searchsorted(hours["open_time"], start - (DAY_MS if interval == "1d" else HOUR_MS), "left"))
        hi = int(np.searchsorted(hours["open_time"], upto, "right"))
        if interval == "1m":
            span = limit // 60 + 2
            lo, hi = (lo, min(hi, lo + span)) if oldest_first else (max(lo, hi - span), hi)
        part = {name: values[lo:hi] for name, values in hours.items()}
        if interval == "1d":
            part = _daily(part)
        elif interval == "1m":
            part = self._minutes(symbol, part)
        stamps = part["open_time"]
        keep = stamps <= now
        if start is not None:
            keep &= stamps >= start
        if end is not None:
            keep &= stamps <= end
        index = np.flatnonzero(keep)
        index = index[:limit] if oldest_first else index[-limit:]
        return {name: values[index] for name, values in part.items()}

    def _minutes(self, symbol: str, hours: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        key = self.key(symbol)
        count = len(hours["open_time"])
        stamps = (hours["open_time"][:, None] + np.arange(60, dtype=np.int64)[None, :] * MINUTE_MS)
        z = (noise(key, stamps.ravel(), 11).reshape(count, 60) - 0.5) * np.sqrt(12)
        walk = np.cumsum(z, axis=1)
        share = np.arange(1, 61, dtype=np.float64)[None, :] / 60
        bridge = walk - share * walk[:, -1:]
        start, finish = np.log(hours["open"])[:, None], np.log(hours["close"])[:, None]
        closes = np.exp(start + share * (finish - start) + 0.0008 * bridge)
        closes[:, -1] = hours["close"]
        closes = _tidy(closes)
        opens = np.concatenate([hours["open"][:, None], closes[:, :-1]], axis=1)
        flat = stamps.ravel()
        weight = 0.2 + noise(key, flat, 12).reshape(count, 60)
        weight /= weight.sum(axis=1, keepdims=True)
        return {
            "open_time": flat, "open": opens.ravel(), "close": closes.ravel(),
            "high": _tidy(np.maximum(opens, closes).ravel() * (1 + 0.0005 * noise(key, flat, 13))),
            "low": _tidy(np.minimum(opens, closes).ravel() * (1 - 0.0005 * noise(key, flat, 14))),
            "volume": _tidy((hours["volume"][:, None] * weight).ravel()),
            "quote_volume": _tidy((hours["quote_volume"][:, None] * weight).ravel()),
            "trades": np.maximum(1, (hours["trades"][:, None] * weight).astype(np.int64)).ravel(),
        }


def _daily(hours: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if len(hours["open_time"]) == 0:
        return {name: values[:0] for name, values in hours.items()}
    days = hours["open_time"] // DAY_MS * DAY_MS
    first = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    last = np.r_[first[1:] - 1, len(days) - 1]
    return {
        "open_time": days[first], "open": hours["open"][first], "close": hours["close"][last],
        "high": np.maximum.reduceat(hours["high"], first), "low": np.minimum.reduceat(hours["low"], first),
        "volume": _tidy(np.add.reduceat(hours["volume"], first)),
        "quote_volume": _tidy(np.add.reduceat(hours["quote_volume"], first)),
        "trades": np.add.reduceat(hours["trades"], first),
    }


def _tidy(values: np.ndarray) -> np.ndarray:
    """Prices as an exchange quotes them: 8 significant digits, at most 8 decimals."""
    values = np.array(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        digits = np.clip(7 - np.floor(np.log10(np.abs(values))), 0, 8)
    digits = np.where(np.isfinite(digits), digits, 8).astype(int)
    for places in np.unique(digits):
        chosen = digits == places
        values[chosen] = np.round(values[chosen], int(places))
    return values


__all__ = ["FIELDS", "INTERVALS", "Series", "ms", "noise"]
