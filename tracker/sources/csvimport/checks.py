"""Checking a file's cells: the layout, the granularity, what a row's time means, values and duplicates.

Every bad cell becomes a :class:`~tracker.sources.csvread.BadRow`; :func:`raise_problems` turns them into
one :class:`~tracker.sources.csvread.CsvImportError` that names the first few with their line numbers.
"""
from __future__ import annotations

import re
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd

from ...ingest.values import AMOUNT, PRICE, bad_values, describe
from ..csvread import BadRow, CsvImportError, Table, normalised_name
from .options import COIN_ID_COLUMNS, PERIODS, PRICE_COLUMNS, SYMBOL_COLUMNS, ImportOptions

_DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
_MAX_PROBLEMS_SHOWN = 5


def detect_layout(table: Table, options: ImportOptions, path: Path) -> str:
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


def infer_granularity(frame: pd.DataFrame, path: Path) -> str:
    """The period whose length is nearest the median spacing of each coin's times (within 10%)."""
    spacings = []
    for _, times in frame.groupby("coin_id", sort=False)["label"]:
        values = np.unique(times.to_numpy())
        if len(values) > 1:
            spacings.append(np.diff(values).astype("timedelta64[s]").astype(np.int64))
    if not spacings:
        raise CsvImportError(f"{path.name}: cannot infer the granularity from one row per coin; give `granularity` daily|hourly|15m|5m",
                             parameters=["granularity"])
    median = float(np.median(np.concatenate(spacings)))
    for name, period in PERIODS.items():
        if abs(median - period.total_seconds()) <= 0.1 * period.total_seconds():
            return name
    raise CsvImportError(
        f"{path.name}: rows are {timedelta(seconds=round(median))} apart (median), which is not daily, hourly, "
        f"15m or 5m; give `granularity`", parameters=["granularity"]
    )


def resolve_label(options: ImportOptions, layout: str, time_column: str, raw_times: pd.Series, labels: pd.Series, path: Path) -> str:
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
        f"prices were observed; give `label` close-of-period or `label` instant", parameters=["label"]
    )


# --- checking ---------------------------------------------------------------------------------


def _numbers(raw: pd.Series) -> pd.Series:
    return pd.to_numeric(raw.where(raw != "", None), errors="coerce")


def check_values(frame: pd.DataFrame, columns: Mapping[str, str | None], problems: list[BadRow], *, price_required: bool) -> pd.DataFrame:
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


def drop_repeats(frame: pd.DataFrame, problems: list[BadRow]) -> tuple[pd.DataFrame, int]:
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


def raise_problems(path: Path, problems: list[BadRow]) -> None:
    if not problems:
        return
    problems = sorted(problems, key=lambda p: p.line)
    shown = "; ".join(str(p) for p in problems[:_MAX_PROBLEMS_SHOWN])
    more = f"; and {len(problems) - _MAX_PROBLEMS_SHOWN} more" if len(problems) > _MAX_PROBLEMS_SHOWN else ""
    # A problem may name an option (`time_format`): the CLI shows it as its flag.
    named = [f.name for f in fields(ImportOptions) if f"`{f.name}`" in shown]
    raise CsvImportError(f"{path.name}: {len(problems)} bad row(s), nothing imported: {shown}{more}", problems, parameters=named)

