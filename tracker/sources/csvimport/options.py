"""What an import may be told (:class:`ImportOptions`), the names it recognises, and the checks of the options."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping

from ...errors import InputError
from ..csvread import check_coin_id

LAYOUTS = ("auto", "coingecko", "long", "wide", "series")
LABELS = ("auto", "close-of-period", "instant")
GRANULARITIES = ("auto", "daily", "hourly", "15m", "5m")
UNMAPPED_POLICIES = ("refuse", "skip")

PERIODS = {
    "daily": timedelta(days=1),
    "hourly": timedelta(hours=1),
    "15m": timedelta(minutes=15),
    "5m": timedelta(minutes=5),
}
# The API ingester's source name; an import under it would overwrite (and be mistaken for) API rows.
RESERVED_SOURCES = ("coingecko",)

# Column names recognised without options (compared lower-cased, spaces as underscores), best
# first; the time columns are csvread's, shared by every importer.
PRICE_COLUMNS = ("close", "price", "close_price")
SYMBOL_COLUMNS = ("symbol", "coin", "ticker", "asset")
COIN_ID_COLUMNS = ("coin_id",)
MARKET_CAP_COLUMNS = ("market_cap", "marketcap", "market_cap_usd")
# Only volumes in the quote currency: a plain `volume` is usually in base-coin units on exchanges
# (freqtrade, Bybit, Hyperliquid), which is not what `total_volume` means. Name it to use it.
VOLUME_COLUMNS = ("total_volume", "volume_usd", "volume_usdt", "quote_volume", "quote_asset_volume")

_CURRENCY = re.compile(r"^[a-z]{2,10}$")


@dataclass(frozen=True)
class ImportOptions:
    """How to read one CSV file.

    Parameters
    ----------
    layout:
        ``auto`` (from the header), ``coingecko``, ``long``, ``wide`` or ``series``.
    coin_id:
        The coin of a ``coingecko`` or ``series`` file (or of the single symbol of a ``long`` file).
    symbol:
        The symbol recorded in ``coins`` for ``coin_id`` when the coin is new there.
    mapping:
        Symbol -> CoinGecko coin id, for ``long`` and ``wide`` files (keys compared upper-cased;
        a pair such as ``FETUSDT`` also matches a mapped ``FET``).
    unmapped:
        ``refuse`` the file when a symbol has no mapping, or ``skip`` that symbol (reported).
    label:
        ``close-of-period`` (rows are labelled by the start of the period whose close they give:
        stored at the period's end), ``instant`` (stored as is), or ``auto``.
    granularity:
        ``daily``, ``hourly``, ``15m``, ``5m``, or ``auto`` (from the median spacing of the times).
    source:
        Recorded in every row; default ``csv:<file name>``. ``coingecko`` is reserved for the API.
    vs_currency:
        The quote currency stored; default ``usd``. USDT-quoted files are stored as ``usd`` unless
        ``usdt`` is given.
    time_column, price_column, symbol_column, market_cap_column, volume_column:
        Column names, overriding the recognised ones. ``"none"`` turns market cap or volume off.
    time_format:
        A ``strftime`` format for times that are not ISO 8601, epoch seconds/milliseconds or
        ``YYYY-MM-DD-HH:MM:SS``. Times without a zone are UTC.
    start, end:
        Keep only rows whose label time lies in ``[start, end]`` (a date ``end`` includes that day).
    """

    layout: str = "auto"
    coin_id: str | None = None
    symbol: str | None = None
    mapping: Mapping[str, str] = field(default_factory=dict)
    unmapped: str = "refuse"
    label: str = "auto"
    granularity: str = "auto"
    source: str | None = None
    vs_currency: str = "usd"
    time_column: str | None = None
    price_column: str | None = None
    symbol_column: str | None = None
    market_cap_column: str | None = None
    volume_column: str | None = None
    time_format: str | None = None
    start: datetime | None = None
    end: datetime | None = None


# The options of a plain import; shared as a default argument, which is safe because it is frozen.
DEFAULT_OPTIONS = ImportOptions()


def check_options(options: ImportOptions, path: Path) -> tuple[str, str]:
    """The quote currency and the source name to store, or a one-line InputError."""
    for name, value, allowed in (
        ("layout", options.layout, LAYOUTS),
        ("label", options.label, LABELS),
        ("granularity", options.granularity, GRANULARITIES),
        ("unmapped", options.unmapped, UNMAPPED_POLICIES),
    ):
        if value not in allowed:
            raise InputError(f"{name} {value!r} is not one of {', '.join(allowed)}")
    vs_currency = options.vs_currency.strip().lower()
    if not _CURRENCY.match(vs_currency):
        raise InputError(f"vs_currency {options.vs_currency!r} is not a currency code such as usd")
    source = (options.source if options.source is not None else f"csv:{path.name}").strip()
    if not source or len(source) > 200 or not source.isprintable():
        raise InputError(f"source {options.source!r} must be 1-200 printable characters")
    if source in RESERVED_SOURCES:
        raise InputError(f"source {source!r} is reserved for the CoinGecko API ingester; use e.g. coingecko-export")
    if options.coin_id is not None:
        check_coin_id(options.coin_id, "`coin_id`", ["coin_id"])
    return vs_currency, source
