"""Import price history from CSV files into ``price_history``.

Four layouts are read:

``coingecko``
    CoinGecko's website export (``snapped_at, price, market_cap, total_volume``) for one coin.
``long``
    One row per coin and time: a time column, a symbol (or ``coin_id``) column, a close/price
    column, and optionally market cap and volume.
``wide``
    A time column and one column of closes per symbol (e.g. Binance daily closes).
``series``
    One coin per file: a time column and a close/price column, e.g. Binance ``open_time,close``
    hourly candles, freqtrade, CryptoDataDownload, Bybit or Hyperliquid OHLCV files.

Time semantics
--------------
``price_history.ts`` is the *instant* a price was observed. Exchange candles are labelled by
the *start* of their period, but their close is observed at its *end*, so with
``label='close-of-period'`` a row labelled D (daily) is stored at D + 1 day 00:00 UTC and an
hourly candle opening at T is stored at T + 1 hour. Then the ``daily_prices`` view gives close(D)
for day D. With ``label='instant'`` the time is stored as it is (CoinGecko's export: its
``2024-02-15 00:00:00 UTC`` point is the price at that instant, i.e. the close of 2024-02-14).
``label='auto'`` decides from the layout and the time column and refuses when it cannot tell.

The whole file is read and checked before anything is written; every bad row is reported with
its line number. A checked file becomes one :class:`~tracker.ingest.Batch`, stored by the same
writer as every ingest job (:func:`tracker.ingest.write_batch`): the rows, any new ``coins`` rows
and the ``ingest_runs`` record are written in one transaction, so a file lands whole or not at
all, and while the database is locked the batch can wait in the spool. Re-importing a file
replaces its rows (same coin, currency, source and time) and adds none.

Modules: ``options`` (what an import may be told), ``assemble`` (one text row per coin and line,
whatever the layout), ``checks`` (cells, times, duplicates), ``prepare`` (a whole file checked
into rows) and ``write`` (the batch and its writing). Reading the text (cells with line numbers,
times, symbol mappings) is ``tracker.sources.csvread``'s job.
"""
from __future__ import annotations

from ..csvread import BadRow, CsvImportError, parse_mapping, read_mapping_file
from .options import GRANULARITIES, LABELS, LAYOUTS, UNMAPPED_POLICIES, ImportOptions
from .prepare import PreparedImport, prepare_import
from .write import ImportResult, import_batch, import_csv, write_import

__all__ = [
    "GRANULARITIES",
    "LABELS",
    "LAYOUTS",
    "UNMAPPED_POLICIES",
    "BadRow",
    "CsvImportError",
    "ImportOptions",
    "ImportResult",
    "PreparedImport",
    "import_batch",
    "import_csv",
    "parse_mapping",
    "prepare_import",
    "read_mapping_file",
    "write_import",
]
