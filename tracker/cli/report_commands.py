"""tracker report event-study: a shareable report folder; tracker demo: the offline tour."""
from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from ..analysis.eventstudy.windows import MAX_PERIOD
from ..analysis.gpu import parse_set
from ..analysis.output import render_sections
from ..report import ReportOptions, build_report, check_report_dir, split_ids, write_report
from ..report.options import CORRELATION_DEFAULTS, DEFAULT_MOVE_WINDOW
from ._context import AppContext, format_option, pass_app


def progress_printer(quiet: bool):
    """Progress lines on stderr ("report: loading daily prices ..."), or nothing with --quiet."""
    if quiet:
        return None
    return lambda text: click.echo(f"report: {text} ...", err=True)


def key_figures(doc: dict) -> pd.DataFrame:
    """CAAR and the verdict per study and window (the primary first), with the lead test's statistic and p-value."""
    rows = []
    for study in doc["studies"]:
        if study["status"] != "ok":
            continue
        verdicts = {v["window"]: v for v in study.get("verdicts", [])}
        for window in study["caar"]:
            test = next(t for t in study["tests"] if t["scope"] == "window" and t["test"] == study["lead_test"] and t["window"] == window["window"])
            verdict = verdicts.get(window["window"], {})
            rows.append({
                "study": study["id"], "window": window["window"], "caar": window["caar"], "median_car": window["median_car"],
                "share_positive": window["share_positive"], "n": window["n"], "verdict": verdict.get("verdict"),
                "lead_test": study["lead_test"], "statistic": test["statistic"], "p_value": test["p_value"],
                "finding": verdict.get("finding"),
            })
    return pd.DataFrame(rows)


def summary_sections(doc: dict, folder: Path, files: list[Path]) -> dict:
    """What the CLI prints after writing a report."""
    meta = doc["report"]
    summary = pd.DataFrame([{
        "report": str(folder / "index.html"),
        "title": meta["title"],
        "simulated": meta["simulated"],
        "events": ", ".join(e["event_id"] for e in doc["events"]),
        "warnings": len(doc["warnings"]),
        "files": len(files),
    }])
    sections = {"report": summary, "key figures": key_figures(doc)}
    if doc["warnings"]:
        sections["warnings"] = pd.DataFrame([{"kind": w["kind"], "message": w["message"]} for w in doc["warnings"]])
    return sections


@click.group("report")
def report_group() -> None:
    """Shareable reports: one folder of HTML, Markdown, CSV and JSON.

    Every number on the page is in report.json; see docs/reports.md.
    """


@report_group.command("event-study")
@click.option("--event", "event_ids", multiple=True, required=True, metavar="ID[,ID...]", help="Event id(s) from the calendar (repeatable); several events get a section each and a pooled study.")
@click.option("--tokens", metavar="ID,ID", help="Explicit sample of coin ids.")
@click.option("--category", metavar="ID", help="Sample = members of this category at each event [default: the first tracked category].")
@click.option("--membership", type=click.Choice(["event", "first-known"]), default="event", show_default=True, help="With --category: members at each event, or (first-known) the earliest recorded members for events before the first sync, with a survivorship-bias note.")
@click.option("--benchmark", default="bitcoin", show_default=True, metavar="COIN|index", help="Benchmark coin id, or 'index' for the coins outside the sample and category.")
@click.option("--index-weights", type=click.Choice(["cap", "equal"]), default="cap", show_default=True, help="Weights of the 'index' benchmark.")
@click.option("--model", type=click.Choice(["market", "mean", "market-adjusted"]), default="market", show_default=True, help="Normal-return model.")
@click.option("--estimation-window", metavar="START:END", help="Inclusive, in relative periods [default: -130:-11 daily, -504:-25 hourly].")
@click.option("--windows", metavar="S:E,S:E", help="Event windows [default: 0:0,-1:1,0:5 daily, 0:0,-1:1,0:23 hourly].")
@click.option("--hourly", is_flag=True, help="Hourly study: relative periods are hours, day 0 is the hour of the announcement.")
@click.option("--return-kind", type=click.Choice(["simple", "log"]), default="simple", show_default=True, help="Simple or log returns (CARs are sums either way).")
@click.option("--exclude-other-events", is_flag=True, help="Drop estimation periods inside another event's window.")
@click.option("--move-window", default=DEFAULT_MOVE_WINDOW, show_default=True, metavar="START:END", help="Relative days of the press-style raw move (close to close).")
@click.option("--correlation-window", type=click.IntRange(max=MAX_PERIOD), metavar="N", help=f"Periods before and after for the correlation comparison [default: {CORRELATION_DEFAULTS['daily']} daily, {CORRELATION_DEFAULTS['hourly']} hourly].")
@click.option("--gpu-set", "gpu_sets", multiple=True, metavar="NAME=VALUE", help="Change a GPU-estimate assumption, as 'tracker gpu estimate --set' (repeatable).")
@click.option("--source", metavar="NAME", help="Take every coin's closes from this stored source (e.g. coingecko, binance, csv) [default: one source per coin, the best coverage; see 'tracker coverage'].")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.05, show_default=True, help="Significance level of the verdicts and diagnostics.")
@click.option("--primary-window", metavar="START:END", help="The window the findings lead with [default: the first of --windows].")
@click.option("--placebo", is_flag=True, help="Placebo inference over pseudo-event days, with a histogram in the report.")
@click.option("--placebo-range", metavar="START:END", help="Pseudo-event days relative to the event (implies --placebo) [default: -250:-20].")
@click.option("--calendar-time", is_flag=True, help="Calendar-time portfolio regression per window (OLS, Newey-West errors).")
@click.option("--portfolio-weights", type=click.Choice(["equal", "cap"]), default="equal", show_default=True, help="Calendar-time portfolio weights (cap: previous day's market caps).")
@click.option("--title", metavar="TEXT", help="The report's title [default: from the events' names].")
@click.option("--output", "output_dir", required=True, type=click.Path(), metavar="DIR", help="Folder to write (created; must be empty unless --overwrite).")
@click.option("--overwrite", is_flag=True, help="Write into a folder that is not empty, replacing an earlier report's files.")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@format_option
@pass_app
def event_study_report(
    app: AppContext, event_ids, tokens, category, membership, benchmark, index_weights, model, estimation_window, windows, hourly,
    return_kind, exclude_other_events, move_window, correlation_window, gpu_sets, source, alpha, primary_window, placebo,
    placebo_range, calendar_time, portfolio_weights, title, output_dir, overwrite, quiet, fmt,
) -> None:
    """Write an event-study report: index.html (self-contained), report.md, report.json, tables/*.csv, charts/*.svg.

    \b
    The report holds the question and set-up (events, sample and why, benchmark, model,
    windows, coverage and exclusions), the CAAR chart with its confidence band, CAR per token,
    the AAR table, the test battery (dependence-robust tests first when events are clustered),
    a verdict per window (robust, mixed, none) with the placebo, calendar-time and diagnostics,
    raw moves as the press reports them, correlation before and after, GPU-demand context,
    methodology, caveats and data provenance.

    \b
    Examples:
      tracker report event-study --event sora-demo --output reports/sora
      tracker report event-study --event sora-demo --event nvidia-earnings-2024-02 \\
          --tokens fetch-ai,worldcoin-wld,render-token --output reports/feb-2024
    """
    folder = check_report_dir(output_dir, overwrite=overwrite)
    options = ReportOptions(
        events=split_ids(event_ids),
        tokens=split_ids(tokens) if tokens is not None else None,
        category=category,
        membership=membership,
        benchmark=benchmark,
        index_weights=index_weights,
        model=model,
        estimation_window=estimation_window,
        windows=windows,
        hourly=hourly,
        return_kind=return_kind,
        exclude_other_events=exclude_other_events,
        move_window=move_window,
        correlation_window=correlation_window,
        gpu_overrides=parse_set(gpu_sets),
        title=title,
        source=source,
        alpha=alpha, primary_window=primary_window, placebo=placebo, placebo_range=placebo_range,
        calendar_time=calendar_time, portfolio_weights=portfolio_weights,
    ).check()
    db = app.database()
    say = progress_printer(quiet)
    report = build_report(db, app.config, options, progress=say)
    if say:
        say(f"writing {folder}")
    files = write_report(report, folder, overwrite=overwrite)
    click.echo(render_sections(summary_sections(report.doc, folder, files), fmt))


