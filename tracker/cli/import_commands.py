"""tracker import csv: price history from CSV files (see docs/csv-import.md)."""
from __future__ import annotations

import os
import re
import sys
from datetime import datetime

import click
import pandas as pd

from jobs.spool import Spool

from .. import utc
from ..analysis.output import render_sections
from ..errors import InputError
from ..sources.csvimport import (
    GRANULARITIES,
    LABELS,
    LAYOUTS,
    UNMAPPED_POLICIES,
    ImportOptions,
    ImportResult,
    PreparedImport,
    import_batch,
    parse_mapping,
    prepare_import,
    read_mapping_file,
)
from ._context import AppContext, format_option, pass_app
from .ingest_commands import EXIT_SPOOLED, Delivery

# Show a progress bar only for files that take a noticeable time to read.
_PROGRESS_BYTES = 8 * 2**20


def _check_time_format(time_format: str | None) -> None:
    """Refuse a --time-format pandas cannot use, before the file is read."""
    if time_format is None:
        return
    if "%" not in time_format:
        raise click.BadParameter(f"{time_format!r} has no % directive; write e.g. '%d/%m/%Y %H:%M'",
                                 param_hint="'--time-format'")
    try:
        pd.to_datetime(pd.Series(["2000-01-01"]), format=time_format, utc=True, errors="coerce")
    except (ValueError, re.error) as exc:  # a bad or repeated directive, a stray %
        reason = "a directive appears twice" if isinstance(exc, re.error) else str(exc).split(" in format")[0]
        raise click.BadParameter(f"{time_format!r} is not a strftime format pandas can read ({reason}); "
                                 "write e.g. '%d/%m/%Y %H:%M'", param_hint="'--time-format'") from None


@click.group("import")
def import_group() -> None:
    """Import price history from files."""


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        return utc.parse_iso(value).to_pydatetime()
    except utc.DateFormatError as exc:
        raise InputError(f"{option} {exc}") from None


def _render(result: ImportResult, fmt: str) -> str:
    summary = result.summary()
    if fmt == "json":
        overview = summary  # one object, not a list of one
    elif fmt == "table":
        overview = pd.DataFrame({"field": list(summary), "value": ["" if v is None else str(v) for v in summary.values()]})
    else:
        overview = pd.DataFrame([summary])
    return render_sections({"import": overview, "coins": result.coins_table()}, fmt)


EXIT_STATUSES = ("Exit status: 0 when the file was imported (or checked, with --dry-run); 1 when the file or an option "
                 "is wrong (nothing is imported); 4 when the database stayed locked and the checked rows wait in the "
                 "spool for the next ingest, import or daemon run.")


@import_group.command("csv", epilog=EXIT_STATUSES)
@click.argument("file", type=click.Path(dir_okay=True))
@click.option("--layout", type=click.Choice(LAYOUTS), default="auto", show_default=True,
              help="coingecko: CoinGecko's export (snapped_at,price,market_cap,total_volume); long: time,symbol,close rows; "
                   "wide: a time column and one column per symbol; series: one coin's time,close (OHLC) rows.")
@click.option("--coin", "coin_id", metavar="ID", help="CoinGecko coin id of a coingecko or series file, e.g. fetch-ai.")
@click.option("--symbol", metavar="SYM", help="Symbol recorded for --coin when the coin is new to the database.")
@click.option("--map", "maps", metavar="SYM=ID,...", multiple=True,
              help="Symbols to coin ids, e.g. FET=fetch-ai,WLD=worldcoin-wld, for long and wide files (repeatable).")
@click.option("--map-file", type=click.Path(dir_okay=True), help="CSV file with columns symbol,coin_id (--map wins).")
@click.option("--unmapped", type=click.Choice(UNMAPPED_POLICIES), default="refuse", show_default=True,
              help="What to do with symbols that have no coin id: refuse the file, or skip them (listed in the summary).")
@click.option("--label", type=click.Choice(LABELS), default="auto", show_default=True,
              help="close-of-period: each row is labelled by the start of the period whose close it gives (a daily close "
                   "for D is stored at D+1 00:00 UTC, an hourly candle opening at T at T+1h); instant: times are when "
                   "the price was observed and are stored as they are. auto: instant for CoinGecko exports, "
                   "close-of-period for dates and open/start-time columns, else it asks.")
@click.option("--granularity", type=click.Choice(GRANULARITIES), default="auto", show_default=True,
              help="Spacing of the rows; auto infers it from the median spacing.")
