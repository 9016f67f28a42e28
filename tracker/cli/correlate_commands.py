"""tracker correlate rolling | matrix | change | leadlag | granger | series import | series list."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Mapping

import click
import pandas as pd

from .. import utc
from ..analysis import plotting
from ..analysis.correlation import correlation_charts, service, sources
from ..analysis.correlation.event_change import parse_span
from ..analysis.correlation.external import check_series_id, read_series_file
from ..analysis.events import get_event
from ..analysis.output import render, render_sections, to_json
from ..analysis.source_choice import SourcePolicy
from ..errors import InputError
from ..paths import check_output_file
from ._context import AppContext, format_option, pass_app

MAX_CHANGE_PERIODS = 36500  # a century of days; beyond it the window's dates overflow
MAX_ROWS = 1_000_000  # periods in a window or an overlap: over a century of hours

_CHART_SUFFIXES = (".svg", ".png")


def _split(text: str | None) -> list[str]:
    if not text:
        return []
    return [part.strip() for part in text.split(",") if part.strip()]


def _time(text: str | None, option: str, *, end: bool, hourly: bool) -> pd.Timestamp | None:
    """A UTC timestamp from an option; a date as --end on the hourly grid means its last hour."""
    if text is None:
        return None
    if not text.strip():
        raise InputError(f"{option} is empty")
    try:
        value = utc.parse_iso(text)
    except utc.DateFormatError as exc:
        raise InputError(f"{option} {exc}") from None
    step = "h" if hourly else "D"
    if end and hourly and utc.is_date_only(text):
        return value + pd.Timedelta(hours=23)
    return value.floor(step)


def _check_chart(path: str | None) -> Path | None:
    """Check a chart path before any work, so nothing is computed for a file that cannot be written."""
    if path is None:
        return None
    chart = Path(path)
    if chart.suffix.lower() not in _CHART_SUFFIXES:
        raise InputError(f"chart {chart} must end in .svg or .png")
    if chart.is_dir():
        raise InputError(f"chart path {chart} is a folder; give a file name such as {chart / 'chart.svg'}")
    return check_output_file(chart, what="chart")


def _save_chart(fig, chart: Path | None) -> None:
    if chart is not None:
        plotting.save(fig, chart)
        click.echo(f"chart written to {chart}", err=True)


class _Progress:
    """A stderr counter for long look-ups, shown only on a terminal; ``done`` ends its line."""

    def __init__(self, label: str):
        self.label, self.count = label, 0
        self.enabled = sys.stderr.isatty()

    def __call__(self, step: int) -> None:
        self.count += step
        if self.enabled:
            click.echo(f"\r{self.label}: {self.count}", err=True, nl=False)

    def done(self) -> None:
        if self.enabled and self.count:
            click.echo("", err=True)


def panel_options(func):
    """The options every analysis shares: what to load, from when to when, on which grid."""
    options = [
        click.option("--tokens", help="Comma-separated CoinGecko coin ids, e.g. fetch-ai,worldcoin-wld."),
        click.option("--category", help="Add the point-in-time members of this category, e.g. artificial-intelligence."),
        click.option("--against", default=",".join(service.DEFAULT_BENCHMARKS), show_default=True,
                     help="Benchmark coin ids, comma-separated ('none' for none)."),
        click.option("--series", "series_ids", multiple=True, metavar="ID",
                     help="An outside series stored with `correlate series import` (repeatable)."),
        click.option("--series-csv", "series_csv", multiple=True, type=click.Path(dir_okay=False), metavar="FILE",
                     help="An outside series read straight from a CSV (date/time + value columns; repeatable)."),
        click.option("--start", help="First period analysed: ISO 8601 UTC date or date-time (2024-02-12, 2024-02-12T18:00Z)."),
        click.option("--end", help="Last period analysed, ISO 8601 (UTC; a date with --hourly means its last hour)."),
        click.option("--hourly", is_flag=True, help="Hourly closes instead of daily."),
        click.option("--returns", "kind", type=click.Choice(["log", "simple"]), default="log", show_default=True,
                     help="Return kind computed from the closes."),
        click.option("--index", "index", type=click.Choice(["none", "cap", "equal"]), default="none", show_default=True,
                     help="Add an AI index of the tokens (cap-weighted needs market caps)."),
        click.option("--max-span", type=click.IntRange(1, 31), default=4, show_default=True,
                     help="Longest return across an outside series' closed days (weekends), in periods."),
        click.option("--source", metavar="NAME",
                     help="Take every coin's closes from this stored source (e.g. coingecko, binance, csv) "
                          "[default: one source per coin, the best coverage; see 'tracker coverage']."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _selection(params: dict, *, start=None, end=None) -> service.Selection:
    hourly = params["hourly"]
    against = [] if params["against"].strip().lower() == "none" else _split(params["against"])
    return service.Selection(
        tokens=_split(params["tokens"]),
        category=params["category"],
        benchmarks=against,
        series=[check_series_id(s) for s in params["series_ids"]],
        series_csv=list(params["series_csv"]),
        start=start if start is not None else _time(params["start"], "--start", end=False, hourly=hourly),
        end=end if end is not None else _time(params["end"], "--end", end=True, hourly=hourly),
        hourly=hourly,
        kind=params["kind"],
        index=None if params["index"] == "none" else params["index"],
        max_span=params["max_span"],
        sources=SourcePolicy(params.get("source")),
    )


def _panel(app: AppContext, selection: service.Selection) -> service.Panel:
    progress = _Progress("category membership look-ups")
    chosen = selection.sources.source if selection.sources else None
    selection.sources = SourcePolicy(chosen, app.config.tracking.usd_equivalents)
    try:
        return service.load_panel(app.database(), selection, progress=progress)
    finally:
        progress.done()


def _settings_frame(settings: Mapping) -> pd.DataFrame:
    rows = []
    for key, value in settings.items():
        if value is None or (isinstance(value, (list, tuple)) and not value):
            continue
        if isinstance(value, Mapping):  # e.g. price_from: coin -> "source (quote)"
            value = [f"{k}: {v}" for k, v in value.items()]
        text = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        rows.append({"setting": key, "value": text})
    return pd.DataFrame(rows, columns=["setting", "value"])


def _emit(fmt: str, settings: Mapping, sections: dict[str, pd.DataFrame], csv_section: str) -> None:
    """Table: settings then each section; JSON: one object; CSV: the main tidy frame only."""
    if fmt == "csv":
        click.echo(render(sections[csv_section], "csv"))
    elif fmt == "json":
        click.echo(to_json({"settings": settings, **sections}))
    else:
        click.echo(render_sections({"settings": _settings_frame(settings), **sections}, "table"))


@click.group("correlate")
def correlate_group() -> None:
    """How tokens move with BTC, ETH, each other and outside series (NVDA, GPU prices).

    Returns are computed from daily (or --hourly) closes, never across a missing close; every
    figure comes with the number of observations behind it. See docs/correlation.md.
    """


@correlate_group.command("rolling")
@panel_options
@click.option("--window", type=click.IntRange(3, MAX_ROWS), default=30, show_default=True, help="Periods per window.")
@click.option("--method", type=click.Choice(["pearson", "spearman", "both"]), default="pearson", show_default=True)
@click.option("--min-periods", type=click.IntRange(3, MAX_ROWS), help="Least returns in a window (default 80% of it).")
@click.option("--chart", metavar="PATH", help="Draw the rolling correlation (.svg or .png).")
@format_option
@pass_app
def rolling_command(app: AppContext, window: int, method: str, min_periods: int | None, chart: str | None, fmt: str, **params) -> None:
    """Rolling correlation and beta of each token (and the AI index) against each benchmark.

    \b
    Example:
      tracker correlate rolling --tokens fetch-ai,render-token --index equal --window 30
    """
    chart_path = _check_chart(chart)
    if min_periods is not None and min_periods > window:
        raise InputError(f"--min-periods {min_periods} is larger than --window {window}")
    panel = _panel(app, _selection(params))
    methods = ("pearson", "spearman") if method == "both" else (method,)
    progress = _Progress("series ranked (Spearman)")
    result = service.rolling_table(panel, window, methods, min_periods, progress=progress)
    progress.done()
    _save_chart(correlation_charts.rolling_chart(result.frame, methods[0], window=result.settings.get("window")), chart_path)
    _emit(fmt, result.settings, {"rolling": result.frame}, "rolling")


@correlate_group.command("matrix")
@panel_options
@click.option("--method", type=click.Choice(["pearson", "spearman"]), default="pearson", show_default=True)
@click.option("--min-overlap", type=click.IntRange(3, MAX_ROWS), default=20, show_default=True,
              help="Least shared returns for a pair; fewer gives no figure (the count is still shown).")
@click.option("--no-cluster", is_flag=True, help="Keep the given order instead of hierarchical clustering.")
@click.option("--chart", metavar="PATH", help="Draw the heatmap (.svg or .png).")
@format_option
@pass_app
def matrix_command(app: AppContext, method: str, min_overlap: int, no_cluster: bool, chart: str | None, fmt: str, **params) -> None:
    """Correlation matrix of tokens and benchmarks, ordered by hierarchical clustering.

    Table output shows the matrix and the overlap counts; CSV and JSON give one row per pair
    (x, y, n, corr, p_value).
    """
    chart_path = _check_chart(chart)
    panel = _panel(app, _selection(params))
    result = service.matrix_result(panel, method, min_overlap, cluster=not no_cluster)
    _save_chart(correlation_charts.heatmap(result), chart_path)
    if fmt == "json":
        click.echo(result.to_json())
        return
    overlaps = result.n.copy()
    overlaps.insert(0, "series", overlaps.index)
    _emit(fmt, result.settings, {"correlation": result.wide(), "observations": overlaps.reset_index(drop=True),
                                 "pairs": result.tidy()}, "pairs")


@correlate_group.command("change")
@panel_options
@click.option("--event", "event_id", help="Event id from the calendar, e.g. sora-demo.")
@click.option("--at", "at", help="Or the event instant itself: ISO 8601 UTC date-time (2024-02-15T18:00Z).")
@click.option("--pre", default="30", show_default=True, help="Pre-event window: periods, or a span such as 30d or 72h.")
@click.option("--post", default="30", show_default=True, help="Post-event window, from the period holding the event.")
@click.option("--gap", default="0", show_default=True, help="Periods left out between the pre window and the event.")
@click.option("--pairs", "pairing", type=click.Choice(service.PAIRINGS), default="benchmarks", show_default=True,
              help="Tokens against benchmarks, pairs among tokens, or all pairs.")
@click.option("--method", type=click.Choice(["pearson", "spearman"]), default="pearson", show_default=True)
@click.option("--min-overlap", type=click.IntRange(4, MAX_ROWS), default=10, show_default=True,
              help="Least shared returns per window.")
@click.option("--chart", metavar="PATH", help="Draw pre against post correlations (.svg or .png).")
@format_option
@pass_app
def change_command(app: AppContext, event_id: str | None, at: str | None, pre: str, post: str, gap: str, pairing: str,
                   method: str, min_overlap: int, chart: str | None, fmt: str, **params) -> None:
    """Correlations before against after an event, with Fisher's z test of the change.

    The windows are independent samples (they never overlap); p_adj is Benjamini-Hochberg
    over the pairs shown.

    \b
    Example:
      tracker correlate change --event sora-demo --pre 30 --post 30 --tokens fetch-ai
    """
    chart_path = _check_chart(chart)
    if (event_id is None) == (at is None):
        raise InputError("give the event with --event ID or --at TIMESTAMP (one of them)")
    windows = {name: _window(value, name) for name, value in (("--pre", pre), ("--post", post), ("--gap", gap))}
    if at is not None:
        event_ts, label = _instant(at), at
    else:
        event = get_event(app.database(), event_id)
        event_ts, label = event.ts, event.event_id
    step = pd.Timedelta(hours=1) if params["hourly"] else pd.Timedelta(days=1)
    first, last = service.change_range(event_ts, windows["--pre"], windows["--post"], windows["--gap"], step)
    selection = _selection(params)
    selection.start = selection.start if selection.start is not None else first
    selection.end = selection.end if selection.end is not None else last
    panel = _panel(app, selection)
    result = service.change_table(panel, event_ts, windows["--pre"], windows["--post"], gap=windows["--gap"],
                                  pairing=pairing, method=method, min_overlap=min_overlap)
    _save_chart(correlation_charts.change_chart(result.frame, f"correlation before and after {label}"), chart_path)
    _emit(fmt, {**result.settings, "event": label}, {"change": result.frame}, "change")




def _window(value: str, option: str):
    text = value.strip()
    if text.isdigit():
        if int(text) > MAX_CHANGE_PERIODS:
            raise InputError(f"{option} {text} is too long; use at most {MAX_CHANGE_PERIODS} periods")
        return int(text)
    too_long = InputError(f"{option} {value!r} is too long; use at most {MAX_CHANGE_PERIODS}d")
    try:
        span = parse_span(text)
    except (OverflowError, ValueError):  # more days than a Timedelta holds
        raise too_long from None
    if span is None:
        raise InputError(f"{option} {value!r} is not a number of periods or a span such as 30d or 72h")
    if span > pd.Timedelta(days=MAX_CHANGE_PERIODS):
        raise too_long
    return span


def _instant(text: str) -> pd.Timestamp:
    try:
        return utc.parse_iso(text)
    except utc.DateFormatError as exc:
        raise InputError(f"--at {exc}") from None


@correlate_group.command("leadlag")
@panel_options
@click.option("--max-lag", type=click.IntRange(0, 500), default=24, show_default=True, help="Largest lag, in periods.")
@click.option("--pairs", "pairing", type=click.Choice(service.PAIRINGS), default="all", show_default=True)
@click.option("--method", type=click.Choice(["pearson", "spearman"]), default="pearson", show_default=True)
@click.option("--min-overlap", type=click.IntRange(3, MAX_ROWS), default=20, show_default=True)
@click.option("--chart", metavar="PATH", help="Draw the cross-correlations (.svg or .png).")
@format_option
@pass_app
def leadlag_command(app: AppContext, max_lag: int, pairing: str, method: str, min_overlap: int, chart: str | None,
                    fmt: str, **params) -> None:
    """Who moved first: cross-correlation at lags, and when each series made half its move.

    corr(x_t, y_t+k): a peak at k > 0 means x leads y by k periods. Table output shows the
    peak per pair and the move timing; CSV gives every lag; JSON gives all three.

    \b
    Example (the Sora week, hourly):
      tracker correlate leadlag --tokens worldcoin-wld,fetch-ai --hourly \\
        --start 2024-02-12 --end 2024-02-19 --max-lag 12 --against none
    """
    chart_path = _check_chart(chart)
    panel = _panel(app, _selection(params))
    result = service.leadlag_tables(panel, max_lag, pairing=pairing, method=method, min_overlap=min_overlap)
    ccf, summary = result.frames["cross_correlation"], result.frames["summary"]
    timing = service.timing_table(panel, pairing).frame
    _save_chart(correlation_charts.cross_correlation_chart(ccf), chart_path)
    if fmt == "table":
        _emit(fmt, result.settings, {"lead-lag (peak per pair)": summary, "who made half the move first": timing}, "")
    else:
        _emit(fmt, result.settings, {"summary": summary, "timing": timing, "cross_correlation": ccf}, "cross_correlation")


@correlate_group.command("granger")
@panel_options
@click.option("--max-lag", type=click.IntRange(1, 200), default=10, show_default=True,
              help="Largest lag order considered, in periods.")
@click.option("--criterion", type=click.Choice(["aic", "bic"]), default="bic", show_default=True,
              help="How the lag order is chosen (bivariate VAR).")
@click.option("--lag", type=click.IntRange(1, 200), help="Test at this lag instead of choosing one.")
@click.option("--pairs", "pairing", type=click.Choice(service.PAIRINGS), default="all", show_default=True)
@format_option
@pass_app
def granger_command(app: AppContext, max_lag: int, criterion: str, lag: int | None, pairing: str, fmt: str, **params) -> None:
    """Granger causality both ways for each pair (F test), the lag order chosen by AIC or BIC.

    A small p_value for cause -> effect means the cause's past returns help predict the
    effect's beyond its own past; it is about prediction, not about why.
    """
    panel = _panel(app, _selection(params))
    progress = _Progress("pairs tested")
    result = service.granger_table(panel, max_lag, pairing=pairing, criterion=criterion, lag=lag, progress=progress)
    progress.done()
    _emit(fmt, result.settings, {"granger": result.frame}, "granger")


@correlate_group.group("series")
def series_group() -> None:
    """Outside series (an equity close, a GPU rental price index) to correlate tokens against."""


@series_group.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--id", "series_id", required=True, help="Series id to store it under, e.g. nvda.")
@click.option("--unit", help="Unit of the values, e.g. usd or usd/gpu-hour.")
@click.option("--time-column", help="Column with dates or times (default: detected).")
@click.option("--value-column", help="Column with the values (default: value/close/price, or the only numeric one).")
@click.option("--tz", default="UTC", show_default=True, help="Time zone of date-times without an offset.")
@click.option("--stamps", type=click.Choice(["instant", "period-start"]), default="instant", show_default=True,
              help="Date-times are the instant observed, or a candle's opening time.")
@format_option
@pass_app
def series_import(app: AppContext, file: str, series_id: str, unit: str | None, time_column: str | None,
                  value_column: str | None, tz: str, stamps: str, fmt: str) -> None:
    """Import an outside series from a CSV FILE into the database (re-importing replaces values).

    A date means a daily close, observed at the end of its UTC day (the next midnight).

    \b
    Example:
      tracker correlate series import nvda.csv --id nvda --unit usd
    """
    check_series_id(series_id)
    read = read_series_file(file, time_column=time_column, value_column=value_column, tz=tz, stamps=stamps)
    frame = read.frame
    result = sources.import_series(app.writable_database(), frame, series_id, unit=unit, source=f"csv:{Path(file).name}")
    summary = pd.DataFrame([{
        "series_id": series_id, "file": file, "rows": len(frame), "inserted": result.inserted,
        "replaced": result.replaced, "first_ts": frame["ts"].min(), "last_ts": frame["ts"].max(),
        "dates_only": read.date_only,
    }])
    click.echo(render(summary, fmt))


@series_group.command("list")
@format_option
@pass_app
def series_list(app: AppContext, fmt: str) -> None:
    """List the stored outside series (times are UTC instants observed)."""
    click.echo(render(sources.list_series(app.database()), fmt))

