"""tracker coverage: which periods each coin has closes for, per source."""
from __future__ import annotations

import click

from ..analysis.output import render
from ..analysis.source_choice import coverage_table
from ._context import AppContext, format_option, pass_app


@click.command("coverage")
@click.option("--coin", "coins", multiple=True, metavar="ID[,ID...]", help="Only these coin ids (repeatable) [default: every coin].")
@click.option("--source", metavar="NAME", help="Only this stored source (e.g. coingecko, binance, csv for every CSV import).")
@format_option
@pass_app
def coverage_command(app: AppContext, coins: tuple[str, ...], source: str | None, fmt: str) -> None:
    """Coverage per coin and source: first and last point, points, expected and missing periods.

    \b
    One row per coin, source, quote currency and grid: daily and hourly closes (within that
    source alone, as an analysis reads them) and minute candles. read_as is the currency an
    analysis reads the quote as ([tracking] usd_equivalents: USDT, USDC and FDUSD read as usd).
    Analyses take each coin's series from one source: see 'tracker study --source'.

    \b
    Example:
      tracker coverage --coin fetch-ai,bitcoin
    """
    coin_ids = [c.strip() for value in coins for c in value.split(",") if c.strip()]
    frame = coverage_table(app.database(), coin_ids or None, source, app.config.tracking.usd_equivalents)
    click.echo(render(frame, fmt))
