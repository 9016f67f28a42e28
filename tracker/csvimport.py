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
its line number, and the rows, any new ``coins`` rows and the ``ingest_runs`` record are written
in one transaction, so a file lands whole or not at all. Re-importing a file replaces its rows
(same coin, currency, source and time) and adds none.

Reading the text (cells with line numbers, times, symbol mappings) is ``tracker.csvread``'s job.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

import storage
from storage import Database

from .csvread import (
    TIME_COLUMNS,
    BadRow,
    CsvImportError,
    Table,
    check_coin_id,
    check_file,
    find_column,
    lookup_symbol,
    normalised_name,
    parse_mapping,
    parse_times,
    read_mapping_file,
    read_table,
)
from .errors import InputError
from .runs import RunRecord, record_run, utcnow
from .values import AMOUNT, PRICE, bad_values, describe

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
    "import_csv",
    "parse_mapping",
    "prepare_import",
    "read_mapping_file",
    "write_import",
]

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

# Column names recognised without options (compared lower-cased, spaces as underscores), best first.
PRICE_COLUMNS = ("close", "price", "close_price")
SYMBOL_COLUMNS = ("symbol", "coin", "ticker", "asset")
COIN_ID_COLUMNS = ("coin_id",)
MARKET_CAP_COLUMNS = ("market_cap", "marketcap", "market_cap_usd")
# Only volumes in the quote currency: a plain `volume` is usually in base-coin units on exchanges
# (freqtrade, Bybit, Hyperliquid), which is not what `total_volume` means. Name it to use it.
VOLUME_COLUMNS = ("total_volume", "volume_usd", "volume_usdt", "quote_volume", "quote_asset_volume")

_CURRENCY = re.compile(r"^[a-z]{2,10}$")
_DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_EARLIEST = datetime(2009, 1, 3)  # the Bitcoin genesis block: no crypto price is older
_MAX_PROBLEMS_SHOWN = 5


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


@dataclass
class PreparedImport:
    """A checked file, ready to write: ``rows`` has the ``price_history`` columns."""

    path: Path
    layout: str
    label: str
    granularity: str
    source: str
    vs_currency: str
    time_column: str
    rows: pd.DataFrame
    coins: pd.DataFrame  # coin_id, symbol
    rows_read: int  # data lines in the file
    empty_cells: int  # wide cells (or rows) with no price: the pair was not listed then
    duplicates: int  # rows repeating another row exactly (same coin, time and values)
    filtered_out: int  # rows outside start/end
    skipped_symbols: list[str] = field(default_factory=list)

    def per_coin(self) -> pd.DataFrame:
        if self.rows.empty:
            return pd.DataFrame(columns=["coin_id", "symbol", "rows", "first_ts", "last_ts"])
        grouped = self.rows.groupby("coin_id", sort=True)["ts"].agg(rows="size", first_ts="min", last_ts="max").reset_index()
        return grouped.merge(self.coins, on="coin_id", how="left")[["coin_id", "symbol", "rows", "first_ts", "last_ts"]]


@dataclass
class ImportResult:
    """What an import wrote (``run_id`` is None for a dry run, which writes nothing)."""

    prepared: PreparedImport
    written: int = 0
    replaced: int = 0
    new_coins: int = 0
    run_id: str | None = None
    replaced_per_coin: dict[str, int] = field(default_factory=dict)

    @property
    def inserted(self) -> int:
        return self.written - self.replaced

    def summary(self) -> dict:
        p = self.prepared
        return {
            "file": p.path.name,
            "layout": p.layout,
            "label": p.label,
            "granularity": p.granularity,
            "source": p.source,
            "vs_currency": p.vs_currency,
            "rows_read": p.rows_read,
            "prices": len(p.rows),
            "written": self.written,
            "inserted": self.inserted,
            "replaced": self.replaced,
            "duplicates": p.duplicates,
            "empty_cells": p.empty_cells,
            "filtered_out": p.filtered_out,
            "skipped_symbols": ",".join(p.skipped_symbols),
            "new_coins": self.new_coins,
            "dry_run": self.run_id is None,
            "run_id": self.run_id,
        }

    def coins_table(self) -> pd.DataFrame:
        """Per coin: rows, first and last ``ts`` stored, and (unless a dry run) how many were new or replaced."""
        table = self.prepared.per_coin()
        if self.run_id is None:
            return table
        replaced = table["coin_id"].map(lambda c: int(self.replaced_per_coin.get(c, 0))).astype("int64")
        table.insert(3, "inserted", table["rows"] - replaced)
        table.insert(4, "replaced", replaced)
        return table


