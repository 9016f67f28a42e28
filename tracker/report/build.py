"""Assemble a report from the database: every number in one JSON-ready document, the tables
for CSV, and the charts as SVG.

Nothing here is new statistics: the studies are :class:`tracker.analysis.eventstudy.EventStudy`, the
correlations :mod:`tracker.analysis.correlation`, the GPU figures :mod:`tracker.analysis.gpu`. This module
decides what goes in, and keeps the JSON, the CSV tables and the charts consistent: the JSON
is built from the same frames the CSV files are written from.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import pandas as pd

from storage import Database

from ..analysis import plotting
from ..analysis.events import Event, get_event, list_events
from ..analysis.eventstudy import TESTS
from ..analysis.eventstudy.caar_charts import caar_band, caar_chart, car_bar_chart
from ..analysis.eventstudy.data import StudyData, known_coins, load_study_data, reference_returns
from ..analysis.eventstudy.placebo_chart import placebo_histogram
from ..analysis.eventstudy.windows import Window
from ..analysis.missing import empty_database, unknown_coins_message
from ..analysis.output import to_json
from ..analysis.source_choice import SourcePolicy
from ..config import Config
from ..errors import InputError
from .correlations import CorrelationOutcome, correlation_context
from .gpu_context import GpuOutcome, gpu_context
from .moves import day_zero, raw_moves
from .moves_chart import moves_chart
from .options import ReportOptions
from .overlaps import event_warnings
from .provenance import database_info, generator_info, last_runs, plan_info, price_sources
from .reaction import reaction_records, speed_table
from .sample import sample_frame
from .studies import POOLED, StudyOutcome, fit_studies, lead_test, ordered_tests
from .svg import inline_svg

Progress = Callable[[str], None]
REFERENCE_COINS = ("bitcoin", "ethereum")


@dataclass
class Chart:
    """One chart: ``charts/<name>.svg`` beside the report, inline in the HTML."""

    name: str
    title: str
    caption: str
    svg: str             # as matplotlib wrote it
    inline: str = ""     # namespaced and sized for the page


@dataclass
class ReportData:
    """A built report, ready to render and write.

    Attributes
    ----------
    doc : dict
        Every number and setting, JSON-ready (``report.json``); the HTML and Markdown read
        their numbers from it.
    tables : dict of str -> DataFrame
        The tables written as ``tables/<name>.csv``.
    charts : dict of str -> Chart
    """

    doc: dict
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    charts: dict[str, Chart] = field(default_factory=dict)

    @property
    def simulated(self) -> bool:
        return bool(self.doc["report"]["simulated"])

    def to_json(self) -> str:
        return json.dumps(self.doc, indent=2, allow_nan=False)


def plain(value):
    """JSON-ready Python values (frames become lists of records; NaN becomes None)."""
    if isinstance(value, pd.DataFrame):
        return json.loads(to_json(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return json.loads(to_json(value))


def _sample_rule(options: ReportOptions, config: Config) -> tuple[list[str] | None, str | None]:
    if options.tokens is not None:
        return list(options.tokens), None
    if options.category:
        return None, options.category
    if not config.tracking.categories:
        raise InputError("no `tokens` or `category` given and no category is tracked in the config", parameters=["tokens", "category"])
    return None, config.tracking.categories[0]


def _chart(charts: dict[str, Chart], name: str, figure, title: str, caption: str) -> None:
    if isinstance(figure, tuple):  # the event-study charts return (figure, axes)
        figure = figure[0]
    svg = plotting.to_svg(figure)
    charts[name] = Chart(name, title, caption, svg, inline_svg(svg, f"c{len(charts)}", title))


def _study_record(outcome: StudyOutcome, period: pd.Timedelta) -> tuple[dict, dict[str, pd.DataFrame]]:
    record = {"id": outcome.id, "label": outcome.label, "event_ids": outcome.event_ids,
              "status": "ok" if outcome.ok else "failed", "error": outcome.error}
    if not outcome.ok:
        return record, {}
    r = outcome.results
    aar = r.aar.copy()
    if len(outcome.event_ids) == 1:
        day0 = pd.Timestamp(r.estimation["day0"].iloc[0])
        aar.insert(1, "period", [day0 + int(k) * period for k in aar["relative_period"]])
    days, caar, lower, upper, band = caar_band(r)
    band_frame = pd.DataFrame({"relative_period": days, "caar": caar, "lower": lower, "upper": upper})
    frames = {
        "caar": r.caar,
        "car": r.car,
        "aar": aar,
        "tests": ordered_tests(r),
        "estimation": r.estimation,
        "excluded": r.excluded,
        "caar_band": band_frame,
    }
    # "diagnostics" already names the battery's figures in the record: the table is "diagnostics_table".
    frames.update({("diagnostics_table" if name == "diagnostics" else name): frame
                   for name, frame in r.evidence_frames().items() if frame is not None})
    record.update({
        "n": r.n,
        "excluded_count": int(len(r.excluded)),
        "clustered": r.clustered,
        "lead_test": lead_test(r),
        "lead_tests": list(r.lead_test_names),
        "primary_window": r.primary_window,
        "placebo_range": r.placebo.range.label if r.placebo is not None else None,
        "band": band,
        # The longest window (the first of equal length): with the primary window listed first,
        # the last window is no longer the natural one to chart.
        "car_window": _longest(r).label,
        "settings": r.settings,
        "clustering": r.clustering,
        "diagnostics": r.diagnostics,
        **frames,
    })
    return record, frames


def _longest(results) -> Window:
    return max(results.arrays.windows, key=lambda w: w.length)


def _with_study(frames: Sequence[tuple[str, pd.DataFrame]]) -> pd.DataFrame:
    parts = [frame.assign(study=study_id)[["study", *frame.columns]] for study_id, frame in frames if len(frame)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _question(events: Sequence[Event], options: ReportOptions, category: str | None, benchmark_name: str) -> str:
    sample = f"the tokens in the {category} category at the time" if category else f"the {len(options.tokens)} tokens named"
    if options.model == "mean":
        versus = "their own average returns"
    else:
        versus = f"the benchmark ({benchmark_name})"
    if len(events) == 1:
        event = events[0]
        when = f"{event.ts:%Y-%m-%d %H:%M} UTC" if event.time_known else f"{event.ts:%Y-%m-%d} (time of day unknown)"
        return (f"Did the event \u201c{event.name}\u201d ({when}) move {sample} beyond what {versus} would predict, "
                "by how much, and is the move statistically significant?")
    return (f"Did these {len(events)} announcements move {sample} beyond what {versus} would predict, "
            "by how much, and are the moves statistically significant, event by event and together?")


def build_report(db: Database, config: Config, options: ReportOptions, *, progress: Progress | None = None) -> ReportData:
    """Build a report from the database.

    The steps, in order: check the options, load the prices, fit the studies, measure the raw
    moves, compare correlations, estimate GPU demand, collect provenance, assemble.

    Parameters
    ----------
    db : storage.Database
    config : Config
        For the default category, the CoinGecko plan and the currency.
    options : ReportOptions
    progress : callable, optional
        Called with a short line before each long step.

    Raises
    ------
    TrackerError
        Bad options, unknown events or tokens, or no event that can be studied.
    """
    say = progress or (lambda text: None)
    tokens, category, events = _check_inputs(db, config, options)
    period = pd.Timedelta(hours=1) if options.hourly else pd.Timedelta(days=1)
    policy = SourcePolicy(options.source, config.tracking.usd_equivalents)
    data = _load(db, events, options, tokens, category, say, policy)
    minute_policy, policy = policy, policy.pinned(data.price_sources)  # moves and correlations read the study's series
    references = [c for c in dict.fromkeys(([options.benchmark] if options.benchmark != "index" else []) + list(REFERENCE_COINS))
                  if known_coins(db, [c])]
    # The reference coins other than the benchmark, for the diagnostics' market-move check.
    markets = reference_returns(db, [c for c in references if c != options.benchmark], data.returns.index, period, options.return_kind)
    outcomes = fit_studies(data, events, options, progress=say, calendar=list_events(db).rename(columns={"ts": "timestamp"}),
                           references=markets if markets.shape[1] else None)
    sample = sample_frame(db, events, data, outcomes, options, category)
    charts: dict[str, Chart] = {}
    studies, per_study = _study_charts(outcomes, period, charts, say)
    say("measuring raw moves")
    samples = {e.event_id: data.events.loc[data.events["event_id"] == e.event_id, "security"].tolist() for e in events}
    moves = _raw_moves(db, events, samples, references, options, charts, policy)
    correlation = _correlations(db, events, samples, options, charts, say, policy)
    say("measuring the minute reaction")
    reaction = reaction_records(db, events, samples, options.benchmark, minute_policy, lambda *a: _chart(charts, *a))
    say("estimating GPU demand")
    gpu = _gpu(options, charts)
    say("collecting provenance")
    provenance = _provenance(db, config, options, data, events, references, period, policy)
    warnings = _warnings(events, options, data, outcomes, correlation)
    parts = _Parts(tokens=tokens, category=category, events=events, data=data, outcomes=outcomes, sample=sample,
                   studies=studies, per_study=per_study, moves=moves, correlation=correlation, gpu=gpu,
                   provenance=provenance, warnings=warnings, reaction=reaction)
    return _assemble(db, options, parts, charts)


def _check_inputs(db: Database, config: Config, options: ReportOptions) -> tuple[list[str] | None, str | None, list[Event]]:
    options.check()
    tokens, category = _sample_rule(options, config)
    events = [get_event(db, event_id) for event_id in options.events]
    # The loader checks these too; checking them first keeps such errors ahead of any progress line.
    if tokens is not None:
        known = known_coins(db, tokens)
        unknown = [t for t in tokens if t not in known]
        if unknown:
            raise InputError(unknown_coins_message(db, unknown))
    if options.benchmark != "index" and not known_coins(db, [options.benchmark]):
        raise InputError(empty_database(db) or
                         f"unknown benchmark {options.benchmark!r}: no such coin id in the database (e.g. bitcoin, ethereum, or 'index')")
    return tokens, category, events


def _load(db: Database, events: Sequence[Event], options: ReportOptions, tokens: list[str] | None,
          category: str | None, say: Progress, policy: SourcePolicy) -> StudyData:
    say(f"loading {options.frequency} prices for {len(events)} event(s)")
    estimation, rng = options.estimation, options.placebo_window
    # The placebo reruns the study on days before the event: load that much more history.
    loaded = Window(estimation.start + rng.start, estimation.end) if rng else estimation
    return load_study_data(
        db, [e.event_id for e in events], tokens=tokens, category=category, benchmark=options.benchmark,
        index_weights=options.index_weights, hourly=options.hourly, estimation_window=loaded,
        event_windows=options.event_windows, return_kind=options.return_kind, membership=options.membership,
        sources=policy,
        caps=options.calendar_time and options.portfolio_weights == "cap",
    )


def _study_charts(outcomes: Sequence[StudyOutcome], period: pd.Timedelta, charts: dict[str, Chart],
                  say: Progress) -> tuple[list[dict], list[tuple[str, dict[str, pd.DataFrame]]]]:
    say("drawing the event-study charts")
    studies, per_study = [], []
    for outcome in outcomes:
        record, frames = _study_record(outcome, period)
        studies.append(record)
        per_study.append((outcome.id, frames))
        if outcome.ok:
            what = outcome.id if outcome.id != POOLED else "all events pooled"
            _chart(charts, f"caar-{outcome.id}", caar_chart(outcome.results, title=f"CAAR, {what}"),
                   f"CAAR, {outcome.label}",
                   f"Cumulative average abnormal return over the event span with its 95% band ({record['band']}).")
            if outcome.results.placebo is not None:
                _chart(charts, f"placebo-{outcome.id}", placebo_histogram(outcome.results, title=f"Placebo over {outcome.results.primary_window}, {what}"),
                       f"Placebo, {outcome.label}",
                       f"The CAAR over {outcome.results.primary_window} on every pseudo-event day {record['placebo_range']} (bars), "
                       "and the event's own CAAR on the same tokens (red line); the placebo p is the share at least as extreme.")
            _chart(charts, f"car-{outcome.id}", car_bar_chart(outcome.results, window=_longest(outcome.results), title=f"CAR per token over {record['car_window']}, {what}"),
                   f"CAR per token, {outcome.label}",
                   f"Each token's cumulative abnormal return over {record['car_window']}, with 95% intervals from its estimation variance.")
    return studies, per_study


def _raw_moves(db: Database, events: Sequence[Event], samples: dict[str, list[str]], references: list[str],
               options: ReportOptions, charts: dict[str, Chart], policy: SourcePolicy) -> pd.DataFrame:
    moves = raw_moves(db, events, samples, references, options.move, policy)
    for event in events:
        rows = moves[moves["event_id"] == event.event_id]
        if rows["move"].notna().any():
            first = rows.iloc[0]
            _chart(charts, f"moves-{event.event_id}", moves_chart(rows, f"Raw move, {first['start_day']} to {first['end_day']}: {event.event_id}"),
                   f"Raw moves around {event.event_id}",
                   f"Close of {first['start_day']} to close of {first['end_day']} (relative days {options.move.start} to +{options.move.end}), no model.")
    return moves


def _correlations(db: Database, events: Sequence[Event], samples: dict[str, list[str]], options: ReportOptions,
                  charts: dict[str, Chart], say: Progress, policy: SourcePolicy) -> list[CorrelationOutcome]:
    correlation: list[CorrelationOutcome] = []
    for event in events:
        say(f"comparing correlations before and after {event.event_id}")
        outcome = correlation_context(db, event, samples[event.event_id], options.benchmark,
                                      periods=options.correlation_periods, hourly=options.hourly, policy=policy)
        correlation.append(outcome)
        if outcome.ok:
            _chart(charts, f"correlation-{event.event_id}", outcome.figure, f"Correlation before and after {event.event_id}",
                   "Each token's correlation with the benchmarks before (open circle) and after (dot) the event; red = change significant after Benjamini-Hochberg.")
    return correlation


def _gpu(options: ReportOptions, charts: dict[str, Chart]) -> GpuOutcome:
    gpu = gpu_context(options.gpu_overrides)
    _chart(charts, "gpu-tornado", gpu.figure, "What moves the peak H100 count most",
           "Peak H100s needed when each assumption moves over its range (the others at their values), against a year of H100 shipments.")
    return gpu


@dataclass
class _Provenance:
    first_day: pd.Timestamp
    last_day: pd.Timestamp
    sources: pd.DataFrame
    runs: pd.DataFrame
    plan: dict
    rule: str
    simulated: bool
    simulated_reason: str


def _provenance(db: Database, config: Config, options: ReportOptions, data: StudyData, events: Sequence[Event],
                references: list[str], period: pd.Timedelta, policy: SourcePolicy) -> _Provenance:
    coins = sorted(set(data.events["security"]) | set(references))
    first_day = min(day_zero(e) for e in events) + (options.estimation.start - 1) * period
    last_day = max(day_zero(e) for e in events) + max(w.end for w in options.event_windows) * period + pd.Timedelta(days=max(options.move.end, 0))
    sources = price_sources(db, coins, first_day, last_day, hourly=options.hourly, policy=policy)
    runs = last_runs(db)
    plan = plan_info(config)
    simulated = bool(options.simulated or plan["loopback_server"])
    simulated_reason = (
        "made by `tracker demo` from a fake CoinGecko server" if options.simulated
        else f"the config points at a server on this machine ({plan['base_url']}), not CoinGecko" if simulated else ""
    )
    rule = policy.describe(data.quote)
    return _Provenance(first_day, last_day, sources, runs, plan, rule, simulated, simulated_reason)


def _warnings(events: Sequence[Event], options: ReportOptions, data: StudyData, outcomes: Sequence[StudyOutcome],
              correlation: Sequence[CorrelationOutcome]) -> list[dict]:
    warnings = event_warnings(events, options)
    warnings += [{"kind": "sample", "events": [], "message": note} for note in data.notes]
    warnings += [{"kind": "study-failed", "events": o.event_ids, "message": f"{o.id}: {o.error}"} for o in outcomes if not o.ok]
    warnings += [{"kind": "correlation-unavailable", "events": [c.event_id], "message": f"correlation around {c.event_id}: {c.error}"}
                 for c in correlation if not c.ok]
    return warnings


@dataclass
class _Parts:
    """What the steps of :func:`build_report` produced, for :func:`_assemble`."""

    tokens: list[str] | None
    category: str | None
    events: list[Event]
    data: StudyData
    outcomes: list[StudyOutcome]
    sample: pd.DataFrame
    studies: list[dict]
    per_study: list[tuple[str, dict[str, pd.DataFrame]]]
    moves: pd.DataFrame
    correlation: list[CorrelationOutcome]
    gpu: GpuOutcome
    provenance: _Provenance
    warnings: list[dict]
    reaction: list[dict] = field(default_factory=list)  # minute reaction per event with minute data


def _event_rows(events: Sequence[Event], data: StudyData, options: ReportOptions) -> pd.DataFrame:
    return pd.DataFrame([
        {"event_id": e.event_id, "name": e.name, "ts": pd.Timestamp(e.ts), "time_known": e.time_known, "kind": e.kind,
         "day0": day_zero(e) if not options.hourly else pd.Timestamp(e.ts).floor("h"),
         "source_url": e.source_url, "notes": e.notes,
         "sample_size": int((data.events["event_id"] == e.event_id).sum())}
        for e in events
    ])


def _settings(options: ReportOptions, parts: _Parts) -> dict:
    ok_study = next(o for o in parts.outcomes if o.ok).results
    return {
        "model": ok_study.settings["model"],
        "model_description": ok_study.settings["model_description"],
        "benchmark": parts.data.benchmark_name,
        "benchmark_option": options.benchmark,
        "index_weights": options.index_weights if options.benchmark == "index" else None,
        "frequency": options.frequency,
        "return_kind": options.return_kind,
        "estimation_window": options.estimation.label,
        "estimation_length": options.estimation.length,
        "min_estimation_obs": ok_study.settings["min_estimation_obs"],
        "event_windows": [w.label for w in options.event_windows],
        "exclude_other_events": options.exclude_other_events,
        "sample_rule": "tokens" if parts.tokens is not None else "category",
        "category": parts.category,
        "tokens": parts.tokens,
        "move_window": options.move.label,
        "alpha": options.alpha,
        "primary_window": ok_study.primary_window,
        "placebo_range": options.placebo_window.label if options.placebo_window else None,
        "calendar_time": options.calendar_time,
        "portfolio_weights": options.portfolio_weights if options.calendar_time else None,
        "correlation_periods": options.correlation_periods,
        "gpu_overrides": dict(options.gpu_overrides),
        "sources": parts.provenance.rule,
        "source_option": options.source,
    }


def _assemble(db: Database, options: ReportOptions, parts: _Parts, charts: dict[str, Chart]) -> ReportData:
    event_rows = _event_rows(parts.events, parts.data, options)
    events, gpu, prov = parts.events, parts.gpu, parts.provenance
    tests_info = pd.DataFrame([{"test": t.name, "title": t.title, "robust_to_cross_correlation": t.robust, "why": t.why} for t in TESTS.values()])
    correlation_records = [
        {"event_id": c.event_id, "status": "ok" if c.ok else "unavailable", "error": c.error, "settings": c.settings,
         "pairs": c.pairs if c.ok else [], "tokens_summary": c.summary}
        for c in parts.correlation
    ]
    title = options.title or ("Event study: " + " and ".join(e.name for e in events))
    doc = plain({
        "report": {
            **generator_info(),
            "title": title,
            "simulated": prov.simulated,
            "simulated_reason": prov.simulated_reason,
            "command": options.command or options.command_line(),
        },
        "question": _question(events, options, parts.category, parts.data.benchmark_name),
        "settings": _settings(options, parts),
        "events": event_rows,
        "warnings": parts.warnings,
        "sample": parts.sample,
        "studies": parts.studies,
        "raw_moves": parts.moves,
        "correlation": correlation_records,
        "reaction": parts.reaction,
        "gpu": {
            "arithmetic": gpu.estimate.arithmetic,
            "overridden": sorted(gpu.estimate.assumptions.overridden),
            "reproduces_article": gpu.estimate.reproduces_article(),
            "headline": gpu.headline,
            "outputs": gpu.outputs,
            "assumptions": gpu.assumptions,
            "tornado": gpu.tornado,
            "notes": list(gpu.estimate.notes),
        },
        "methodology": {"tests": tests_info},
        "provenance": {
            "database": database_info(db),
            "plan": prov.plan,
            "price_sources": prov.sources,
            "source_rule": prov.rule,
            "ingest_runs": prov.runs,
            "price_range": {"first": prov.first_day, "last": prov.last_day},
        },
    })
    return ReportData(doc, _tables(event_rows, parts), charts)


def _tables(event_rows: pd.DataFrame, parts: _Parts) -> dict[str, pd.DataFrame]:
    per_study, correlation, gpu = parts.per_study, parts.correlation, parts.gpu

    def stacked(name: str) -> pd.DataFrame:
        return _with_study([(i, f[name]) for i, f in per_study if f.get(name) is not None])

    return {
        "events": event_rows,
        "sample": parts.sample,
        **{name: stacked(name) for name in ("caar", "car", "aar", "tests", "estimation", "excluded", "caar_band")},
        **{name: stacked(name) for name in ("verdicts", "evidence", "diagnostics_table", "placebo", "placebo_pseudo", "calendar_time")
           if any(f.get(name) is not None for _, f in per_study)},
        "raw_moves": parts.moves,
        "correlation": pd.concat([c.pairs.assign(event_id=c.event_id) for c in correlation if c.ok], ignore_index=True)
        if any(c.ok for c in correlation) else pd.DataFrame(),
        "gpu_outputs": gpu.outputs,
        "gpu_assumptions": gpu.assumptions,
        "gpu_tornado": gpu.tornado,
        "price_sources": parts.provenance.sources,
        "ingest_runs": parts.provenance.runs,
        "warnings": pd.DataFrame([{**w, "events": ",".join(w["events"])} for w in parts.warnings], columns=["kind", "events", "message"]),
        **({"reaction_speed": speed_table(parts.reaction)} if parts.reaction else {}),
    }
