"""``ExchangeClient``: public market data (markets, candles) of one exchange, through ccxt.

ccxt is imported when a client is made, not when this module is, so commands that never touch
an exchange do not pay for it. No API key is ever configured or sent: only public endpoints
are used. See :mod:`tracker.sources.exchange` for the API.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ...urls import mask_url
from .candles import INTERVAL_MS, MAX_PAGE, pages, to_ms
from .errors import ExchangeError, UnknownMarket
from .retry import Caller
from .urls import point_at, valid_root

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_EXCHANGE = "binance"
TESTED_EXCHANGES = ("binance", "okx")  # against fakes of their API shapes; others are untested
WINDOWED = ("okx",)  # ccxt pages these by [since, since + limit intervals), not by the next `limit` candles


@dataclass(frozen=True, order=True)
class Market:
    """A spot market: ``symbol`` is ccxt's unified form (FET/USDT), ``exchange_symbol`` the exchange's own (FETUSDT)."""

    symbol: str
    exchange_symbol: str
    base: str
    quote: str
    active: bool
    listed_at: datetime | None = None  # when the exchange says it was listed (OKX does, Binance does not)


class ExchangeClient:
    """Public candles and markets of one exchange.

    Parameters
    ----------
    exchange_id:
        A ccxt exchange id with public candles (``binance``, ``okx``, ``bybit`` ...).
    base_url:
        Root of a compatible REST API replacing the exchange's hosts, e.g. ``http://127.0.0.1:8080``
        (None: the real hosts).
    timeout_seconds, max_retries, retry_after_cap_seconds, backoff_seconds, backoff_max_seconds:
        The retry policy, see :mod:`tracker.sources.exchange.retry`.
    sleep:
        Waits between retries (tests pass a recorder).
    enable_rate_limit:
        ccxt's own spacing of calls by the exchange's published weights (on by default).
    clock:
        "Now" as naive UTC when an answer carries no ``Date`` header.
    """

    def __init__(self, exchange_id: str = DEFAULT_EXCHANGE, base_url: str | None = None, timeout_seconds: float = 20,
                 max_retries: int = 5, retry_after_cap_seconds: float = 300, sleep: Callable[[float], Any] = time.sleep, *,
                 backoff_seconds: float = 1.0, backoff_max_seconds: float = 60.0, enable_rate_limit: bool = True,
                 clock: Callable[[], datetime] | None = None):
        self.exchange_id = exchange_id
        self.base_url = base_url.rstrip("/") if base_url else None
        if self.base_url is not None and not valid_root(self.base_url):
            raise ExchangeError(f"`base_url` {mask_url(self.base_url)!r} must be an http(s) URL without query string or credentials",
                                parameters=("base_url",), exchange_id=exchange_id)
        self._exchange = _make_exchange(exchange_id, timeout_seconds, enable_rate_limit)
        if self.base_url:
            point_at(self._exchange, self.base_url)
        self._caller = Caller(self._exchange, exchange_id, max_retries=max_retries, retry_after_cap_seconds=retry_after_cap_seconds,
                              backoff_seconds=backoff_seconds, backoff_max_seconds=backoff_max_seconds, sleep=sleep)
        self._clock = clock or (lambda: datetime.now(timezone.utc).replace(tzinfo=None))
        self._markets: dict[str, Market] | None = None

    @classmethod
    def from_config(cls, exchange_id: str, config: Any, **options: Any) -> "ExchangeClient":
        """A client whose base URL comes from ``config.exchanges`` (``TRACKER_EXCHANGE_BASE_URL``, then
        ``[exchanges.<id>] base_url``); ``options`` are the constructor's other keywords."""
        return cls(exchange_id, base_url=config.exchanges.base_url(exchange_id), **options)

    @property
    def calls(self) -> int:
        """HTTP calls made so far (every attempt counts)."""
        return self._caller.calls

    @property
    def waits(self) -> list[float]:
        """Seconds waited before each retry, in order."""
        return list(self._caller.waits)

    def markets(self) -> list[Market]:
        """The exchange's spot markets, trading or not (one call, then cached)."""
        return sorted(self._load_markets().values())

    def market(self, symbol: str) -> Market:
        """A market by unified symbol (FET/USDT) or the exchange's own (FETUSDT); UnknownMarket otherwise."""
        found = self._load_markets()
        if symbol in found:
            return found[symbol]
        own = [m for m in found.values() if m.exchange_symbol == symbol]
        if not own:  # FETUSDT for FET-USDT and the like; only when it names one market
            own = [m for m in found.values() if _bare(m.exchange_symbol) == _bare(symbol) or _bare(m.symbol) == _bare(symbol)]
        if len(own) == 1:
            return own[0]
        raise UnknownMarket(self.exchange_id, symbol)

    def fetch_candles(self, symbol: str, interval: str, since: datetime | date | None,
                      until: datetime | date | None = None) -> Iterator["pd.DataFrame"]:
        """Closed candles of ``symbol`` from ``since`` through ``until`` (inclusive), as frames of one page each.

        ``interval`` is 1d, 1h or 1m; ``since``, ``until`` naive UTC (aware ones are converted, a date
        means its midnight UTC). ``since`` None (or the epoch) starts at the market's first
        candle. Columns: open_time (naive UTC, the candle's open), open, high, low, close,
        volume (base), quote_volume (NaN where the exchange gives none). The market is looked up
        now (loading the market list once per client); the pages are fetched as they are read.
        """
        if interval not in INTERVAL_MS:
            raise ExchangeError(f"`interval` {interval!r} must be one of {', '.join(INTERVAL_MS)}", parameters=("interval",),
                                exchange_id=self.exchange_id)
        market = self.market(symbol)
        step = INTERVAL_MS[interval]
        start = to_ms(since) if since is not None else 0
        if market.listed_at is not None:
            # Exchanges that page by a window (OKX) find nothing before the listing: start no
            # earlier than the candle containing it.
            start = max(start, to_ms(market.listed_at) // step * step)
        end = to_ms(until) if until is not None else None
        if end is not None and end < start:
            raise ExchangeError("`until` is before `since`", parameters=("until", "since"), exchange_id=self.exchange_id)
        limit = self._page_limit()

        def fetch_page(since_ms: int) -> tuple[list[list[Any]], Any, int]:
            rows = self._caller.run(f"candles {market.symbol} {interval}", self._exchange.fetch_ohlcv,
                                    market.symbol, interval, since_ms, limit, symbol=symbol)
            answer = self._caller.last
            now = (answer.server_time() if answer is not None else None) or self._clock()
            return rows or [], self._exchange.last_json_response, to_ms(now)

        return pages(fetch_page, start_ms=start, until_ms=end, step_ms=step, limit=limit, active=market.active,
                     exchange_id=self.exchange_id, windowed=self._windowed())

    def _windowed(self) -> bool:
        """Whether ccxt asks this exchange for a time window per page (OKX and its relatives)."""
        return any(cls.__name__ in WINDOWED for cls in type(self._exchange).__mro__)

    def _page_limit(self) -> int:
        features = (getattr(self._exchange, "features", None) or {}).get("spot") or {}
        limit = (features.get("fetchOHLCV") or {}).get("limit")
        return min(MAX_PAGE, int(limit)) if limit else MAX_PAGE

    def _load_markets(self) -> dict[str, Market]:
        if self._markets is None:
            loaded = self._caller.run("market list", self._exchange.load_markets)
            self._markets = {}
            for entry in (loaded or {}).values():
                if not entry.get("spot"):
                    continue
                created = entry.get("created")
                self._markets[entry["symbol"]] = Market(
                    symbol=entry["symbol"], exchange_symbol=entry["id"], base=entry["base"], quote=entry["quote"],
                    active=bool(entry.get("active")),
                    listed_at=datetime.fromtimestamp(created / 1000, timezone.utc).replace(tzinfo=None) if created else None,
                )
        return self._markets

    def close(self) -> None:
        """Close the HTTP session (the client can still be used; a new one opens)."""
        session = getattr(self._exchange, "session", None)
        if session is not None:
            session.close()

    def __enter__(self) -> "ExchangeClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f", base_url={self.base_url!r}" if self.base_url else ""
        return f"ExchangeClient({self.exchange_id!r}{where}, calls={self.calls})"


def _bare(symbol: str) -> str:
    return "".join(c for c in symbol.upper() if c.isalnum())


def _make_exchange(exchange_id: str, timeout_seconds: float, enable_rate_limit: bool) -> Any:
    import ccxt

    if exchange_id not in ccxt.exchanges:
        raise ExchangeError(f"`exchange_id` {exchange_id!r} is not an exchange ccxt knows; e.g. {', '.join(TESTED_EXCHANGES)}, bybit",
                            parameters=("exchange_id",), exchange_id=exchange_id)
    exchange = getattr(ccxt, exchange_id)({"enableRateLimit": enable_rate_limit, "timeout": int(timeout_seconds * 1000)})
    if not exchange.has.get("fetchOHLCV"):
        raise ExchangeError(f"`exchange_id` {exchange_id!r} publishes no candles through ccxt; choose another, e.g. binance",
                            parameters=("exchange_id",), exchange_id=exchange_id)
    exchange.enableLastJsonResponse = True  # the raw rows carry the quote volume that ccxt drops
    # Spot markets only: one market-list call instead of one per market type (futures, options).
    option = exchange.options.get("fetchMarkets")
    if isinstance(option, dict):
        exchange.options["fetchMarkets"] = {**option, "types": ["spot"]}
    elif isinstance(option, list):
        exchange.options["fetchMarkets"] = ["spot"]
    exchange.apiKey = exchange.secret = ""  # public endpoints only: never a key to send
    return exchange


__all__ = ["DEFAULT_EXCHANGE", "ExchangeClient", "Market", "TESTED_EXCHANGES"]
