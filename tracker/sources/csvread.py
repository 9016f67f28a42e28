"""Reading CSV text for every importer: files, cells with their line numbers, column names,
symbol-to-coin-id mappings and times.

The price importer (``tracker.sources.csvimport``), the outside series (``tracker.analysis.correlation.external``)
and the event-study files (``tracker.analysis.eventstudy.files``) all find their time column by the
same names, :data:`TIME_COLUMNS`. Nothing here knows about layouts or the database.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError, first_line
from ..utc import naive_values

__all__ = [
    "TIME_COLUMNS",
    "BadRow",
    "CsvImportError",
    "Table",
    "UnreadableCsvError",
    "check_coin_id",
    "check_file",
    "find_column",
    "find_time_column",
    "lookup_symbol",
    "normalised_name",
    "parse_mapping",
    "parse_times",
    "read_mapping_file",
    "read_table",
    "read_text_frame",
]

# Names of the column that holds the time, in the order they are looked for (after
# ``normalised_name``). Candle files name their opening time (open_time, start_time) first so
# that a close_time beside it is never taken for the label.
TIME_COLUMNS = (
    "snapped_at", "open_time", "start_time", "timestamp", "datetime", "date_utc", "date", "time", "ts", "day", "hour",
    "period",
)

# Quote suffixes stripped from pair symbols (FETUSDT, FET-USDT, FET/USDT) when only the base is mapped.
_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_EPOCH = re.compile(r"^\d+(\.\d+)?$")


class CsvImportError(InputError):
    """A file that cannot be imported; ``problems`` lists every bad row found."""

    def __init__(self, message: str, problems: Sequence["BadRow"] = (), *, parameters: Iterable[str] = ()):
        super().__init__(message, parameters=parameters)
        self.problems = list(problems)


@dataclass(frozen=True)
class BadRow:
    """One problem in a file: its 1-based line number (the header is line 1), column and what is wrong."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f" ({self.column})" if self.column else "")
        return f"{where}: {self.message}"




# --- mappings ---------------------------------------------------------------------------------


def check_coin_id(coin_id: str, where: str, parameters: Sequence[str] = ()) -> str:
    """``parameters``: the library parameters ``where`` names (as `name`), for the CLI's flags."""
    coin_id = coin_id.strip()
    if not _SLUG.match(coin_id):
        raise InputError(f"{where}: {coin_id!r} is not a CoinGecko coin id (lower-case, e.g. fetch-ai)", parameters=parameters)
    return coin_id


def parse_mapping(texts: str | Iterable[str]) -> dict[str, str]:
    """Parse ``"FET=fetch-ai,WLD=worldcoin-wld"`` (one string or several) into ``{"FET": "fetch-ai", ...}``."""
    if isinstance(texts, str):
        texts = [texts]
    mapping: dict[str, str] = {}
    for text in texts:
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            symbol, sep, coin_id = item.partition("=")
            if not sep or not symbol.strip() or not coin_id.strip():
                raise InputError(f"`mapping` item {item!r} is not SYMBOL=coin-id (e.g. FET=fetch-ai)", parameters=["mapping"])
            mapping[symbol.strip().upper()] = check_coin_id(coin_id, f"`mapping` {symbol.strip()}", ["mapping"])
    return mapping


def read_mapping_file(path: str | Path) -> dict[str, str]:
    """Read a CSV with columns ``symbol,coin_id`` into a mapping."""
    path = check_file(Path(path), "mapping file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
            if "symbol" not in fields or "coin_id" not in fields:
                raise InputError(f"mapping file {path} needs the columns symbol,coin_id (it has {','.join(reader.fieldnames or [])})")
            mapping: dict[str, str] = {}
            for row in reader:
                symbol = (row[fields["symbol"]] or "").strip().upper()
                coin_id = (row[fields["coin_id"]] or "").strip()
                if not symbol and not coin_id:
                    continue
                if not symbol or not coin_id:
                    raise InputError(f"mapping file {path} line {reader.line_num}: needs both a symbol and a coin_id")
                mapping[symbol] = check_coin_id(coin_id, f"mapping file {path} line {reader.line_num}")
    except UnicodeDecodeError:
        raise InputError(f"mapping file {path} is not UTF-8 text") from None
    return mapping


def lookup_symbol(symbol: str, mapping: Mapping[str, str]) -> tuple[str | None, str]:
    """The coin id for a symbol and the symbol to record: exact, else the pair's base (FETUSDT -> FET)."""
    key = symbol.strip().upper()
    if key in mapping:
        return mapping[key], key
    for quote in _QUOTES:
        for sep in ("", "-", "/", "_"):
            suffix = sep + quote
            if key.endswith(suffix) and len(key) > len(suffix) and key[: -len(suffix)] in mapping:
                return mapping[key[: -len(suffix)]], key[: -len(suffix)]
    return None, key


# --- reading ----------------------------------------------------------------------------------


def check_file(path: Path, what: str) -> Path:
    path = path.expanduser()
    if not path.exists():
        raise InputError(f"{what} {path} does not exist")
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder, not a file")
    if not path.is_file():
        raise InputError(f"{what} {path} is not a regular file")
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror}") from None
    return path


@dataclass
class Table:
    header: list[str]
    columns: dict[str, list[str]]  # by header name
    lines: np.ndarray  # 1-based line number of each data row
    problems: list[BadRow]


_PROGRESS_EVERY = 50_000  # rows between progress reports


class _CountingLines:
    """Yields a text file's lines and counts the characters read (tell() is unusable while iterating)."""

    def __init__(self, handle):
        self.handle, self.chars = handle, 0

    def __iter__(self):
        for line in self.handle:
            self.chars += len(line)
            yield line