# --- layout, granularity and what a row's time means ------------------------------------------


def _detect_layout(table: Table, options: ImportOptions, path: Path) -> str:
    header = table.header
    names = {normalised_name(h) for h in header}
    if options.layout != "auto":
        return options.layout
    if {"snapped_at", "price"} <= names:
        return "coingecko"
    if options.symbol_column or names & set(SYMBOL_COLUMNS + COIN_ID_COLUMNS):
        return "long"
    if options.price_column or names & set(PRICE_COLUMNS):
        return "series"
    if len(header) >= 2:
        return "wide"
    raise CsvImportError(f"{path.name} has only the column {header[0]!r}; a price file needs a time and a price column")


def _infer_granularity(frame: pd.DataFrame, path: Path) -> str:
    """The period whose length is nearest the median spacing of each coin's times (within 10%)."""
    spacings = []
    for _, times in frame.groupby("coin_id", sort=False)["label"]:
        values = np.unique(times.to_numpy())
        if len(values) > 1:
            spacings.append(np.diff(values).astype("timedelta64[s]").astype(np.int64))
    if not spacings:
        raise CsvImportError(f"{path.name}: cannot infer the granularity from one row per coin; give --granularity daily|hourly|15m|5m")
    median = float(np.median(np.concatenate(spacings)))
    for name, period in PERIODS.items():
        if abs(median - period.total_seconds()) <= 0.1 * period.total_seconds():
            return name
    raise CsvImportError(
        f"{path.name}: rows are {timedelta(seconds=round(median))} apart (median), which is not daily, hourly, "
        f"15m or 5m; give --granularity"
    )


def _resolve_label(options: ImportOptions, layout: str, time_column: str, raw_times: pd.Series, labels: pd.Series, path: Path) -> str:
    if options.label != "auto":
        return options.label
    if layout == "coingecko":
        return "instant"  # CoinGecko snaps prices at instants; 00:00 is the previous day's close
    name = normalised_name(time_column)
    if "open" in name or "start" in name:
        return "close-of-period"
    if any(word in name for word in ("close", "end", "snapped", "observed")):
        return "instant"
    present = pd.Series(pd.unique(raw_times[raw_times != ""]), dtype=object)
    if len(present) and present.str.match(_DATE_ONLY).all():
        return "close-of-period"  # a date names a day, not an instant
    if name in ("date", "date_utc", "day") and len(labels) and (labels == labels.dt.normalize()).all():
        return "close-of-period"
    raise CsvImportError(
        f"{path.name}: cannot tell whether column {time_column!r} holds period start times (candles) or the instants "
        f"prices were observed; give --label close-of-period or --label instant"
    )


# --- checking ---------------------------------------------------------------------------------


def _numbers(raw: pd.Series) -> pd.Series:
    return pd.to_numeric(raw.where(raw != "", None), errors="coerce")


def _check_values(frame: pd.DataFrame, columns: Mapping[str, str | None], problems: list[BadRow], *, price_required: bool) -> pd.DataFrame:
    """Parse price/market cap/volume; append problems for bad cells."""
    price = _numbers(frame["price_raw"])
    # a wide file's prices sit in one column per symbol: name that column
    where = frame["column"] if "column" in frame else pd.Series(columns["price"], index=frame.index, dtype=object)
    bad_text = price.isna() & (frame["price_raw"] != "")
    for line, column, value in zip(frame.loc[bad_text, "line"], where[bad_text], frame.loc[bad_text, "price_raw"]):
        problems.append(BadRow(int(line), column, f"price {value!r} is not a number"))
    if price_required:
        missing = frame["price_raw"] == ""
        for line, column in zip(frame.loc[missing, "line"], where[missing]):
            problems.append(BadRow(int(line), column, "no price"))
    out_of_range = bad_values(price, PRICE)
    for line, column, value in zip(frame.loc[out_of_range, "line"], where[out_of_range], frame.loc[out_of_range, "price_raw"]):
        problems.append(BadRow(int(line), column, describe(value, PRICE)))
    frame = frame.assign(price=price)
    for key, out in (("market_cap", "market_cap"), ("volume", "total_volume")):
        raw = frame.get(f"{key}_raw")
        if raw is None:
            frame[out] = np.nan
            continue
        values = _numbers(raw)
        name = key.replace("_", " ")
        unreadable = values.isna() & (raw != "")
        for line, value in zip(frame.loc[unreadable, "line"], raw[unreadable]):
            problems.append(BadRow(int(line), columns[key], f"{name} {value!r} is not a non-negative number"))
        out_of_range = bad_values(values, AMOUNT)
        for line, value in zip(frame.loc[out_of_range, "line"], raw[out_of_range]):
            problems.append(BadRow(int(line), columns[key], describe(value, AMOUNT, name, quoted=True)))
        if key == "market_cap":
            values = values.where(values != 0)  # CoinGecko's 0 means "supply unknown": store NULL
        frame[out] = values
    return frame


