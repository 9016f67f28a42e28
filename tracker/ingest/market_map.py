"""Which exchange market carries which coin: flags first, then CoinGecko's tickers, then the
exchange's own list.

1. ``--market SYMBOL=COIN_ID`` (the exchange's id such as ``FETUSDT`` or the unified
   ``FET/USDT``) always wins for that coin.
2. A mapping stored by an earlier run (``coin_markets``) is reused: no call.
3. CoinGecko's ``/coins/{id}/tickers`` names the coin's markets on the exchange (``base`` and
   ``target``); a stale ticker there is a market the coin traded under before (RNDR/USDT for
   render-token, renamed RENDER in July 2024), and its history is kept under the same coin.
4. The exchange's market list, when the coin's symbol is the base of no other stored coin.

Of a coin's markets, the quote first in :data:`QUOTE_PREFERENCE` is used (USDT, then USDC,
then USD); every market of the coin with that quote is kept, the inactive ones first so that
where a renamed market and its successor overlap, the live one's candles win.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence

import pandas as pd

from ..errors import InputError

QUOTE_PREFERENCE = ("USDT", "USDC", "USD")
MAPPED_BY = ("flag", "coingecko-tickers", "exchange-list")


@dataclass(frozen=True)
class MappedMarket:
    """One market to fetch candles from, and the coin its candles belong to."""

    coin_id: str
    exchange: str
    symbol: str            # unified, e.g. FET/USDT
    exchange_symbol: str   # the exchange's id, e.g. FETUSDT
    base: str
    quote: str
    mapped_by: str
    active: bool | None = True


@dataclass
class MarketMapping:
    """The markets chosen, and why some coins have none."""

    markets: list[MappedMarket] = field(default_factory=list)
    unmapped: dict[str, str] = field(default_factory=dict)  # coin -> reason


def parse_market_flags(values: Iterable[str]) -> dict[str, str]:
    """``["FETUSDT=fetch-ai", ...]`` -> ``{"FETUSDT": "fetch-ai"}``; a malformed one is an
    InputError naming the parameter ``markets``."""
    out: dict[str, str] = {}
    for value in values:
        symbol, sep, coin = str(value).partition("=")
        symbol, coin = symbol.strip(), coin.strip()
        if not sep or not symbol or not coin or any(c.isspace() for c in symbol + coin):
            raise InputError(f"`markets` {value!r} is not SYMBOL=COIN_ID (e.g. FETUSDT=fetch-ai)", parameters=("markets",))
        out[symbol] = coin
    return out


def _index(markets: Sequence) -> dict[str, object]:
    """Exchange markets by upper-cased unified symbol and by exchange id."""
    found: dict[str, object] = {}
    for market in markets:
        found.setdefault(market.exchange_symbol.upper(), market)
        # OKX says FET-USDT, others FET_USDT: FETUSDT names them all.
        found.setdefault(market.exchange_symbol.upper().replace("-", "").replace("_", ""), market)
        found[market.symbol.upper()] = market
    return found


def _mapped(market, coin_id: str, exchange: str, how: str) -> MappedMarket:
    return MappedMarket(coin_id, exchange, market.symbol, market.exchange_symbol, market.base.upper(), market.quote.upper(),
                        how, bool(market.active))


def _preferred(candidates: list[MappedMarket]) -> list[MappedMarket]:
    """The markets with the best quote (see :data:`QUOTE_PREFERENCE`), inactive ones first."""
    for quote in QUOTE_PREFERENCE:
        chosen = [m for m in candidates if m.quote == quote]
        if chosen:
            return sorted(chosen, key=lambda m: (bool(m.active), m.symbol))
    return []


def flag_markets(flags: Mapping[str, str], exchange: str, markets: Sequence) -> list[MappedMarket]:
    """The markets ``--market`` names; one it does not know is an InputError naming ``markets``."""
    index = _index(markets)
    out = []
    for symbol, coin in flags.items():
        market = index.get(symbol.upper())
        if market is None:
            raise InputError(f"`markets`: {symbol} is not a market on {exchange} (give its id, e.g. FETUSDT, or FET/USDT)",
                             parameters=("markets",))
        out.append(_mapped(market, coin, exchange, "flag"))
    return out


def stored_markets(stored: pd.DataFrame, coin_id: str) -> list[MappedMarket]:
    """A coin's markets from an earlier run's ``coin_markets`` rows (already the preferred quote)."""
    rows = stored[stored["coin_id"] == coin_id]
    out = [MappedMarket(coin_id, r.exchange, r.symbol, r.exchange_symbol or r.symbol.replace("/", ""), r.base, r.quote,
                        r.mapped_by, None if pd.isna(r.active) else bool(r.active)) for r in rows.itertuples()]
    return _preferred(out)


def ticker_markets(tickers: pd.DataFrame, coin_id: str, exchange: str, markets: Sequence) -> list[MappedMarket]:
    """The coin's markets on ``exchange`` that CoinGecko's tickers name and the exchange lists."""
    index = _index(markets)
    out = []
    for row in tickers.itertuples():
        if row.exchange != exchange:
            continue
        market = index.get(f"{row.base}/{row.target}".upper()) or index.get(f"{row.base}{row.target}".upper())
        if market is not None:
            found = _mapped(market, coin_id, exchange, "coingecko-tickers")
            if row.is_stale and found.active:
                found = MappedMarket(**{**found.__dict__, "active": False})
            out.append(found)
    return _preferred(list({m.symbol: m for m in out}.values()))


def list_markets(symbol: str | None, owners: Sequence[str], coin_id: str, exchange: str, markets: Sequence) -> list[MappedMarket]:
    """The exchange's markets with ``symbol`` as base, when no other stored coin has that symbol."""
    if not symbol or any(owner != coin_id for owner in owners):
        return []
    return _preferred([_mapped(m, coin_id, exchange, "exchange-list") for m in markets if m.base.upper() == symbol.upper()])


