"""The fake exchange's markets: which symbols exist, when they trade, and where their prices come from.

With a data directory (``../shared/realdata/binance_spot_hourly_mark6``) every
``<SYM>USDT_1h_close.csv`` there becomes a trading market with those real hourly closes; without
one, a small set of markets gets seeded synthetic closes. Either way the fake adds:

- ``RNDRUSDT``: renamed. Status BREAK, synthetic history from 2023-01-01 whose last hourly
  candle opens 2024-07-22 23:00 and closes at RENDER's first price (the fake's choice of date);
  ``RENDERUSDT`` trades from 2024-07-26 08:00, as in ``realdata/SOURCES.md``.
- ``OCEANUSDT``: delisted. Status BREAK, history stops after 2024-07-01 23:00.
- ``FETUSDC`` and ``FETBTC``: other quotes of FET, for quote-preference tests.

With real data the fake's clock stands, by default, where the data ends (2025-06-13 in the shared
files), so every market that still trades has candles up to "now", as on a real exchange.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

QUOTES = ("USDT", "USDC", "FDUSD", "BTC", "ETH", "BNB", "USD")
RENAME_LAST_OPEN = datetime(2024, 7, 22, 23)
RENDER_FIRST_OPEN = datetime(2024, 7, 26, 8)
RENDER_FIRST_CLOSE = 6.472
OCEAN_LAST_OPEN = datetime(2024, 7, 1, 23)


@dataclass
class Listing:
    """One spot market. ``last_open`` (the last hourly candle's open) ends a delisted or renamed one."""

    symbol: str
    base: str
    quote: str
    first_open: datetime
    last_open: datetime | None = None
    status: str = "TRADING"
    csv: Path | None = None          # real hourly closes (open_time,close)
    start_price: float = 1.0         # synthetic walks start here ...
    end_price: float | None = None   # ... or are scaled to end here
    scale_of: str | None = None      # synthetic: the closes of this symbol times ``scale``
    scale: float = 1.0
    gaps: list[tuple[int, int]] = field(default_factory=list)  # [start ms, end ms) with no candles

    @property
    def inst_id(self) -> str:
        """OKX's form: FET-USDT."""
        return f"{self.base}-{self.quote}"


def _extras(first_fet: datetime) -> list[Listing]:
    return [
        Listing("RNDRUSDT", "RNDR", "USDT", datetime(2023, 1, 1), last_open=RENAME_LAST_OPEN, status="BREAK",
                start_price=2.0, end_price=RENDER_FIRST_CLOSE),
        Listing("OCEANUSDT", "OCEAN", "USDT", datetime(2021, 1, 1), last_open=OCEAN_LAST_OPEN, status="BREAK", start_price=0.45),
        Listing("FETUSDC", "FET", "USDC", max(first_fet, datetime(2023, 3, 1)), scale_of="FETUSDT", scale=1.0004),
        Listing("FETBTC", "FET", "BTC", max(first_fet, datetime(2021, 1, 1)), start_price=0.0000075),
    ]


def synthetic_listings() -> list[Listing]:
    """The markets of a fake without real data."""
    start = datetime(2021, 1, 1)
    return [
        Listing("BTCUSDT", "BTC", "USDT", start, start_price=29000.0),
        Listing("ETHUSDT", "ETH", "USDT", start, start_price=730.0),
        Listing("FETUSDT", "FET", "USDT", start, start_price=0.053),
        Listing("NEARUSDT", "NEAR", "USDT", start, start_price=1.36),
        Listing("WLDUSDT", "WLD", "USDT", datetime(2023, 7, 24, 7), start_price=2.2),
        Listing("RENDERUSDT", "RENDER", "USDT", RENDER_FIRST_OPEN, start_price=RENDER_FIRST_CLOSE),
        *_extras(start),
    ]


def real_listings(data_dir: Path) -> list[Listing]:
    """Every ``<SYM>_1h_close.csv`` of ``data_dir`` as a trading market, plus the extras."""
    found = []
    for path in sorted(Path(data_dir).glob("*_1h_close.csv")):
        symbol = path.name[: -len("_1h_close.csv")]
        quote = next((q for q in QUOTES if symbol.endswith(q) and len(symbol) > len(q)), None)
        if quote is None:
            continue
        with open(path) as handle:
            handle.readline()
            first = handle.readline().split(",")[0]
        found.append(Listing(symbol, symbol[: -len(quote)], quote, datetime.fromisoformat(first), csv=path))
    if not found:
        raise ValueError(f"no <SYMBOL>_1h_close.csv files in {data_dir}")
    fet = next((x.first_open for x in found if x.symbol == "FETUSDT"), datetime(2021, 1, 1))
    names = {x.symbol for x in found}
    return found + [x for x in _extras(fet) if x.symbol not in names and (x.scale_of is None or x.scale_of in names)]


def data_end(listings) -> datetime:
    """The close of the last hourly candle in any of the CSV files (their last line)."""
    from datetime import timedelta

    last = datetime(1970, 1, 1)
    for listing in listings:
        if listing.csv is not None:
            with open(listing.csv, "rb") as handle:
                handle.seek(0, 2)
                handle.seek(max(0, handle.tell() - 200))
                line = handle.read().decode().strip().splitlines()[-1]
            last = max(last, datetime.fromisoformat(line.split(",")[0]))
    return last + timedelta(hours=1)


__all__ = ["Listing", "data_end", "real_listings", "synthetic_listings"]