def _duplicates(frame: pd.DataFrame, problems: list[BadRow]) -> tuple[pd.DataFrame, int]:
    """Drop exact repeats; report times that repeat with different values."""
    repeated = frame.duplicated(["coin_id", "ts"], keep=False)
    if not repeated.any():
        return frame, 0
    subset = frame[repeated]
    for (coin_id, ts), group in subset.groupby(["coin_id", "ts"], sort=False):
        values = group[["price", "market_cap", "total_volume"]].drop_duplicates()
        if len(values) > 1:
            lines = group["line"].tolist()
            for line in lines[1:]:
                problems.append(
                    BadRow(int(line), None, f"{coin_id} at {ts:%Y-%m-%d %H:%M} already given a different value on line {lines[0]}")
                )
    kept = frame.drop_duplicates(["coin_id", "ts"], keep="first")
    return kept, len(frame) - len(kept)


def _raise_problems(path: Path, problems: list[BadRow]) -> None:
    if not problems:
        return
    problems = sorted(problems, key=lambda p: p.line)
    shown = "; ".join(str(p) for p in problems[:_MAX_PROBLEMS_SHOWN])
    more = f"; and {len(problems) - _MAX_PROBLEMS_SHOWN} more" if len(problems) > _MAX_PROBLEMS_SHOWN else ""
    raise CsvImportError(f"{path.name}: {len(problems)} bad row(s), nothing imported: {shown}{more}", problems)


def _check_options(options: ImportOptions, path: Path) -> tuple[str, str]:
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
        check_coin_id(options.coin_id, "--coin")
    return vs_currency, source


# --- preparing --------------------------------------------------------------------------------


@dataclass
class _Assembled:
    """One text row per (coin, line): coin_id, symbol, line, time_raw, price_raw[, market_cap_raw, volume_raw]."""

    frame: pd.DataFrame
    columns: dict[str, str | None]  # which file column gave the time, price, market cap, volume, symbol
    empty_cells: int = 0
    skipped: list[str] = field(default_factory=list)


def _assemble(table: Table, layout: str, options: ImportOptions, path: Path, problems: list[BadRow]) -> _Assembled:
    time_column = find_column(table.header, options.time_column, ("snapped_at",) if layout == "coingecko" else TIME_COLUMNS, "time", path)
    if time_column is None:
        raise CsvImportError(f"{path.name}: no time column found (columns: {', '.join(table.header)}); name it with --time-column")
    if layout == "wide":
        return _assemble_wide(table, time_column, options, path)
    return _assemble_rows(table, layout, time_column, options, path, problems)


