"""The fake market's calibration: real prices, betas, volatilities, tails and listing dates.

``calibration.toml`` (beside this module, shipped in the wheel) is written by
``docs/demo_calibration.py`` from the real Binance closes in ``../shared/realdata``; its header
says what each number is and where it comes from. The server reads it once.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class CoinCalibration:
    """One coin's numbers; ``price`` is None when no real price was at hand (the fake makes one up)."""

    coin_id: str
    symbol: str
    listed: datetime
    beta: float
    volatility: float
    ai_loading: float
    dof: float
    price: float | None = None
    price_date: date | None = None
    market_cap: float | None = None
    source: str = ""

    @property
    def anchor(self) -> datetime | None:
        """The instant whose price is ``price``: the close of ``price_date``, i.e. the next 00:00 UTC."""
        if self.price_date is None:
            return None
        return datetime.combine(self.price_date, datetime.min.time()) + timedelta(days=1)


@dataclass(frozen=True)
class Calibration:
    reference: date
    market_coin: str
    market_volatility: float
    market_dof: float
    ai_dof: float
    event_day0: date
    event_days: int
    event_factor_drift: float
    event_volatility_multiplier: float
    coins: dict[str, CoinCalibration]

    @property
    def reference_close(self) -> datetime:
        """The instant of the reference day's close (00:00 UTC the next day)."""
        return datetime.combine(self.reference, datetime.min.time()) + timedelta(days=1)


def _day(text: str) -> date:
    return date.fromisoformat(text)


@lru_cache(maxsize=1)
def calibration() -> Calibration:
    """The shipped calibration (read once)."""
    raw = tomllib.loads(resources.files(__package__).joinpath("calibration.toml").read_text(encoding="utf-8"))
    coins = {}
    for coin_id, row in raw["coins"].items():
        coins[coin_id] = CoinCalibration(
            coin_id=coin_id, symbol=row["symbol"], listed=datetime.combine(_day(row["listed"]), datetime.min.time()),
            beta=float(row["beta"]), volatility=float(row["volatility"]), ai_loading=float(row["ai_loading"]),
            dof=float(row["dof"]), price=row.get("price"),
            price_date=_day(row["price_date"]) if "price_date" in row else None,
            market_cap=row.get("market_cap"), source=row.get("source", ""),
        )
    event = raw["event"]
    return Calibration(
        reference=_day(raw["reference"]["date"]), market_coin=raw["market"]["coin"],
        market_volatility=float(raw["market"]["volatility"]), market_dof=float(raw["market"]["dof"]),
        ai_dof=float(raw["ai_factor"]["dof"]), event_day0=_day(event["day0"]), event_days=int(event["days"]),
        event_factor_drift=float(event["factor_drift"]), event_volatility_multiplier=float(event["volatility_multiplier"]),
        coins=coins,
    )


__all__ = ["Calibration", "CoinCalibration", "calibration"]