@click.command("demo")
@click.option("--output", "output_dir", default="tracker-demo", show_default=True, type=click.Path(), metavar="DIR",
              help="Folder for the demo's config, database and report (created; must be empty unless --overwrite).")
@click.option("--overwrite", is_flag=True, help="Reuse a folder that is not empty (the demo's database starts afresh).")
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
@format_option
def demo_command(output_dir: str, overwrite: bool, quiet: bool, fmt: str) -> None:
    """A one-minute offline tour on SIMULATED DATA: fake server, ingestion, SQL, a report.

    \b
    Starts the fake CoinGecko server in this process, runs the daemon's jobs once (categories,
    markets, members, history) into a fresh database in DIR, runs a few cookbook queries, and
    writes an event-study report of the Sora demo and Nvidia's results to DIR/report. Nothing
    touches the network or your own database; everything is labelled SIMULATED DATA.

    \b
    The fake server listens on 127.0.0.1 only, on a free port the system picks (stderr names
    it: "started the fake CoinGecko server at http://127.0.0.1:PORT"); it stops when the tour
    ends. The default DIR, tracker-demo, is in the repository's .gitignore.
    """
    from jobs import run_jobs_once

    from ..report.demo import NOTICE, run_demo  # the fake server and the ingestion stack load only here

    check_report_dir(output_dir, overwrite=overwrite)
    say = None if quiet else (lambda text: click.echo(f"demo: {text} ...", err=True))
    if fmt == "table":
        click.echo(NOTICE + "\n")
    result = run_demo(output_dir, run_jobs=lambda config, clock: run_jobs_once(config, clock=clock),
                      overwrite=overwrite, progress=say)
    sections: dict = {"ingestion runs (simulated)": result.runs.drop(columns=["run_id"], errors="ignore")}
    for title, _sql, frame in result.queries:
        sections[f"cookbook: {title}"] = frame
    sections["report (simulated)"] = summary_sections(result.report.doc, result.report_dir, result.files)["key figures"]
    where = pd.DataFrame([
        {"what": "report", "path": str(result.report_dir / "index.html"), "how": "open it in a browser (report.md, report.json and tables/ beside it)"},
        {"what": "database", "path": str(result.database), "how": f"tracker --config {result.config_path} sql \"select * from coin_latest\""},
        {"what": "config", "path": str(result.config_path), "how": "the fake server it names has stopped; the data stays"},
    ])
    sections["where to look"] = where
    if fmt == "json":
        sections = {"simulated": True, "notice": NOTICE, **sections, "seconds": round(result.seconds, 1)}
    click.echo(render_sections(sections, fmt))
    if fmt == "table":
        click.echo(f"\n{NOTICE}\nDone in {result.seconds:.0f} s. Start with {result.report_dir / 'index.html'}")