def _assemble_wide(table: Table, time_column: str, options: ImportOptions, path: Path) -> _Assembled:
    if options.coin_id:
        raise CsvImportError(f"{path.name} is a wide file (one column per symbol); map its columns with --map SYMBOL=coin-id")
    lines = pd.Series(table.lines)
    times = pd.Series(table.columns[time_column], dtype=object)
    parts, skipped, empty = [], [], 0
    column_of: dict[str, str] = {}
    for name in table.header:
        if name == time_column:
            continue
        coin_id, symbol = lookup_symbol(name, options.mapping)
        if coin_id is None:
            skipped.append(name)
            continue
        if coin_id in column_of:
            raise CsvImportError(f"{path.name}: columns {column_of[coin_id]!r} and {name!r} both map to {coin_id}")
        column_of[coin_id] = name
        prices = pd.Series(table.columns[name], dtype=object)
        present = prices != ""  # an empty cell: the pair was not listed then
        empty += int((~present).sum())
        parts.append(pd.DataFrame({
            "coin_id": coin_id, "symbol": symbol, "column": name,
            "line": lines[present].to_numpy(), "time_raw": times[present].to_numpy(), "price_raw": prices[present].to_numpy(),
        }))
    if skipped and options.unmapped == "refuse":
        raise CsvImportError(
            f"{path.name}: no coin id for column(s) {', '.join(skipped)}; map them with --map SYMBOL=coin-id "
            f"or pass --unmapped skip"
        )
    if not parts:
        others = ", ".join(h for h in table.header if h != time_column)
        raise CsvImportError(f"{path.name}: none of the columns {others} is mapped to a coin id; use --map SYMBOL=coin-id")
    return _Assembled(pd.concat(parts, ignore_index=True), {"time": time_column, "price": None}, empty, skipped)


def _assemble_rows(table: Table, layout: str, time_column: str, options: ImportOptions, path: Path, problems: list[BadRow]) -> _Assembled:
    """coingecko, series and long files: one price per line."""
    header = table.header
    recognised = {"coingecko": (("price",), ("market_cap",), ("total_volume",))}.get(layout, (PRICE_COLUMNS, MARKET_CAP_COLUMNS, VOLUME_COLUMNS))
    price_column = find_column(header, options.price_column, recognised[0], "price", path)
    if price_column is None:
        raise CsvImportError(f"{path.name}: no price column found (columns: {', '.join(header)}); name it with --price-column")
    columns = {
        "time": time_column,
        "price": price_column,
        "market_cap": find_column(header, options.market_cap_column, recognised[1], "market cap", path),
        "volume": find_column(header, options.volume_column, recognised[2], "volume", path),
    }
    text = {"time_raw": time_column, "price_raw": price_column, "market_cap_raw": columns["market_cap"], "volume_raw": columns["volume"]}
    frame = pd.DataFrame({"line": table.lines})
    for name, column in text.items():
        if column is not None:
            frame[name] = pd.Series(table.columns[column], dtype=object)

    if layout in ("coingecko", "series"):
        if not options.coin_id:
            raise CsvImportError(f"{path.name} holds one coin's prices ({layout} layout); name the coin with --coin (e.g. --coin fetch-ai)")
        frame["coin_id"] = options.coin_id.strip()
        frame["symbol"] = options.symbol.strip().upper() if options.symbol else None
        return _Assembled(frame, columns)

    symbol_column = find_column(header, options.symbol_column, SYMBOL_COLUMNS + COIN_ID_COLUMNS, "symbol", path)
    if symbol_column is None:
        raise CsvImportError(f"{path.name}: no symbol column found; name it with --symbol-column")
    columns["symbol"] = symbol_column
    symbols = pd.Series(table.columns[symbol_column], dtype=object)
    for line in frame.loc[(symbols == "").to_numpy(), "line"]:
        problems.append(BadRow(int(line), symbol_column, "no symbol"))
    distinct = sorted(set(symbols[symbols != ""]))
    if normalised_name(symbol_column) in COIN_ID_COLUMNS and not options.mapping:
        resolved = {s: (check_coin_id(s, f"{path.name} {symbol_column}"), None) for s in distinct}
    else:
        mapping = dict(options.mapping)
        if options.coin_id:
            if len(distinct) != 1:
                raise CsvImportError(f"{path.name} has {len(distinct)} symbols ({', '.join(distinct[:5])}); --coin fits one, use --map")
            mapping.setdefault(distinct[0].upper(), options.coin_id.strip())
        resolved = {s: lookup_symbol(s, mapping) for s in distinct}
    skipped = [s for s, (coin_id, _) in resolved.items() if coin_id is None]
    if skipped and options.unmapped == "refuse":
        raise CsvImportError(
            f"{path.name}: no coin id for symbol(s) {', '.join(skipped[:10])}{' ...' if len(skipped) > 10 else ''}; "
            f"map them with --map SYMBOL=coin-id or pass --unmapped skip"
        )
    frame["coin_id"] = symbols.map({s: coin_id for s, (coin_id, _) in resolved.items()}).to_numpy()
    frame["symbol"] = symbols.map({s: symbol for s, (_, symbol) in resolved.items()}).to_numpy()
    frame = frame[frame["coin_id"].notna().to_numpy() | (symbols == "").to_numpy()].reset_index(drop=True)
    if frame["coin_id"].notna().sum() == 0 and not problems:
        raise CsvImportError(f"{path.name}: none of its symbols is mapped to a coin id; use --map SYMBOL=coin-id")
    return _Assembled(frame, columns, skipped=skipped)


