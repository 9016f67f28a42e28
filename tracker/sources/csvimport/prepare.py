"""Reading and checking a whole file into the rows it would write (:func:`prepare_import`); nothing is written."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ...ingest.runs import utcnow
from ..csvread import BadRow, CsvImportError, check_file, parse_times, read_table
from .assemble import assemble
from .checks import check_values, detect_layout, drop_repeats, infer_granularity, raise_problems, resolve_label
from .options import DEFAULT_OPTIONS, PERIODS, ImportOptions, check_options

_EARLIEST = datetime(2009, 1, 3)  # the Bitcoin genesis block: no crypto price is older


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


def prepare_import(path: str | Path, options: ImportOptions = DEFAULT_OPTIONS, *, progress: Callable[[int], None] | None = None) -> PreparedImport:
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
    vs_currency, source = check_options(options, path)
    table = read_table(path, progress)
    if not len(table.lines) and not table.problems:
        raise CsvImportError(f"{path.name}: no price rows to import (only a header)")
    layout = detect_layout(table, options, path)
    problems = list(table.problems)
    assembled = assemble(table, layout, options, path, problems)
    frame, columns = assembled.frame, assembled.columns
    rows_read = len(table.lines) + len(table.problems)

    labels = parse_times(frame["time_raw"], options.time_format)
    bad_time = labels.isna()
    for line, value in zip(frame.loc[bad_time, "line"], frame.loc[bad_time, "time_raw"]):
        message = "no time" if value == "" else f"time {value!r} not understood" + ("" if options.time_format else " (give `time_format`)")
        problems.append(BadRow(int(line), columns["time"], message))
    latest = pd.Timestamp(utcnow()) + pd.Timedelta(days=2)
    out_of_range = labels.notna() & ((labels < pd.Timestamp(_EARLIEST)) | (labels > latest))
    for line, value in zip(frame.loc[out_of_range, "line"], frame.loc[out_of_range, "time_raw"]):
        problems.append(BadRow(int(line), columns["time"], f"time {value!r} is before 2009 or in the future"))
    frame = frame.assign(label=labels)
    frame = check_values(frame, columns, problems, price_required=layout != "wide")
    raise_problems(path, problems)

    frame, filtered_out = _filter_range(frame, options)
    if frame.empty:
        raise CsvImportError(f"{path.name}: no price rows to import" + (" in the `start`/`end` range" if filtered_out else ""),
                             parameters=["start", "end"] if filtered_out else ())
    granularity = options.granularity if options.granularity != "auto" else infer_granularity(frame, path)
    label = resolve_label(options, layout, columns["time"], frame["time_raw"], frame["label"], path)
    shift = PERIODS[granularity] if label == "close-of-period" else timedelta(0)
    frame["ts"] = frame["label"] + pd.Timedelta(shift)
    frame, repeated = drop_repeats(frame, problems)
    raise_problems(path, problems)

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
        duplicates=repeated, filtered_out=filtered_out, skipped_symbols=assembled.skipped,
    )