def read_table(path: Path, progress: Callable[[int], None] | None) -> Table:
    """All cells as text, with each row's line number; rows with the wrong field count are problems."""
    problems: list[BadRow] = []
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            counted = _CountingLines(handle)
            reader = csv.reader(counted)
            header = next(reader, None)
            while header is not None and not any(cell.strip() for cell in header):
                header = next(reader, None)  # leading blank lines
            if header is None:
                raise CsvImportError(f"{path.name} is empty: no header line")
            header = [cell.strip() for cell in header]
            if any(not name for name in header):
                raise CsvImportError(f"{path.name}: the header has an empty column name (column {header.index('') + 1})")
            seen = set()
            for name in header:
                if name.lower() in seen:
                    raise CsvImportError(f"{path.name}: the header names column {name!r} twice")
                seen.add(name.lower())
            width = len(header)
            cells: list[list[str]] = [[] for _ in header]
            lines: list[int] = []
            for count, row in enumerate(reader, 1):
                if len(row) != width:
                    if not any(cell.strip() for cell in row):
                        continue  # blank line
                    problems.append(BadRow(reader.line_num, None, f"has {len(row)} fields; the header has {width}"))
                    continue
                lines.append(reader.line_num)
                for column, value in zip(cells, row):
                    column.append(value.strip())
                if progress is not None and count % _PROGRESS_EVERY == 0:
                    progress(counted.chars)  # characters: bytes for the ASCII of price files
        if progress is not None:
            progress(path.stat().st_size)
    except UnicodeDecodeError:
        raise CsvImportError(f"{path.name} is not UTF-8 text") from None
    except csv.Error as exc:
        raise CsvImportError(f"{path.name} is not a readable CSV file: {exc}") from None
    return Table(header, dict(zip(header, cells)), np.asarray(lines, dtype=np.int64), problems)


def normalised_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def find_column(header: Sequence[str], wanted: str | None, candidates: Sequence[str], what: str, path: Path) -> str | None:
    """The header name for an option (must exist) or the first recognised candidate."""
    by_name = {normalised_name(h): h for h in header}
    if wanted is not None:
        if wanted.lower() == "none":
            return None
        if wanted in header:
            return wanted
        if normalised_name(wanted) in by_name:
            return by_name[normalised_name(wanted)]
        raise CsvImportError(f"{path.name} has no {what} column {wanted!r} (columns: {', '.join(header)})")
    for candidate in candidates:
        if candidate in by_name:
            return by_name[candidate]
    return None




def find_time_column(header: Sequence[str], names: Sequence[str] = TIME_COLUMNS) -> str | None:
    """The header name of the first recognised time column, or None."""
    by_name = {normalised_name(h): h for h in header}
    return next((by_name[candidate] for candidate in names if candidate in by_name), None)


class UnreadableCsvError(InputError):
    """pandas could not parse the file; ``detail`` is the first line of its reason ('' if none)
    and ``kind`` the name of the error pandas raised."""

    def __init__(self, path: Path, detail: str, kind: str):
        super().__init__(f"{path} is not a readable CSV: {detail or 'empty'}")
        self.path, self.detail, self.kind = path, detail, kind


_UNREADABLE = (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, csv.Error)


def read_text_frame(path: Path, *, skip_initial_space: bool = False) -> pd.DataFrame:
    """Every cell of a CSV as text ('' for an empty one), for the importers that work on frames."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", skipinitialspace=skip_initial_space)
    except _UNREADABLE as exc:
        raise UnreadableCsvError(path, first_line(exc), type(exc).__name__) from None


# --- times ------------------------------------------------------------------------------------


def parse_times(raw: pd.Series, time_format: str | None) -> pd.Series:
    """Naive UTC datetimes (NaT where unreadable). Times without a zone are taken as UTC.

    Each distinct text is parsed once: long and wide files repeat every time once per coin.
    """
    codes, texts = pd.factorize(raw, sort=False)
    parsed = _parse_distinct_times(pd.Series(texts, dtype=object), time_format)
    values = parsed.to_numpy()[codes]
    return pd.Series(values, index=raw.index, dtype="datetime64[us]")


def _parse_distinct_times(texts: pd.Series, time_format: str | None) -> pd.Series:
    present = texts[texts != ""]
    if time_format:
        parsed = pd.to_datetime(texts, format=time_format, utc=True, errors="coerce")
    elif len(present) and present.str.fullmatch(r"\d{8}").all():
        parsed = pd.to_datetime(texts, format="%Y%m%d", utc=True, errors="coerce")
    elif len(present) and present.str.match(_EPOCH).all():
        numbers = pd.to_numeric(texts, errors="coerce")
        unit = "ms" if numbers.max() >= 1e11 else "s"  # 1e11 seconds is the year 5138
        parsed = pd.to_datetime(numbers, unit=unit, utc=True, errors="coerce")
    else:
        parsed = pd.to_datetime(texts, format="ISO8601", utc=True, errors="coerce")
        retry = parsed.isna() & (texts != "")
        if retry.any():  # ' UTC' suffixes (CoinGecko) and Hyperliquid's 2024-02-08-00:15:00
            text = texts[retry].str.replace(r"\s*(?:UTC|GMT|Z)$", "+00:00", regex=True, case=False)
            text = text.str.replace(r"^(\d{4}-\d{2}-\d{2})-(\d{2}:\d{2})", r"\1T\2", regex=True)
            parsed[retry] = pd.to_datetime(text, format="ISO8601", utc=True, errors="coerce")
    return naive_values(parsed).astype("datetime64[us]")
