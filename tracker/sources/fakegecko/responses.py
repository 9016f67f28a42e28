"""The fake server's answers, shaped like the official OpenAPI spec's 200 examples.

Every builder takes the universe, the data "now" and the request's query parameters, and
returns a JSON-ready object, or raises :class:`ApiError` with the status and body CoinGecko
would send (a missing parameter, an unknown coin, a range beyond the history window).
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping

import numpy as np

from .faults import HISTORY_LIMIT_MESSAGE, status_body
from .series import DAY, HOUR, CoinSeries, CoinSpec, series_for
from .universe import Universe

MAX_PER_PAGE = 250
FIAT_RATES = {"usd": 1.0, "eur": 0.92, "gbp": 0.79, "jpy": 151.0, "chf": 0.88, "cad": 1.37, "aud": 1.52}
CRYPTO_QUOTES = {"btc": "bitcoin", "eth": "ethereum"}
MARKET_ORDERS = ("market_cap_desc", "market_cap_asc", "volume_desc", "volume_asc", "id_asc", "id_desc")
CATEGORY_ORDERS = ("market_cap_desc", "market_cap_asc", "name_desc", "name_asc", "market_cap_change_24h_desc", "market_cap_change_24h_asc")
TIMEFRAMES = {"1h": HOUR, "24h": DAY, "7d": 7 * DAY, "14d": 14 * DAY, "30d": 30 * DAY, "200d": 200 * DAY, "1y": 365 * DAY}


@dataclass
class ApiError(Exception):
    """An error answer: status, JSON (or text) body and extra headers."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


def seconds(moment: datetime) -> float:
    return (moment - datetime(1970, 1, 1)).total_seconds()


def iso(moment_s: float) -> str:
    moment = datetime(1970, 1, 1) + timedelta(seconds=moment_s)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _flag(params: Mapping[str, str], name: str) -> bool:
    return params.get(name, "false").lower() == "true"


def _int_param(params: Mapping[str, str], name: str, default: int, lo: int, hi: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, {"error": f"invalid {name}: {raw}"}) from None
    if value < lo or (hi is not None and value > hi):
        raise ApiError(400, {"error": f"{name} must be between {lo} and {hi}" if hi else f"{name} must be at least {lo}"})
    return value


def _time_param(params: Mapping[str, str], name: str) -> float:
    raw = params.get(name)
    if raw is None or raw == "":
        raise ApiError(400, {"error": f"Missing parameter {name}"})
    try:
        return float(raw)
    except ValueError:
        pass
    try:  # the Pro spec also takes ISO dates
        return seconds(datetime.fromisoformat(raw.replace("Z", "")))
    except ValueError:
        raise ApiError(400, {"error": f"invalid {name}: {raw}"}) from None


