"""Binance spot REST shapes: ``/api/v3/ping``, ``/time``, ``/exchangeInfo`` and ``/klines``.

Klines follow the official docs (``../shared/exchanges/binance/rest-api.md``): 12-field rows
labelled by open time, prices and volumes as strings, ``limit`` 1..1000 (default 500),
``startTime`` / ``endTime`` in ms (inclusive, by open time); without ``startTime`` the most
recent candles up to ``endTime`` (or now) come back. Errors are ``{"code": -1121, "msg": ...}``.
"""
from __future__ import annotations

from typing import Any

from .series import INTERVALS, ms

PREFIX = "/api/v3"
RATE_LIMITS = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]


class BinanceError(Exception):
    def __init__(self, status: int, code: int, msg: str):
        super().__init__(msg)
        self.status, self.body = status, {"code": code, "msg": msg}


def route(fake: Any, path: str, params: dict[str, str]) -> Any:
    now = fake.clock.now()
    if path == "/ping":
        return {}
    if path == "/time":
        return {"serverTime": ms(now)}
    if path == "/exchangeInfo":
        return exchange_info(fake, ms(now))
    if path in ("/klines", "/uiKlines"):
        return klines(fake, params, ms(now))
    raise BinanceError(404, -1000, "Not found.")


def exchange_info(fake: Any, now_ms: int) -> dict[str, Any]:
    return {
        "timezone": "UTC", "serverTime": now_ms, "rateLimits": RATE_LIMITS, "exchangeFilters": [],
        "symbols": [_symbol(x) for x in fake.listings.values() if x.first_open <= fake.clock.now()],
    }


def _symbol(listing: Any) -> dict[str, Any]:
    return {
        "symbol": listing.symbol, "status": listing.status, "baseAsset": listing.base, "baseAssetPrecision": 8,
        "quoteAsset": listing.quote, "quotePrecision": 8, "quoteAssetPrecision": 8, "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8, "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True, "ocoAllowed": True, "otoAllowed": True, "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True, "cancelReplaceAllowed": True, "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.00000001", "maxPrice": "1000000.00000000", "tickSize": "0.00000001"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001000", "maxQty": "9000000.00000000", "stepSize": "0.00001000"},
            {"filterType": "NOTIONAL", "minNotional": "5.00000000", "applyMinToMarket": True, "maxNotional": "9000000.00000000",
             "applyMaxToMarket": False, "avgPriceMins": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _int(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    try:
        return int(params[name])
    except ValueError:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.") from None


def klines(fake: Any, params: dict[str, str], now_ms: int) -> list[list[Any]]:
    symbol = params.get("symbol")
    if not symbol:
        raise BinanceError(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.")
    interval = params.get("interval")
    if not interval:
        raise BinanceError(400, -1102, "Mandatory parameter 'interval' was not sent, was empty/null, or malformed.")
    if symbol not in fake.listings:
        raise BinanceError(400, -1121, "Invalid symbol.")
    if interval not in INTERVALS:
        raise BinanceError(400, -1120, "Invalid interval.")
    limit = _int(params, "limit")
    limit = 500 if limit is None else limit
    if not 1 <= limit <= 1000:
        raise BinanceError(400, -1130, "Data sent for parameter 'limit' is not valid.")
    start, end = _int(params, "startTime"), _int(params, "endTime")
    if start is not None and end is not None and start > end:
        raise BinanceError(400, -1023, "Start time is greater than end time.")
    data = fake.series.candles(symbol, interval, start=start, end=end, limit=limit, now=now_ms, oldest_first=start is not None)
    step = INTERVALS[interval]
    return [
        [t, _num(o), _num(h), _num(lo), _num(c), _num(v), t + step - 1, _num(q), int(n), _num(v * 0.5), _num(q * 0.5), "0"]
        for t, o, h, lo, c, v, q, n in zip(
            data["open_time"].tolist(), data["open"].tolist(), data["high"].tolist(), data["low"].tolist(),
            data["close"].tolist(), data["volume"].tolist(), data["quote_volume"].tolist(), data["trades"].tolist())
    ]


def _num(value: float) -> str:
    return f"{value:.8f}"


__all__ = ["PREFIX", "BinanceError", "exchange_info", "klines", "route"]
