"""tracker study: an event study on the database or on the user's own CSV files."""
from __future__ import annotations

import sys

import click
import pandas as pd

from ..analysis.events import get_event, list_events
from ..analysis.eventstudy import EventStudy, parse_windows
from ..analysis.eventstudy.data import load_study_data
from ..analysis.eventstudy.export import check_output_dir, write_outputs
from ..analysis.eventstudy.files import read_events_csv, read_returns_csv
from ..analysis.eventstudy.models import MODELS
from ..analysis.eventstudy.placebo import DEFAULT_RANGE, placebo_range
from ..analysis.eventstudy.study import DEFAULT_ESTIMATION, DEFAULT_WINDOWS, HOURLY_ESTIMATION, HOURLY_WINDOWS
from ..analysis.eventstudy.windows import HOUR, MAX_PERIOD, Window, as_window, check_layout, infer_period
from ..analysis.output import render_sections, to_table
from ..analysis.reaction_data import speed_frame
from ..analysis.source_choice import SourcePolicy
from ..errors import InputError
from ._context import AppContext, format_option, pass_app

SECTIONS = ("summary", "verdicts", "tests", "car", "aar", "caar", "estimation", "excluded", "abnormal-returns",
            "placebo", "calendar-time", "diagnostics", "reaction")
DEFAULTS = {  # (estimation window, event windows) per frequency, from the library
    "daily": (DEFAULT_ESTIMATION, DEFAULT_WINDOWS),
    "hourly": (HOURLY_ESTIMATION, HOURLY_WINDOWS),
}


