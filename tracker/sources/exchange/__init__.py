"""Exchange candles through ccxt: public market data only, no key, any ccxt exchange with candles.

::

    from tracker.sources.exchange import ExchangeClient
    client = ExchangeClient("binance", base_url=None, timeout_seconds=20, max_retries=5,
                            retry_after_cap_seconds=300, sleep=time.sleep)
    client.markets()                       # [Market(symbol="FET/USDT", exchange_symbol="FETUSDT", ...)]
    for page in client.fetch_candles("FET/USDT", "1d", since=datetime(2023, 8, 1), until=None):
        ...                                # DataFrame: open_time (naive UTC) open high low close volume quote_volume
    client.calls                           # HTTP calls made so far

- One HTTP call per page of candles (1000 on Binance, 300 on OKX), plus one market-list call
  per client; only closed candles are yielded (the exchange's ``Date`` header says "now").
- ``base_url`` replaces the exchange's hosts with a compatible REST root (a proxy, or
  ``python -m tracker.sources.fakeexchange``); ``ExchangeClient.from_config(exchange_id, config)``
  takes it from ``TRACKER_EXCHANGE_BASE_URL`` (for whichever exchange is in use), else from
  ``[exchanges.<id>] base_url`` (``config.exchanges.base_url(exchange_id)``).
- Candles are labelled by their open time; ``until`` is inclusive; ``since`` None starts at the
  market's first candle. A delisted or renamed market (RNDR/USDT, now RENDER/USDT) keeps its
  history: ``markets()`` lists it with ``active=False``.
- Faults: 451/403 raise :class:`GeoBlocked`; 418 :class:`ExchangeBanned` at once; 429 waits
  Retry-After up to ``retry_after_cap_seconds`` (else :class:`ExchangeRateLimited`); 5xx and
  network errors back off and retry ``max_retries`` times (then :class:`ExchangeUnavailable`).
- Tested against fakes of Binance and OKX; other ccxt exchanges should work but are untested.
"""
from .client import DEFAULT_EXCHANGE, TESTED_EXCHANGES, ExchangeClient, Market
from .errors import ExchangeBanned, ExchangeError, ExchangeRateLimited, ExchangeUnavailable, GeoBlocked, UnknownMarket
from .urls import ENV_BASE_URL

__all__ = [
    "DEFAULT_EXCHANGE",
    "ENV_BASE_URL",
    "TESTED_EXCHANGES",
    "ExchangeBanned",
    "ExchangeClient",
    "ExchangeError",
    "ExchangeRateLimited",
    "ExchangeUnavailable",
    "GeoBlocked",
    "Market",
    "UnknownMarket",
]