@click.option("--source", help="Recorded in every row (default csv:<file name>).")
@click.option("--vs-currency", default="usd", show_default=True,
              help="Quote currency stored. USDT-quoted exchange prices are stored as usd unless you give usdt.")
@click.option("--time-column", metavar="NAME", help="Time column (default: snapped_at, open_time, start_time, timestamp, date, ...).")
@click.option("--price-column", metavar="NAME", help="Price column (default: close, else price).")
@click.option("--symbol-column", metavar="NAME", help="Symbol column of a long file (default: symbol, coin, ticker, asset, coin_id).")
@click.option("--market-cap-column", metavar="NAME", help="Market cap column (default: market_cap; 'none' to ignore).")
@click.option("--volume-column", metavar="NAME",
              help="Volume column, in the quote currency (default: total_volume, volume_usd(t), quote_volume; "
                   "a plain 'volume' is often in coins, so it is only used when named; 'none' to ignore).")
@click.option("--time-format", metavar="FMT", help="strftime format for unusual times (ISO 8601, epoch s/ms and YYYYMMDD are automatic).")
@click.option("--start", metavar="WHEN", help="Skip rows labelled before this ISO 8601 UTC date or date-time.")
@click.option("--end", metavar="WHEN", help="Skip rows labelled after this ISO 8601 UTC date or date-time (a date includes its whole day).")
@click.option("--dry-run", is_flag=True, help="Check the file and print what would be imported; write nothing.")
@format_option
@pass_app
def import_csv_command(app: AppContext, file: str, layout: str, coin_id: str | None, symbol: str | None, maps: tuple[str, ...],
                       map_file: str | None, unmapped: str, label: str, granularity: str, source: str | None, vs_currency: str,
                       time_column: str | None, price_column: str | None, symbol_column: str | None,
                       market_cap_column: str | None, volume_column: str | None, time_format: str | None,
                       start: str | None, end: str | None, dry_run: bool, fmt: str) -> None:
    """Import prices from the CSV FILE into price_history.

    The whole file is checked first: bad rows are listed with their line numbers and nothing is
    imported. Then the rows, any coins new to the database and a record in ingest_runs (job
    'import') are written in one transaction, by the same writer as `tracker ingest`. Importing
    the same file again replaces its rows and adds none. Times without a zone are UTC.
    """
    _check_time_format(time_format)
    mapping = read_mapping_file(map_file) if map_file else {}
    mapping.update(parse_mapping(maps))
    options = ImportOptions(
        layout=layout, coin_id=coin_id, symbol=symbol, mapping=mapping, unmapped=unmapped, label=label,
        granularity=granularity, source=source, vs_currency=vs_currency, time_column=time_column,
        price_column=price_column, symbol_column=symbol_column, market_cap_column=market_cap_column,
        volume_column=volume_column, time_format=time_format, start=_when(start, "--start"), end=_when(end, "--end"),
    )
    # The file is read and checked before the database is opened: a bad file never takes the lock.
    size = _file_size(file)
    if size >= _PROGRESS_BYTES:
        stderr = sys.stderr
        with click.progressbar(length=size, label=f"reading {click.format_filename(file)}", file=stderr) as bar:
            done = [0]

            def progress(position: int) -> None:
                bar.update(position - done[0])
                done[0] = position

            prepared = prepare_import(file, options, progress=progress)
    else:
        prepared = prepare_import(file, options)
    if dry_run:
        click.echo(_render(ImportResult(prepared=prepared), fmt))
        return
    _store(app, prepared, fmt)


def _store(app: AppContext, prepared: PreparedImport, fmt: str) -> None:
    """Write the file's batch like an ingest job's: batches waiting in the spool first, and into
    the spool (exit 4) when the database stays locked."""
    folder = app.config.database.spool_dir
    delivery = Delivery(app.writable_database(), Spool(folder))
    delivery.drain()
    batch = import_batch(prepared)
    written = delivery.write(batch)
    if written is not None:
        click.echo(_render(ImportResult.from_write(prepared, written), fmt))
        return
    click.echo(_render(ImportResult(prepared=prepared, run_id=batch.run.run_id, spooled=True), fmt))
    click.echo(f"warning: database not writable ({delivery.locked}); the checked file waits as one batch in the spool "
               f"{folder}; the next `tracker ingest`, `tracker import csv` or daemon run writes it", err=True)
    raise click.exceptions.Exit(EXIT_SPOOLED)


def _file_size(file: str) -> int:
    try:
        return os.stat(file).st_size
    except OSError:
        return 0  # prepare_import names the problem