def _filter_range(frame: pd.DataFrame, options: ImportOptions) -> tuple[pd.DataFrame, int]:
    keep = pd.Series(True, index=frame.index)
    if options.start is not None:
        keep &= frame["label"] >= pd.Timestamp(options.start)
    if options.end is not None:
        end = pd.Timestamp(options.end)
        if end == end.normalize():
            keep &= frame["label"] < end + pd.Timedelta(days=1)  # a date includes its whole day
        else:
            keep &= frame["label"] <= end
    return frame[keep], int((~keep).sum())


def prepare_import(path: str | Path, options: ImportOptions = ImportOptions(), *, progress: Callable[[int], None] | None = None) -> PreparedImport:
    """Read and check a whole CSV file; raise :class:`CsvImportError` listing bad rows, write nothing.

    Parameters
    ----------
    path:
        The CSV file.
    options:
        How to read it (see :class:`ImportOptions`).
    progress:
        Called now and then with the number of bytes read so far.

    Returns
    -------
    PreparedImport
        The ``price_history`` rows (``ts`` as naive UTC instants) and the coins they belong to.
    """
    path = check_file(Path(path), "CSV file")
    vs_currency, source = _check_options(options, path)
    table = read_table(path, progress)
    if not len(table.lines) and not table.problems:
        raise CsvImportError(f"{path.name}: no price rows to import (only a header)")
    layout = _detect_layout(table, options, path)
    problems = list(table.problems)
    assembled = _assemble(table, layout, options, path, problems)
    frame, columns = assembled.frame, assembled.columns
    rows_read = len(table.lines) + len(table.problems)

    labels = parse_times(frame["time_raw"], options.time_format)
    bad_time = labels.isna()
    for line, value in zip(frame.loc[bad_time, "line"], frame.loc[bad_time, "time_raw"]):
        message = "no time" if value == "" else f"time {value!r} not understood" + ("" if options.time_format else " (give --time-format)")
        problems.append(BadRow(int(line), columns["time"], message))
    latest = pd.Timestamp(utcnow()) + pd.Timedelta(days=2)
    out_of_range = labels.notna() & ((labels < pd.Timestamp(_EARLIEST)) | (labels > latest))
    for line, value in zip(frame.loc[out_of_range, "line"], frame.loc[out_of_range, "time_raw"]):
        problems.append(BadRow(int(line), columns["time"], f"time {value!r} is before 2009 or in the future"))
    frame = frame.assign(label=labels)
    frame = _check_values(frame, columns, problems, price_required=layout != "wide")
    _raise_problems(path, problems)

    frame, filtered_out = _filter_range(frame, options)
    if frame.empty:
        raise CsvImportError(f"{path.name}: no price rows to import" + (" in the --start/--end range" if filtered_out else ""))
    granularity = options.granularity if options.granularity != "auto" else _infer_granularity(frame, path)
    label = _resolve_label(options, layout, columns["time"], frame["time_raw"], frame["label"], path)
    shift = PERIODS[granularity] if label == "close-of-period" else timedelta(0)
    frame["ts"] = frame["label"] + pd.Timedelta(shift)
    frame, duplicates = _duplicates(frame, problems)
    _raise_problems(path, problems)

    frame = frame.sort_values(["coin_id", "ts"], kind="stable").reset_index(drop=True)
    is_partial = np.zeros(len(frame), dtype=bool)
    if layout == "coingecko" and granularity == "daily":
        # The export ends with the live price at download time: a "now" point, not a day close.
        last = ~frame.duplicated("coin_id", keep="last")
        is_partial = (last & (frame["ts"] != frame["ts"].dt.normalize())).to_numpy()
    rows = pd.DataFrame({
        "coin_id": frame["coin_id"].astype(str),
        "vs_currency": vs_currency,
        "ts": frame["ts"].astype("datetime64[us]"),
        "price": frame["price"].astype(float),
        "market_cap": frame["market_cap"].astype(float),
        "total_volume": frame["total_volume"].astype(float),
        "granularity": granularity,
        "is_partial": is_partial,
        "source": source,
    })
    coins = (
        frame[["coin_id", "symbol"]].drop_duplicates("coin_id").sort_values("coin_id").reset_index(drop=True)
    )
    return PreparedImport(
        path=path, layout=layout, label=label, granularity=granularity, source=source, vs_currency=vs_currency,
        time_column=columns["time"], rows=rows, coins=coins, rows_read=rows_read, empty_cells=assembled.empty_cells,
        duplicates=duplicates, filtered_out=filtered_out, skipped_symbols=assembled.skipped,
    )