def _split(values: tuple[str, ...]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _sections(show: tuple[str, ...]) -> list[str]:
    chosen = _split(show) or ["summary"]
    if "all" in chosen:  # every section of the study itself; the minute reaction is asked for by name
        return [s for s in SECTIONS if s != "reaction"] + (["reaction"] if "reaction" in chosen else [])
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise InputError(f"--show {unknown[0]!r} is not one of {', '.join(SECTIONS)}, all")
    return list(dict.fromkeys(chosen))


def _file_inputs(returns_csv, events_csv, market_column, tokens, event_ids, model):
    """Returns, benchmark and events from the user's files, and every event of the file as the calendar."""
    if events_csv is None:
        raise InputError("--returns-csv needs --events-csv FILE (columns event_id, date and optionally security)")
    returns = read_returns_csv(returns_csv)
    market = None
    if market_column is not None:
        if market_column not in returns.columns:
            raise InputError(f"--market-column {market_column!r} is not a column of {returns_csv} (columns: {', '.join(returns.columns[:8])})")
        market = returns.pop(market_column).rename(market_column)
    elif model != "mean":
        raise InputError(f"the {model} model needs --market-column NAME (the benchmark's column in {returns_csv})")
    if tokens:
        unknown = [t for t in tokens if t not in returns.columns]
        if unknown:
            raise InputError(f"unknown token {unknown[0]!r}: not a column of {returns_csv}")
        returns = returns[tokens]
    events = read_events_csv(events_csv)
    calendar = events.drop_duplicates("event_id")[["event_id", "timestamp"]]
    if event_ids:
        unknown = [e for e in event_ids if e not in set(events["event_id"])]
        if unknown:
            raise InputError(f"no event {unknown[0]!r} in {events_csv}")
        events = events[events["event_id"].isin(event_ids)]
    if tokens:
        explicit = events["security"] != "all"
        events = events[~explicit | events["security"].isin(tokens)]
    return returns, market, events, calendar


@click.command("study")
@click.option("--event", "event_ids", multiple=True, metavar="ID[,ID...]", help="Event id(s) from the calendar (repeatable).")
@click.option("--tokens", metavar="ID,ID", help="Explicit sample of coin ids (file mode: column names).")
@click.option("--category", metavar="ID", help="Sample = members of this category at each event (default: the first tracked category).")
@click.option("--membership", type=click.Choice(["event", "first-known"]), default="event", show_default=True, help="With --category: members at each event, or (first-known) the earliest recorded members for events before the first sync, with a survivorship-bias note.")
@click.option("--benchmark", metavar="COIN|index", help="Benchmark coin id (default bitcoin), or 'index' for the coins outside the sample and category.")
@click.option("--index-weights", type=click.Choice(["cap", "equal"]), default="cap", show_default=True, help="Weights of the 'index' benchmark (previous period's market caps, or equal).")
@click.option("--model", type=click.Choice(MODELS), default="market", show_default=True, help="Normal-return model.")
@click.option("--estimation-window", metavar="START:END", help="Inclusive, in relative periods [default: -130:-11 daily, -504:-25 hourly].")
@click.option("--windows", metavar="S:E,S:E", help="Event windows [default: 0:0,-1:1,0:5 daily, 0:0,-1:1,0:23 hourly].")
@click.option("--hourly", is_flag=True, help="Hourly study: relative periods are hours, day 0 is the hour of the announcement.")
@click.option("--return-kind", type=click.Choice(["simple", "log"]), default="simple", show_default=True, help="Simple or log returns (CARs are sums either way).")
@click.option("--day-boundary", default="00:00", show_default=True, metavar="HH:MM", help="UTC time daily periods end (file mode; the database's days end 00:00).")
@click.option("--benchmark-gaps", type=click.Choice(["drop", "ffill", "none"]), default="drop", show_default=True, help="Periods without a benchmark return (equity weekends): compound into the next, zero return, or missing.")
@click.option("--min-estimation-obs", type=click.IntRange(max=MAX_PERIOD), metavar="N", help="Leave out security-events with fewer estimation observations [default: 2/3 of the window].")
@click.option("--exclude-other-events", is_flag=True, help="Drop estimation periods inside another event's window for the same security.")
@click.option("--source", metavar="NAME", help="Take every coin's closes from this stored source (e.g. coingecko, binance, csv:FILE, or csv for any CSV import) [default: one source per coin, the best coverage; see 'tracker coverage'].")
@click.option("--returns-csv", type=click.Path(dir_okay=False), help="File mode: a date column and one column per security (returns).")
@click.option("--market-column", metavar="NAME", help="File mode: the benchmark's column in --returns-csv.")
@click.option("--events-csv", type=click.Path(dir_okay=False), help="File mode: event_id, date (or timestamp) and optionally security.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True, help="Significance level of the verdicts and diagnostics.")
@click.option("--primary-window", metavar="START:END", help="The window the findings lead with, listed first [default: the first of --windows].")
@click.option("--placebo", is_flag=True, help="Placebo inference: rerun the study on every pseudo-event day of --placebo-range.")
@click.option("--placebo-range", "placebo_range_text", metavar="START:END", help=f"Pseudo-event days relative to the event (implies --placebo) [default: {DEFAULT_RANGE.start}:{DEFAULT_RANGE.end}].")
@click.option("--calendar-time", is_flag=True, help="Calendar-time portfolio regression per window (OLS, Newey-West errors).")
@click.option("--portfolio-weights", type=click.Choice(["equal", "cap"]), default="equal", show_default=True, help="Calendar-time portfolio weights (cap: previous day's market caps, database only).")
@click.option("--show", multiple=True, metavar="WHAT[,WHAT]", help=f"What to print: {', '.join(SECTIONS)} or all (all but reaction: the minute reaction from 1m candles) [default: summary].")
@click.option("--output", "output_dir", type=click.Path(file_okay=False), help="Also write every frame as CSV, results.json, summary.txt and SVG charts here.")
@format_option
@pass_app
def study_command(
    app: AppContext,
    event_ids, tokens, category, membership, benchmark, index_weights, model, estimation_window, windows, hourly,
    return_kind, day_boundary, benchmark_gaps, min_estimation_obs, exclude_other_events,
    source, returns_csv, market_column, events_csv, alpha, primary_window, placebo, placebo_range_text, calendar_time,
    portfolio_weights, show, output_dir, fmt,
) -> None:
    """Event study: abnormal returns around announcements and the full test battery.

    \b
    On the database (daily closes; --hourly for hourly):
      tracker study --event sora-demo --category artificial-intelligence --benchmark bitcoin
      tracker study --event sora-demo --tokens fetch-ai,worldcoin-wld --windows 0:0,-2:4
    On your own files, no database needed:
      tracker study --returns-csv returns.csv --market-column BTC --events-csv events.csv

    Windows are inclusive relative periods (-130:-11 is 120 days). Day 0 is the period that
    contains the announcement. Each window gets a verdict (robust, mixed, none) from the tests
    robust to event-induced variance (KP-adjusted BMP and GRANK when events share dates, else
    BMP and GRANK) and, with --placebo, the placebo p; see docs/eventstudy.md.
    """
    sections = _sections(show)
    if "reaction" in sections and returns_csv:
        raise InputError("--show reaction reads minute candles from the database; it does not apply to --returns-csv")
    event_ids = _split(event_ids)
    token_list = _split((tokens,)) if tokens else None
    if output_dir:
        check_output_dir(output_dir)
    # Check the windows before anything is loaded; the defaults depend on the frequency.
    estimation = as_window(estimation_window, "--estimation-window") if estimation_window else None
    event_windows = parse_windows(windows, "--windows window") if windows else None
    primary = as_window(primary_window, "--primary-window") if primary_window else None
    placebo = placebo or bool(placebo_range_text)
    evidence = _evidence_settings(alpha, primary, placebo, placebo_range_text, calendar_time, portfolio_weights, returns_csv)

    notes: list[str] = []
    source_settings = None
    if returns_csv:
        if source:
            raise InputError("--source picks a stored source; with --returns-csv the returns come from the file")
        if category or benchmark:
            raise InputError("--category and --benchmark need the database; with --returns-csv use --tokens and --market-column")
        returns, market, events, calendar = _file_inputs(returns_csv, events_csv, market_column, token_list, event_ids, model)
        caps = None
        benchmark_name = market_column
        frequency = "hourly" if infer_period(returns.index) == HOUR else "daily"
        if hourly and frequency != "hourly":
            raise InputError(f"--hourly was given but {returns_csv} holds daily returns")
    else:
        frequency = "hourly" if hourly else "daily"
        estimation = estimation or as_window(DEFAULTS[frequency][0])
        event_windows = event_windows or parse_windows(DEFAULTS[frequency][1])
        # The placebo reruns the study on days before the event: load that much more history.
        loaded = estimation
        if placebo:
            rng = placebo_range(placebo_range_text or True, ([primary] if primary else []) + event_windows)
            loaded = Window(estimation.start + rng.start, estimation.end)
        returns, market, events, benchmark_name, notes, caps, calendar, source_settings = _database_inputs(
            app, event_ids, token_list, category, membership, benchmark, index_weights, hourly, return_kind,
            loaded, event_windows, day_boundary, events_csv, market_column, portfolio_weights == "cap", source,
        )
        day_boundary = "00:00"

    study = EventStudy(
        returns, market, events, model=model,
        estimation_window=estimation or DEFAULTS[frequency][0], event_windows=event_windows or DEFAULTS[frequency][1],
        return_kind=return_kind, day_boundary=day_boundary, benchmark_gaps=benchmark_gaps,
        min_estimation_obs=min_estimation_obs, exclude_other_events=exclude_other_events,
        benchmark_name=benchmark_name, sources=source_settings, caps=caps, calendar=calendar, **evidence,
    )
    results = study.fit()
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if output_dir:
        written = write_outputs(results, output_dir)
        click.echo(f"wrote {len(written)} files to {output_dir}", err=True)
    reaction = _reaction(app, events, benchmark, source) if "reaction" in sections else None
    click.echo(_render(results, sections, fmt, "all" in _split(show), reaction))


def _evidence_settings(alpha, primary, placebo, placebo_range_text, calendar_time, portfolio_weights, returns_csv) -> dict:
    """EventStudy's evidence keywords from the flags, checked together."""
    if portfolio_weights == "cap" and not calendar_time:
        raise InputError("--portfolio-weights applies to --calendar-time")
    if portfolio_weights == "cap" and returns_csv:
        raise InputError("--portfolio-weights cap needs market caps from the database; files have none (use equal)")
    return {"alpha": alpha, "primary_window": primary, "calendar_time": calendar_time, "portfolio_weights": portfolio_weights,
            "placebo": (placebo_range_text or True) if placebo else None}


def _reaction(app: AppContext, events: pd.DataFrame, benchmark: str | None, source: str | None) -> pd.DataFrame:
    """--show reaction: the minute reaction per event from stored 1m candles (docs/eventstudy.md)."""
    db = app.database()
    samples = events.groupby("event_id")["security"].apply(list).to_dict()
    stored = [get_event(db, event_id) for event_id in samples]
    bench = benchmark if benchmark and benchmark != "index" else "bitcoin"
    return speed_frame(db, stored, samples, bench, policy=SourcePolicy(source, app.config.tracking.usd_equivalents))


def _database_inputs(app: AppContext, event_ids, token_list, category, membership, benchmark, index_weights, hourly,
                     return_kind, estimation, event_windows, day_boundary, events_csv, market_column, caps, source):
    """Database mode: check the options, then load returns, benchmark and events for the study."""
    if events_csv or market_column:
        raise InputError("--events-csv and --market-column go with --returns-csv (file mode)")
    if day_boundary.strip() not in ("00:00", "0:00", "24:00"):
        raise InputError("--day-boundary applies to --returns-csv; the database's daily closes end at 00:00 UTC")
    if not event_ids:
        raise InputError("name the event(s) with --event ID (see 'tracker events list'), or use --returns-csv")
    if token_list and category:
        raise InputError("choose the sample with --tokens or --category, not both")
    check_layout(estimation, event_windows)  # before any data is loaded
    db = app.database()
    if not token_list and not category:
        if not app.config.tracking.categories:
            raise InputError("no --tokens or --category given and no category is tracked in the config")
        category = app.config.tracking.categories[0]
    unique_events = list(dict.fromkeys(event_ids))
    stderr = sys.stderr
    # On a terminal, a bar per event sampled; piped, nothing (errors stay one line).
    with click.progressbar(length=len(unique_events), label="sampling events", file=stderr, hidden=not stderr.isatty()) as bar:
        data = load_study_data(
            db, unique_events, tokens=token_list, category=None if token_list else category,
            benchmark=benchmark or "bitcoin", index_weights=index_weights, hourly=hourly,
            estimation_window=estimation, event_windows=event_windows,
            return_kind=return_kind, membership=membership, progress=lambda items: _ticking(bar, items), caps=caps,
            sources=SourcePolicy(source, app.config.tracking.usd_equivalents),
        )
    calendar = list_events(db).rename(columns={"ts": "timestamp"})
    return data.returns, data.market, data.events, data.benchmark_name, data.notes, data.caps, calendar, data.source_settings


def _ticking(bar, items):
    for item in items:
        yield item
        bar.update(1)


def _missing(results, section: str) -> bool:
    return (results.placebo if section == "placebo" else results.calendar_time) is None


def _render(results, sections: list[str], fmt: str, everything: bool = False,
            reaction: pd.DataFrame | None = None) -> str:
    frames: dict[str, pd.DataFrame] = {}
    text_parts: list[str] = []
    for section in sections:
        if section == "summary":
            if fmt == "table":
                text_parts.append(results.summary())
            else:
                summary = results.summary_frames()
                frames.update({"study": summary["study"], "verdicts": summary["verdicts"], "caar": summary["caar"],
                               "lead_tests": summary["tests"]})
                if results.settings["sources"]:  # where each coin's closes came from, and the rule
                    rule, coins = results.settings["sources"]["rule"], results.settings["sources"]["coins"]
                    frames["sources"] = pd.DataFrame([{"coin_id": c, "source": w, "rule": rule} for c, w in coins.items()])
            continue
        if section in ("placebo", "calendar-time") and _missing(results, section):
            if everything:
                continue
            raise InputError(f"--show {section} needs --{section}" if section != "placebo" else "--show placebo needs --placebo")
        frame = {
            "verdicts": results.verdicts,
            "placebo": results.placebo.table if results.placebo is not None else None,
            "calendar-time": results.calendar_time,
            "diagnostics": results.diagnostics_table,
            # In the summary's order: window tests then day tests, robust ones first when clustered.
            "tests": pd.concat([results.lead_tests("window"), results.lead_tests("day")], ignore_index=True),
            "car": results.car,
            "aar": results.aar,
            "caar": results.caar,
            "estimation": results.estimation,
            "excluded": results.excluded,
            "abnormal-returns": results.abnormal_returns_long,
            "reaction": reaction,
        }[section]
        if fmt == "table":
            text_parts.append(f"{section}\n{to_table(frame)}")
        else:
            frames[section] = frame
    if fmt == "table":
        return "\n\n".join(text_parts)
    return render_sections(frames, fmt)