def resolve(coins: Sequence[str], *, exchange: str, markets: Sequence, flags: Mapping[str, str], stored: pd.DataFrame,
            symbols: Mapping[str, str], owners: Mapping[str, list[str]],
            tickers: Callable[[str], pd.DataFrame | None] | None,
            progress: Callable[[int, int, str], None] | None = None) -> MarketMapping:
    """Map ``coins`` (and the coins ``flags`` name) to markets on ``exchange`` by the rules above.

    Parameters
    ----------
    markets:
        The exchange's market list (objects with symbol, exchange_symbol, base, quote, active).
    stored:
        ``coin_markets`` rows of this exchange from earlier runs.
    symbols, owners:
        Each coin's stored symbol, and the stored coins per symbol (to tell an unambiguous one).
    tickers:
        Fetches a coin's CoinGecko tickers (None when CoinGecko cannot be asked: an error).
    progress:
        Called as ``progress(done, total, coin)`` after each coin (a first mapping can take
        minutes on a keyless CoinGecko plan).
    """
    result = MarketMapping()
    flagged = flag_markets(flags, exchange, markets)
    result.markets.extend(flagged)
    done = {m.coin_id for m in flagged}
    bases = {m.base.upper() for m in markets}
    wanted = list(dict.fromkeys(coins))
    for number, coin in enumerate(wanted, 1):
        if progress is not None:
            progress(number, len(wanted), coin)
        if coin in done:
            continue
        found = stored_markets(stored, coin) if not stored.empty else []
        symbol = symbols.get(coin)
        if not found and tickers is not None and (symbol is None or symbol.upper() in bases):
            answer = tickers(coin)
            if answer is not None:
                found = ticker_markets(answer, coin, exchange, markets)
        if not found:
            found = list_markets(symbol, owners.get(symbol or "", []), coin, exchange, markets)
        if found:
            result.markets.extend(found)
        else:
            result.unmapped[coin] = f"no market found for symbol {symbol.upper()}" if symbol else "symbol unknown, no ticker found"
    return result


__all__ = ["MAPPED_BY", "QUOTE_PREFERENCE", "MappedMarket", "MarketMapping", "flag_markets", "list_markets",
           "parse_market_flags", "resolve", "stored_markets", "ticker_markets"]