# --- writing ----------------------------------------------------------------------------------

_KEYS = "__import_keys"


def write_import(db: Database, prepared: PreparedImport) -> ImportResult:
    """Write a prepared file in one transaction: its rows, coins new to ``coins``, and an ``ingest_runs`` row.

    Returns
    -------
    ImportResult
        Rows written and replaced (in total and per coin), coins added, and the run id.
    """
    run = RunRecord(job="import")
    now = utcnow()
    rows = prepared.rows.assign(ingested_at=now)
    keys = pa.Table.from_pandas(rows[["coin_id", "vs_currency", "source", "ts"]], preserve_index=False)
    with db.transaction() as con:
        known = {
            r[0] for r in con.execute("SELECT coin_id FROM coins WHERE list_contains(?, coin_id)", [prepared.coins["coin_id"].tolist()]).fetchall()
        }
        new_coins = prepared.coins[~prepared.coins["coin_id"].isin(known)]
        if not new_coins.empty:
            storage.upsert(
                con,
                "coins",
                pd.DataFrame({
                    "coin_id": new_coins["coin_id"],
                    "symbol": [s.lower() if isinstance(s, str) else None for s in new_coins["symbol"]],
                    "updated_at": now,
                }),
            )
        con.register(_KEYS, keys)
        try:
            replaced_per_coin = dict(
                con.execute(
                    f"SELECT k.coin_id, count(*) FROM {_KEYS} k JOIN price_history p "
                    "ON p.coin_id = k.coin_id AND p.vs_currency = k.vs_currency AND p.source = k.source AND p.ts = k.ts "
                    "GROUP BY k.coin_id"
                ).fetchall()
            )
        finally:
            con.unregister(_KEYS)
        result = storage.upsert(con, "price_history", rows)
        run.rows = result.written
        run.details = {
            "file": str(prepared.path.resolve()),
            "layout": prepared.layout,
            "label": prepared.label,
            "granularity": prepared.granularity,
            "source": prepared.source,
            "vs_currency": prepared.vs_currency,
            "coins": prepared.coins["coin_id"].tolist(),
            "replaced": result.replaced,
            "new_coins": len(new_coins),
        }
        record_run(con, run.finish("ok"))
    return ImportResult(
        prepared=prepared,
        written=result.written,
        replaced=result.replaced,
        new_coins=len(new_coins),
        run_id=run.run_id,
        replaced_per_coin={k: int(v) for k, v in replaced_per_coin.items()},
    )


def import_csv(db: Database | None, path: str | Path, options: ImportOptions = ImportOptions(), *, dry_run: bool = False, progress: Callable[[int], None] | None = None) -> ImportResult:
    """Check a whole CSV file, then write it in one transaction (nothing at all when ``dry_run``).

    Parameters
    ----------
    db:
        The database (may be None for a dry run).
    path, options, progress:
        As for :func:`prepare_import`.
    dry_run:
        Only read and check the file.

    Examples
    --------
    >>> result = import_csv(db, "FETUSDT_1h_close.csv", ImportOptions(coin_id="fetch-ai", symbol="FET"))  # doctest: +SKIP
    >>> result.written  # doctest: +SKIP
    38000
    """
    prepared = prepare_import(path, options, progress=progress)
    if dry_run:
        return ImportResult(prepared=prepared)
    if db is None:
        raise InputError("import_csv needs a database unless dry_run=True")
    return write_import(db, prepared)
