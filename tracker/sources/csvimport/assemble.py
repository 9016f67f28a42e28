"""Text rows from a parsed table: one row per (coin, line) whatever the layout, with its coin id."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..csvread import TIME_COLUMNS, BadRow, CsvImportError, Table, check_coin_id, find_column, lookup_symbol, normalised_name
from .options import (
    COIN_ID_COLUMNS,
    MARKET_CAP_COLUMNS,
    PRICE_COLUMNS,
    SYMBOL_COLUMNS,
    VOLUME_COLUMNS,
    ImportOptions,
)


@dataclass
class Assembled:
    """One text row per (coin, line): coin_id, symbol, line, time_raw, price_raw[, market_cap_raw, volume_raw]."""

    frame: pd.DataFrame
    columns: dict[str, str | None]  # which file column gave the time, price, market cap, volume, symbol
    empty_cells: int = 0
    skipped: list[str] = field(default_factory=list)


def assemble(table: Table, layout: str, options: ImportOptions, path: Path, problems: list[BadRow]) -> Assembled:
    time_column = find_column(table.header, options.time_column, ("snapped_at",) if layout == "coingecko" else TIME_COLUMNS, "time", path)
    if time_column is None:
        raise CsvImportError(f"{path.name}: no time column found (columns: {', '.join(table.header)}); name it with `time_column`",
                             parameters=["time_column"])
    if layout == "wide":
        return _assemble_wide(table, time_column, options, path)
    return _assemble_rows(table, layout, time_column, options, path, problems)


def _assemble_wide(table: Table, time_column: str, options: ImportOptions, path: Path) -> Assembled:
    if options.coin_id:
        raise CsvImportError(f"{path.name} is a wide file (one column per symbol); map its columns with `mapping` SYMBOL=coin-id",
                             parameters=["mapping"])
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
            f"{path.name}: no coin id for column(s) {', '.join(skipped)}; map them with `mapping` SYMBOL=coin-id "
            f"or pass `unmapped` skip", parameters=["mapping", "unmapped"]
        )
    if not parts:
        others = ", ".join(h for h in table.header if h != time_column)
        raise CsvImportError(f"{path.name}: none of the columns {others} is mapped to a coin id; use `mapping` SYMBOL=coin-id",
                             parameters=["mapping"])
    return Assembled(pd.concat(parts, ignore_index=True), {"time": time_column, "price": None}, empty, skipped)


def _assemble_rows(table: Table, layout: str, time_column: str, options: ImportOptions, path: Path, problems: list[BadRow]) -> Assembled:
    """coingecko, series and long files: one price per line."""
    header = table.header
    recognised = {"coingecko": (("price",), ("market_cap",), ("total_volume",))}.get(layout, (PRICE_COLUMNS, MARKET_CAP_COLUMNS, VOLUME_COLUMNS))
    price_column = find_column(header, options.price_column, recognised[0], "price", path)
    if price_column is None:
        raise CsvImportError(f"{path.name}: no price column found (columns: {', '.join(header)}); name it with `price_column`",
                             parameters=["price_column"])
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
            raise CsvImportError(f"{path.name} holds one coin's prices ({layout} layout); name the coin with `coin_id` "
                                 "(e.g. `coin_id` fetch-ai)", parameters=["coin_id"])
        frame["coin_id"] = options.coin_id.strip()
        frame["symbol"] = options.symbol.strip().upper() if options.symbol else None
        return Assembled(frame, columns)

    symbol_column = find_column(header, options.symbol_column, SYMBOL_COLUMNS + COIN_ID_COLUMNS, "symbol", path)
    if symbol_column is None:
        raise CsvImportError(f"{path.name}: no symbol column found; name it with `symbol_column`", parameters=["symbol_column"])
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
                raise CsvImportError(f"{path.name} has {len(distinct)} symbols ({', '.join(distinct[:5])}); `coin_id` fits one, "
                                     "use `mapping`", parameters=["coin_id", "mapping"])
            mapping.setdefault(distinct[0].upper(), options.coin_id.strip())
        resolved = {s: lookup_symbol(s, mapping) for s in distinct}
    skipped = [s for s, (coin_id, _) in resolved.items() if coin_id is None]
    if skipped and options.unmapped == "refuse":
        raise CsvImportError(
            f"{path.name}: no coin id for symbol(s) {', '.join(skipped[:10])}{' ...' if len(skipped) > 10 else ''}; "
            f"map them with `mapping` SYMBOL=coin-id or pass `unmapped` skip", parameters=["mapping", "unmapped"]
        )
    frame["coin_id"] = symbols.map({s: coin_id for s, (coin_id, _) in resolved.items()}).to_numpy()
    frame["symbol"] = symbols.map({s: symbol for s, (_, symbol) in resolved.items()}).to_numpy()
    frame = frame[frame["coin_id"].notna().to_numpy() | (symbols == "").to_numpy()].reset_index(drop=True)
    if frame["coin_id"].notna().sum() == 0 and not problems:
        raise CsvImportError(f"{path.name}: none of its symbols is mapped to a coin id; use `mapping` SYMBOL=coin-id",
                             parameters=["mapping"])
    return Assembled(frame, columns, skipped=skipped)

