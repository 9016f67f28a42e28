"""Deterministic prices, market caps and volumes for the fake server's coins.

Each coin's daily log return is a factor model calibrated to the real market (``calibration.toml``):
beta times a Student-t BTC shock, plus a residual that loads on one common AI shock and has its own
Student-t tails; during a Sora-like event the AI tokens' residuals drift up and get more volatile.
The walk is weakly pulled back to a trend through the coin's anchor price (its real close on the
reference day, when known). Between consecutive midnights runs an hourly Brownian
bridge between consecutive midnights (so the midnight points of hourly data equal the daily
points), and a small sub-hour wiggle for 5-minute and "now" points. Everything is a pure
function of (seed, coin, instant): asking twice for the same instant gives the same number,
which is what lets tests check that nothing is duplicated or lost across runs.

Charts follow CoinGecko's automatic granularity for ``/market_chart/range``: 5-minutely for a
day or less ending now, hourly up to 90 days, daily at 00:00 UTC beyond; hourly and 5-minute
timestamps jitter by up to 5 seconds, like CoinGecko's. A range that reaches the present ends
with the live "now" point.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np
from scipy.signal import lfilter

from .calibration import Calibration, calibration

EPOCH = datetime(2018, 1, 1)
EPOCH_S = int((EPOCH - datetime(1970, 1, 1)).total_seconds())
N_DAYS = 366 * 14  # the walk runs to 2032
DAY = 86400
HOUR = 3600
FIVE_MIN = 300
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_REVERSION = 0.002  # daily pull of the log price back towards its trend


def stable_hash(text: str) -> int:
    """A 32-bit hash that is the same in every process (unlike ``hash()``)."""
    return zlib.crc32(text.encode("utf-8"))


def _mix(keys: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: uint64 keys to well-spread uint64 values."""
    with np.errstate(over="ignore"):
        z = keys.astype(np.uint64) + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def uniform(salt: int, keys: np.ndarray) -> np.ndarray:
    """Uniform numbers in [0, 1) that depend only on ``salt`` and each key."""
    with np.errstate(over="ignore"):
        mixed = _mix(np.asarray(keys, dtype=np.int64).astype(np.uint64) ^ _mix(np.array([salt], dtype=np.uint64)))
    return (mixed >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def noise(salt: int, keys: np.ndarray) -> np.ndarray:
    """Zero-mean, unit-variance noise (uniform, scaled) keyed like :func:`uniform`."""
    return (uniform(salt, keys) - 0.5) * math.sqrt(12.0)


@dataclass(frozen=True)
class CoinSpec:
    """What makes one fake coin: identity, listing date and the shape of its numbers."""

    coin_id: str
    symbol: str
    name: str
    genesis: datetime          # first instant with data
    start_price: float         # price at the walk's start
    volatility: float          # daily log-price standard deviation
    drift: float               # daily log-price drift
    supply: float              # circulating supply at genesis
    max_supply: float | None
    supply_known: bool = True  # False: CoinGecko reports market_cap 0
    market_cap_null: bool = False  # /coins/markets reports market_cap null
    mcap_known_from: datetime | None = None  # chart market caps are 0 before this
    image_id: int = 1
    anchor: datetime | None = None  # the instant priced start_price (None: EPOCH)
    beta: float = 0.0               # loading on the market (BTC) shock
    ai_loading: float = 0.0         # loading of the residual on the common AI shock (0: not an AI token)
    dof: float = 0.0                # Student-t degrees of freedom of the residual (0: Gaussian)
    supply_growth: float = 0.08     # yearly growth of the circulating supply

    @property
    def salt(self) -> int:
        return stable_hash(self.coin_id)


class CoinSeries:
    """The numbers of one coin at any instant (UNIX seconds, vectorised)."""

    def __init__(self, spec: CoinSpec, seed: int):
        self.spec = spec
        self.salt = stable_hash(f"{seed}:{spec.coin_id}")
        shocks = daily_shocks(spec, seed, np.random.default_rng(self.salt), calibration())
        shocks[0] = 0.0
        # A trend plus a slowly mean-reverting AR(1) deviation, so prices wander like a random
        # walk over weeks without running off to absurd levels over years.
        deviation = lfilter([1.0], [1.0, -(1.0 - _REVERSION)], shocks)
        anchor = 0 if spec.anchor is None else int((spec.anchor - EPOCH).total_seconds() // DAY)
        anchor = min(max(anchor, 0), N_DAYS - 1)
        self.log_daily = math.log(spec.start_price) + spec.drift * (np.arange(N_DAYS) - anchor) + deviation - deviation[anchor]
        self.genesis_s = int((spec.genesis - datetime(1970, 1, 1)).total_seconds())
        self.mcap_from_s = (
            int((spec.mcap_known_from - datetime(1970, 1, 1)).total_seconds()) if spec.mcap_known_from else None
        )
        self._hour_sigma = spec.volatility * 0.2

    def _hourly_log(self, hours: np.ndarray) -> np.ndarray:
        """Log price at whole hours since EPOCH: the daily walk plus a bridge that is 0 at midnight."""
        hours = np.clip(hours, 0, (N_DAYS - 2) * 24)
        days, within = np.divmod(hours, 24)
        unique_days, where = np.unique(days, return_inverse=True)
        keys = unique_days[:, None] * 24 + np.arange(1, 25)[None, :]
        steps = noise(self.salt, keys.ravel()).reshape(len(unique_days), 24)
        walk = np.concatenate([np.zeros((len(unique_days), 1)), np.cumsum(steps, axis=1)], axis=1)
        bridge = walk - (np.arange(25)[None, :] / 24.0) * walk[:, 24:25]
        start = self.log_daily[days]
        end = self.log_daily[days + 1]
        return start + (end - start) * (within / 24.0) + self._hour_sigma * bridge[where, within]

    def log_price(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        hours_f = (t - EPOCH_S) / HOUR
        hours = np.floor(hours_f).astype(np.int64)
        frac = hours_f - hours
        below = self._hourly_log(hours)
        above = self._hourly_log(hours + 1)
        wiggle = noise(self.salt ^ 0x5F5F, np.floor(t / FIVE_MIN).astype(np.int64)) * 0.002 * np.sin(np.pi * frac)
        return below + (above - below) * frac + wiggle

    def price(self, t: np.ndarray) -> np.ndarray:
        return np.exp(self.log_price(t))

    def supply_at(self, t: np.ndarray) -> np.ndarray:
        years = np.maximum(0.0, (np.asarray(t, dtype=np.float64) - self.genesis_s) / (365.25 * DAY))
        supply = self.spec.supply * (1.0 + self.spec.supply_growth * years)
        if self.spec.max_supply:
            supply = np.minimum(supply, self.spec.max_supply)
        return supply

    def market_cap(self, t: np.ndarray, price: np.ndarray | None = None) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        price = self.price(t) if price is None else price
        if not self.spec.supply_known:
            return np.zeros_like(t)
        cap = price * self.supply_at(t)
        if self.mcap_from_s is not None:
            cap = np.where(t < self.mcap_from_s, 0.0, cap)
        return cap

    def volume(self, t: np.ndarray, price: np.ndarray | None = None) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        price = self.price(t) if price is None else price
        turnover = 0.03 * np.exp(0.6 * noise(self.salt ^ 0x7777, np.floor(t / HOUR).astype(np.int64)))
        return price * self.spec.supply * turnover

    def daily_extremes(self, now_s: float) -> tuple[float, int, float, int]:
        """(all-time high, its day, all-time low, its day) over the daily closes up to now."""
        first = max(0, (self.genesis_s - EPOCH_S) // DAY)
        last = max(first + 1, int((now_s - EPOCH_S) // DAY) + 1)
        window = np.exp(self.log_daily[first:last])
        hi, lo = int(np.argmax(window)), int(np.argmin(window))
        return float(window[hi]), EPOCH_S + (first + hi) * DAY, float(window[lo]), EPOCH_S + (first + lo) * DAY

    # -- charts -----------------------------------------------------------------------------

    def chart(self, from_s: float, to_s: float, now_s: float) -> dict[str, list]:
        """``/market_chart/range`` for ``[from_s, to_s]`` with CoinGecko's automatic granularity."""
        length = to_s - from_s
        reaches_now = to_s >= now_s - FIVE_MIN
        if length <= DAY and reaches_now:
            step = FIVE_MIN
        elif length <= 90 * DAY:
            step = HOUR
        else:
            step = DAY
        return self.points(from_s, min(to_s, now_s), step, live=reaches_now, now_s=now_s)

    def points(self, from_s: float, to_s: float, step: int, *, live: bool, now_s: float) -> dict[str, list]:
        """Points every ``step`` seconds in ``[from_s, to_s]`` (none before genesis), plus the live point."""
        lo = max(from_s, self.genesis_s)
        first = math.ceil(lo / step) * step
        grid = np.arange(first, math.floor(to_s) + 1, step, dtype=np.int64) if to_s >= first else np.empty(0, np.int64)
        ms = grid * 1000
        if step < DAY and len(grid):
            # CoinGecko's hourly and 5-minute stamps jitter by a few seconds; the same point
            # always jitters the same way.
            ms = ms + (uniform(self.salt ^ 0x1234, grid) * 5000).astype(np.int64)
            keep = ms <= int(to_s * 1000)
            ms = ms[keep]
        if live and to_s >= self.genesis_s:
            live_ms = int(math.floor(min(to_s, now_s) * 1000))
            if not len(ms) or live_ms > ms[-1]:
                ms = np.append(ms, live_ms)
        seconds = ms / 1000.0
        price = self.price(seconds)
        cap = self.market_cap(seconds, price)
        volume = self.volume(seconds, price)
        stamps = ms.tolist()
        return {
            "prices": [[s, float(v)] for s, v in zip(stamps, price)],
            "market_caps": [[s, float(v)] for s, v in zip(stamps, cap)],
            "total_volumes": [[s, float(v)] for s, v in zip(stamps, volume)],
        }


def _unit_t(rng: np.random.Generator, dof: float, size: int) -> np.ndarray:
    """Unit-variance Student-t draws (Gaussian for ``dof`` 0); ``dof`` at least 2.5 keeps the variance finite."""
    if dof <= 0:
        return rng.standard_normal(size)
    dof = max(dof, 2.5)
    return rng.standard_t(dof, size) * math.sqrt((dof - 2.0) / dof)


@lru_cache(maxsize=16)
def _factor(seed: int, name: str, dof: float) -> np.ndarray:
    """A shock every coin of the universe shares (read-only): the market's, or the AI tokens'."""
    shocks = _unit_t(np.random.default_rng(stable_hash(f"{seed}:factor:{name}")), dof, N_DAYS)
    shocks.flags.writeable = False
    return shocks


def daily_shocks(spec: CoinSpec, seed: int, rng: np.random.Generator, cal: Calibration) -> np.ndarray:
    """Daily log returns: ``shocks[k]`` is the move from day k-1 00:00 to day k 00:00 (day k-1's return).

    beta * market + residual, the residual split between the common AI shock (weight ai_loading)
    and the coin's own; the volatility is the coin's, so corr(coin, BTC) = beta * sigma_BTC / sigma.
    """
    own = _unit_t(rng, spec.dof, N_DAYS)
    market = spec.beta * cal.market_volatility
    residual = math.sqrt(max(spec.volatility ** 2 - market ** 2, 0.0))
    shocks = market * _factor(seed, "market", cal.market_dof) if spec.beta else np.zeros(N_DAYS)
    loading = spec.ai_loading
    if not loading:
        return shocks + residual * own
    ai = _factor(seed, "ai", cal.ai_dof).copy()
    spread = math.sqrt(max(1.0 - loading ** 2, 0.0))
    # The event: days 0..+5 from day0, i.e. the moves into the midnights after each of those days.
    first = (datetime.combine(cal.event_day0, datetime.min.time()) - EPOCH).days + 1
    days = slice(first, first + cal.event_days)
    ai[days] = ai[days] * cal.event_volatility_multiplier + cal.event_factor_drift
    own[days] = own[days] * cal.event_volatility_multiplier
    return shocks + residual * (loading * ai + spread * own)


@lru_cache(maxsize=2048)
def series_for(spec: CoinSpec, seed: int) -> CoinSeries:
    return CoinSeries(spec, seed)


__all__ = ["EPOCH", "CoinSeries", "CoinSpec", "daily_shocks", "noise", "series_for", "stable_hash", "uniform"]