class Market:
    """Builds answers for one universe; caches per-second market snapshots."""

    def __init__(self, universe: Universe):
        self.universe = universe
        self._lock = threading.Lock()
        self._snapshots: dict[tuple[int, int], dict[str, dict[str, float]]] = {}

    def series(self, coin: CoinSpec) -> CoinSeries:
        return series_for(coin, self.universe.seed)

    # -- currency ---------------------------------------------------------------------------

    def _rate(self, vs_currency: str | None, t: np.ndarray) -> np.ndarray:
        if not vs_currency:
            raise ApiError(400, {"error": "Missing parameter vs_currency"})
        vs = vs_currency.lower()
        if vs in FIAT_RATES:
            return np.full(np.shape(t), FIAT_RATES[vs])
        if vs in CRYPTO_QUOTES:
            quote = self.universe.coins[CRYPTO_QUOTES[vs]]
            return 1.0 / self.series(quote).price(t)
        raise ApiError(400, {"error": "invalid vs_currency"})

    # -- the whole market at one instant ----------------------------------------------------

    def snapshot(self, now: datetime) -> dict[str, dict[str, float]]:
        """Price, cap and volume now and 24h ago for every listed coin, plus the global rank."""
        t = float(int(seconds(now)))
        key = (self.universe.version, int(t))
        with self._lock:
            cached = self._snapshots.get(key)
        if cached is not None:
            return cached
        rows: dict[str, dict[str, float]] = {}
        for coin in self.universe.active_coins(now):
            s = self.series(coin)
            times = np.array([t, t - DAY])
            price = s.price(times)
            cap = s.market_cap(times, price)
            volume = s.volume(times, price)
            rows[coin.coin_id] = {
                "price": float(price[0]), "price_24h": float(price[1]),
                "cap": float(cap[0]), "cap_24h": float(cap[1]), "volume": float(volume[0]),
            }
        ranked = sorted((cid for cid, r in rows.items() if r["cap"] > 0 and not self.universe.coins[cid].market_cap_null),
                        key=lambda cid: (-rows[cid]["cap"], cid))
        for rank, cid in enumerate(ranked, 1):
            rows[cid]["rank"] = rank
        with self._lock:
            if len(self._snapshots) > 8:
                self._snapshots.clear()
            self._snapshots[key] = rows
        return rows

    # -- endpoints --------------------------------------------------------------------------

    def ping(self) -> dict[str, str]:
        return {"gecko_says": "(V3) To the Moon!"}

    def coins_list(self, now: datetime, params: Mapping[str, str]) -> list[dict[str, Any]]:
        status = params.get("status", "active")
        if status not in ("active", "inactive"):
            raise ApiError(400, {"error": "invalid status"})
        coins = self.universe.active_coins(now) if status == "active" else self.universe.delisted_coins()
        with_platform = _flag(params, "include_platform")
        out = []
        for coin in coins:
            row: dict[str, Any] = {"id": coin.coin_id, "symbol": coin.symbol, "name": coin.name}
            if with_platform:
                row["platforms"] = {"ethereum": "0x" + f"{coin.salt:08x}" * 5} if coin.salt % 3 else {}
            out.append(row)
        return out

    def categories_list(self) -> list[dict[str, str]]:
        cats = sorted(self.universe.categories.values(), key=lambda c: c.name.lower())
        return [{"category_id": c.category_id, "name": c.name} for c in cats]

    def categories(self, now: datetime, params: Mapping[str, str]) -> list[dict[str, Any]]:
        order = params.get("order", "market_cap_desc")
        if order not in CATEGORY_ORDERS:
            raise ApiError(400, {"error": f"invalid order: {order}"})
        snap = self.snapshot(now)
        updated = iso(seconds(now))
        out = []
        for cat in self.universe.categories.values():
            members = [c for c in self.universe.members(cat.category_id, now) if c.coin_id in snap]
            known = [c for c in members if snap[c.coin_id]["cap"] > 0 and not c.market_cap_null]
            cap = sum(snap[c.coin_id]["cap"] for c in known)
            cap_24h = sum(snap[c.coin_id]["cap_24h"] for c in known)
            top = sorted(known, key=lambda c: -snap[c.coin_id]["cap"])[:3]
            out.append({
                "id": cat.category_id,
                "name": cat.name,
                "market_cap": cap,
                "market_cap_change_24h": (cap / cap_24h - 1.0) * 100.0 if cap_24h > 0 else 0.0,
                "content": cat.content,
                "top_3_coins_id": [c.coin_id for c in top],
                "top_3_coins": [f"https://coin-images.coingecko.com/coins/images/{c.image_id}/small/{c.coin_id}.png" for c in top],
                "volume_24h": sum(snap[c.coin_id]["volume"] for c in members),
                "updated_at": updated,
            })
        field_, reverse = {
            "market_cap_desc": ("market_cap", True), "market_cap_asc": ("market_cap", False),
            "name_desc": ("name", True), "name_asc": ("name", False),
            "market_cap_change_24h_desc": ("market_cap_change_24h", True), "market_cap_change_24h_asc": ("market_cap_change_24h", False),
        }[order]
        out.sort(key=lambda r: r[field_], reverse=reverse)
        return out

    def markets(self, now: datetime, params: Mapping[str, str], *, shift: int = 0) -> list[dict[str, Any]]:
        vs = params.get("vs_currency")
        t_now = seconds(now)
        rate_now = float(self._rate(vs, np.array([t_now]))[0])
        per_page = _int_param(params, "per_page", 100, 1, MAX_PER_PAGE)
        page = _int_param(params, "page", 1, 1)
        order = params.get("order", "market_cap_desc")
        if order not in MARKET_ORDERS:
            raise ApiError(400, {"error": f"invalid order: {order}"})
        category = params.get("category")
        ids = [i.strip() for i in params.get("ids", "").split(",") if i.strip()]
        snap = self.snapshot(now)
        if category:
            if category not in self.universe.categories:
                raise ApiError(404, {"error": "category not found"})
            coins = [c for c in self.universe.members(category, now) if c.coin_id in snap]
            if ids:
                coins = [c for c in coins if c.coin_id in set(ids)]
        elif ids:
            coins = [self.universe.coins[i] for i in dict.fromkeys(ids) if i in snap]
        else:
            coins = [c for c in self.universe.active_coins(now) if c.coin_id in snap]

        def cap_of(c: CoinSpec) -> float:
            return -1.0 if c.market_cap_null else snap[c.coin_id]["cap"]

        sorters = {
            "market_cap_desc": (lambda c: (-cap_of(c), c.coin_id)),
            "market_cap_asc": (lambda c: (cap_of(c), c.coin_id)),
            "volume_desc": (lambda c: (-snap[c.coin_id]["volume"], c.coin_id)),
            "volume_asc": (lambda c: (snap[c.coin_id]["volume"], c.coin_id)),
            "id_asc": (lambda c: c.coin_id),
        }
        if order == "id_desc":
            coins.sort(key=lambda c: c.coin_id, reverse=True)
        else:
            coins.sort(key=sorters[order])
        start = max(0, (page - 1) * per_page - shift)
        selected = coins[start : start + per_page]
        timeframes = [tf.strip() for tf in params.get("price_change_percentage", "").split(",") if tf.strip()]
        for tf in timeframes:
            if tf not in TIMEFRAMES:
                raise ApiError(400, {"error": f"invalid price_change_percentage: {tf}"})
        return [self._market_row(c, snap[c.coin_id], t_now, rate_now, _flag(params, "sparkline"), timeframes,
                                 _flag(params, "include_rehypothecated")) for c in selected]

    def _market_row(self, coin: CoinSpec, snap: dict[str, float], t: float, rate: float, sparkline: bool,
                    timeframes: list[str], rehypothecated: bool) -> dict[str, Any]:
        s = self.series(coin)
        hours = t - HOUR * np.arange(24, -1, -1)
        day_prices = s.price(hours) * rate
        price = snap["price"] * rate
        price_24h = snap["price_24h"] * rate
        supply = float(s.supply_at(np.array([t]))[0])
        cap = None if coin.market_cap_null else snap["cap"] * rate
        cap_24h = snap["cap_24h"] * rate
        ath, ath_s, atl, atl_s = s.daily_extremes(t)
        ath, atl = max(ath * rate, float(day_prices.max())), min(atl * rate, float(day_prices.min()))
        row: dict[str, Any] = {
            "id": coin.coin_id,
            "symbol": coin.symbol,
            "name": coin.name,
            "image": f"https://coin-images.coingecko.com/coins/images/{coin.image_id}/large/{coin.coin_id}.png",
            "current_price": price,
            "market_cap": cap,
            "market_cap_rank": None if cap is None else snap.get("rank"),
            "fully_diluted_valuation": (price * coin.max_supply) if coin.max_supply and coin.supply_known else None,
            "total_volume": snap["volume"] * rate,
            "high_24h": float(day_prices.max()),
            "low_24h": float(day_prices.min()),
            "price_change_24h": price - price_24h,
            "price_change_percentage_24h": (price / price_24h - 1.0) * 100.0,
            "market_cap_change_24h": (cap - cap_24h) if cap is not None else None,
            "market_cap_change_percentage_24h": ((cap / cap_24h - 1.0) * 100.0) if cap and cap_24h else None,
            "circulating_supply": supply if coin.supply_known else 0.0,
            "total_supply": supply * 1.1 if coin.supply_known else None,
            "max_supply": coin.max_supply,
            "ath": ath,
            "ath_change_percentage": (price / ath - 1.0) * 100.0,
            "ath_date": iso(ath_s),
            "atl": atl,
            "atl_change_percentage": (price / atl - 1.0) * 100.0,
            "atl_date": iso(atl_s),
            "roi": {"times": round(price / coin.start_price - 1, 4), "currency": "usd", "percentage": round((price / coin.start_price - 1) * 100, 2)}
            if coin.salt % 5 == 0 else None,
            "last_updated": iso(t - (coin.salt % 60)),
        }
        if rehypothecated:
            row["market_cap_rank_with_rehypothecated"] = row["market_cap_rank"]
        if sparkline:
            week = t - HOUR * np.arange(167, -1, -1)
            row["sparkline_in_7d"] = {"price": [float(v) for v in s.price(week) * rate]}
        for tf in timeframes:
            before = float(s.price(np.array([t - TIMEFRAMES[tf]]))[0]) * rate
            row[f"price_change_percentage_{tf}_in_currency"] = (price / before - 1.0) * 100.0
        return row

    def _coin(self, coin_id: str) -> CoinSpec:
        if not self.universe.is_listed(coin_id):
            raise ApiError(404, {"error": "coin not found"})
        return self.universe.coins[coin_id]

    def _check_history(self, from_s: float, now: datetime, limit_days: int | None) -> None:
        if limit_days is not None and from_s < seconds(now) - limit_days * DAY:
            raise ApiError(401, {"error": status_body(10012, HISTORY_LIMIT_MESSAGE, timestamp=now)})

    def chart_range(self, coin_id: str, now: datetime, params: Mapping[str, str], limit_days: int | None) -> dict[str, list]:
        coin = self._coin(coin_id)
        vs = params.get("vs_currency")
        self._rate(vs, np.array([0.0]))
        from_s, to_s = _time_param(params, "from"), _time_param(params, "to")
        if to_s < from_s:
            raise ApiError(400, {"error": "from must be before to"})
        self._check_history(from_s, now, limit_days)
        chart = self.series(coin).chart(from_s, to_s, seconds(now))
        return self._convert(chart, vs)

    def chart_days(self, coin_id: str, now: datetime, params: Mapping[str, str], limit_days: int | None) -> dict[str, list]:
        coin = self._coin(coin_id)
        vs = params.get("vs_currency")
        self._rate(vs, np.array([0.0]))
        raw = params.get("days")
        if not raw:
            raise ApiError(400, {"error": "Missing parameter days"})
        now_s = seconds(now)
        s = self.series(coin)
        if raw == "max":
            from_s = float(s.genesis_s)
        else:
            try:
                from_s = now_s - float(raw) * DAY
            except ValueError:
                raise ApiError(400, {"error": f"invalid days: {raw}"}) from None
        self._check_history(from_s, now, limit_days)
        interval = params.get("interval", "")
        if interval == "daily":
            chart = s.points(from_s, now_s, DAY, live=True, now_s=now_s)
        elif interval == "hourly":
            if now_s - from_s > 100 * DAY:
                raise ApiError(400, {"error": "hourly interval is limited to the past 100 days"})
            chart = s.points(from_s, now_s, HOUR, live=True, now_s=now_s)
        elif interval:
            raise ApiError(400, {"error": f"invalid interval: {interval}"})
        else:
            chart = s.chart(from_s, now_s, now_s)
        return self._convert(chart, vs)

    def _convert(self, chart: dict[str, list], vs: str | None) -> dict[str, list]:
        if (vs or "").lower() == "usd":
            return chart
        stamps = np.array([p[0] for p in chart["prices"]], dtype=np.float64) / 1000.0
        rate = self._rate(vs, stamps)
        return {key: [[p[0], p[1] * r] for p, r in zip(points, rate)] for key, points in chart.items()}

    def tickers(self, coin_id: str, now: datetime, params: Mapping[str, str]) -> dict[str, Any]:
        """``/coins/{id}/tickers``: every coin trades against USDT and BTC on each of
        :data:`TICKER_EXCHANGES`; a renamed coin keeps its old market as a stale ticker."""
        coin = self._coin(coin_id)
        wanted = [e for e in params.get("exchange_ids", "").split(",") if e] or list(TICKER_EXCHANGES)
        base = coin.symbol.upper()
        pairs = [(base, "USDT", False), (base, "BTC" if base != "BTC" else "USDC", False)]
        pairs += [(old, "USDT", True) for old in FORMER_SYMBOLS.get(coin_id, ())]
        stamp = iso(seconds(now))
        tickers = [
            {"base": b, "target": t, "market": {"name": TICKER_EXCHANGES[e], "identifier": e, "has_trading_incentive": False},
             "last": 1.0, "volume": 1000.0, "converted_volume": {"usd": 0.0 if stale else 1e6}, "is_anomaly": False,
             "is_stale": stale, "timestamp": stamp, "last_traded_at": stamp, "coin_id": coin_id}
            for e in wanted if e in TICKER_EXCHANGES for b, t, stale in pairs
        ]
        if int(params.get("page", "1") or 1) > 1:
            tickers = []
        return {"name": coin.name, "tickers": tickers}

    def global_data(self, now: datetime) -> dict[str, Any]:
        snap = self.snapshot(now)
        caps = {cid: r["cap"] for cid, r in snap.items() if r["cap"] > 0}
        total = sum(caps.values())
        total_24h = sum(r["cap_24h"] for cid, r in snap.items() if r["cap"] > 0)
        volume = sum(r["volume"] for r in snap.values())
        btc, eth = snap.get("bitcoin", {}).get("price"), snap.get("ethereum", {}).get("price")
        top = sorted(caps, key=lambda cid: -caps[cid])[:10]

        def in_currencies(usd: float) -> dict[str, float]:
            out = {"usd": usd, "eur": usd * FIAT_RATES["eur"]}
            if btc:
                out["btc"] = usd / btc
            if eth:
                out["eth"] = usd / eth
            return out

        return {"data": {
            "active_cryptocurrencies": len(snap),
            "upcoming_icos": 0,
            "ongoing_icos": 49,
            "ended_icos": 3376,
            "markets": 1476,
            "total_market_cap": in_currencies(total),
            "total_volume": in_currencies(volume),
            "market_cap_percentage": {self.universe.coins[c].symbol: caps[c] / total * 100.0 for c in top} if total else {},
            "market_cap_change_percentage_24h_usd": (total / total_24h - 1.0) * 100.0 if total_24h else 0.0,
            "volume_change_percentage_24h_usd": 0.0,
            "updated_at": int(seconds(now)),
        }}

    def key_usage(self, calls: int, rate_limit: float | None) -> dict[str, Any]:
        limit = int(rate_limit) if rate_limit else 1000
        return {
            "plan": "Other", "rate_limit_request_per_minute": limit, "monthly_call_credit": 1000000,
            "current_total_monthly_calls": calls, "current_remaining_monthly_calls": 1000000 - calls,
            "api_key_rate_limit_request_per_minute": limit, "api_key_monthly_call_credit": 1000000,
            "api_key_current_total_monthly_calls": calls,
        }


# Exchanges the fake names in tickers, and symbols coins traded under before a rename.
TICKER_EXCHANGES = {"binance": "Binance", "okex": "OKX"}  # CoinGecko calls OKX "okex"
FORMER_SYMBOLS = {"render-token": ("RNDR",)}


def finite(value: Any) -> Any:
    """JSON cannot carry NaN or infinities: send them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


__all__ = ["ApiError", "Market", "finite", "iso", "seconds"]
