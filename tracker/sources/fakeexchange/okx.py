"""OKX v5 REST shapes: ``/api/v5/public/time``, ``/public/instruments`` and ``/market/(history-)candles``.

Candles come newest first as ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]`` (strings;
for spot, ``vol`` is in the base currency and both ``volCcy`` fields in the quote currency;
``confirm`` is "1" once the candle has closed). ``after`` asks for candles older than a ts,
``before`` for newer ones; ``limit`` is 1..300 (default 100). ``bar`` is 1m, 1H or 1Dutc (UTC
days). Both candle endpoints serve the whole history here (OKX's ``candles`` keeps only recent
ones). Every answer is ``{"code": "0", "msg": "", "data": [...]}``; errors carry another code.
"""
from __future__ import annotations

from typing import Any

from .series import INTERVALS, ms

PREFIX = "/api/v5"
BARS = {"1m": "1m", "1H": "1h", "1Dutc": "1d"}


class OkxError(Exception):
    def __init__(self, status: int, code: str, msg: str):
        super().__init__(msg)
        self.status, self.body = status, {"code": code, "msg": msg, "data": []}


def route(fake: Any, path: str, params: dict[str, str]) -> Any:
    now = ms(fake.clock.now())
    if path == "/public/time":
        return _ok([{"ts": str(now)}])
    if path == "/public/instruments":
        if params.get("instType") != "SPOT":
            return _ok([])
        return _ok([_instrument(x) for x in fake.listings.values() if x.first_open <= fake.clock.now()])
    if path in ("/market/candles", "/market/history-candles"):
        return candles(fake, params, now)
    raise OkxError(404, "50000", "Not found")


def _ok(data: list[Any]) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": data}


def _instrument(listing: Any) -> dict[str, Any]:
    return {
        "instType": "SPOT", "instId": listing.inst_id, "uly": "", "instFamily": "", "baseCcy": listing.base,
        "quoteCcy": listing.quote, "settleCcy": "", "ctVal": "", "ctMult": "", "ctValCcy": "", "optType": "", "stk": "",
        "listTime": str(ms(listing.first_open)), "expTime": "", "lever": "", "tickSz": "0.0001", "lotSz": "0.0001",
        "minSz": "0.1", "ctType": "", "alias": "", "state": "live" if listing.status == "TRADING" else "suspend",
        "maxLmtSz": "9999999999", "maxMktSz": "1000000", "maxLmtAmt": "20000000", "maxMktAmt": "1000000",
        "ruleType": "normal",
    }


def candles(fake: Any, params: dict[str, str], now_ms: int) -> dict[str, Any]:
    inst = params.get("instId", "")
    symbol = next((x.symbol for x in fake.listings.values() if x.inst_id == inst), None)
    if not inst:
        raise OkxError(400, "50014", "Parameter instId can not be empty")
    if symbol is None:
        raise OkxError(200, "51001", "Instrument ID does not exist")
    interval = BARS.get(params.get("bar", "1m"))
    if interval is None:
        raise OkxError(400, "51000", "Parameter bar error")
    try:
        limit = int(params.get("limit", "100"))
        after = int(params["after"]) if params.get("after") else None
        before = int(params["before"]) if params.get("before") else None
    except ValueError:
        raise OkxError(400, "51000", "Parameter limit, after or before error") from None
    if not 1 <= limit <= 300:
        raise OkxError(400, "51000", "Parameter limit error")
    data = fake.series.candles(symbol, interval, start=None if before is None else before + 1,
                               end=None if after is None else after - 1, limit=limit, now=now_ms, oldest_first=False)
    step = INTERVALS[interval]
    rows = [
        [str(t), _num(o), _num(h), _num(lo), _num(c), _num(v), _num(q), _num(q), "1" if t + step <= now_ms else "0"]
        for t, o, h, lo, c, v, q in zip(
            data["open_time"].tolist(), data["open"].tolist(), data["high"].tolist(), data["low"].tolist(),
            data["close"].tolist(), data["volume"].tolist(), data["quote_volume"].tolist())
    ]
    return _ok(rows[::-1])


def _num(value: float) -> str:
    return f"{value:.8f}".rstrip("0").rstrip(".") or "0"


__all__ = ["PREFIX", "OkxError", "route"]
