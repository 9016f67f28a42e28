"""The report's "How fast" section: minute-resolution reaction, when minute candles exist.

For each event whose window [-60 min, +24 h] has minute candles of the benchmark and at least
one token (``tracker ingest candles --interval 1m`` or ``--around-events``), the report shows
each token's and the AI index's day's move and the minutes until half of it had happened, with
a chart of cumulative abnormal return by minute (``tracker.analysis.reaction``). Without minute
data the section is left out.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import pandas as pd

from ..analysis.events import Event
from ..analysis.reaction import reaction_chart
from ..analysis.reaction_data import load_reaction
from ..analysis.source_choice import SourcePolicy, provenance_rows
from .document import Doc, Figure, Paragraph, Section, Subheading, Table

if TYPE_CHECKING:
    from .build import ReportData

MINUTE_BENCHMARK = "bitcoin"  # for an 'index' benchmark: an index of every coin's minutes is not stored


def reaction_records(db, events: Sequence[Event], samples: dict[str, list[str]], benchmark: str, policy: SourcePolicy,
                     add_chart: Callable[[str, object, str, str], None]) -> list[dict]:
    """One record per event with minute data: settings, speed rows, sources; charts via ``add_chart``."""
    bench = benchmark if benchmark != "index" else MINUTE_BENCHMARK
    records = []
    for event in events:
        results, chosen = load_reaction(db, event, samples.get(event.event_id, []), bench, policy=policy)
        if results is None:
            continue
        s = results.settings
        add_chart(f"reaction-{event.event_id}", reaction_chart(results, f"Minute reaction, {event.event_id}"),
                  f"Minute reaction to {event.event_id}",
                  f"Cumulative abnormal return (token minus {bench}, log returns) by minute from 60 minutes before to 24 hours "
                  "after the announcement; a dot marks where each series had made half of its 24-hour move.")
        speed = results.speed.assign(event_id=event.event_id)
        records.append({
            "event_id": event.event_id, "announcement": s.announcement, "time_known": s.time_known, "time_note": s.time_note,
            "benchmark": bench, "benchmark_note": "" if bench == benchmark else "the study's index benchmark has no minute "
            f"data; minutes are measured against {bench}", "model": s.model, "pre_minutes": s.pre_minutes,
            "post_minutes": s.post_minutes, "speed": speed, "sources": provenance_rows(chosen, "usd"),
        })
    return records


def speed_table(records: list[dict]) -> pd.DataFrame:
    """Every event's speed rows stacked (the report's reaction_speed.csv)."""
    frames = [r["speed"] for r in records]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def reaction_section(report: "ReportData", doc: Doc) -> Section | None:
    """The "How fast" section, or None when no event has minute data."""
    records = doc.data.get("reaction") or []
    if not records:
        return None
    blocks: list = [Paragraph([
        "How fast the market moved, from minute candles: each token's cumulative abnormal return (its log return minus the "
        "benchmark's, market-adjusted: no model is estimated at minute frequency) from the close at the announcement "
        "minute. The day's move is that return 24 hours later; half-life is the first minute at which half of it, in the "
        "same direction, had happened. The AI index is the equal-weighted index of the tokens.",
    ])]
    for i, record in enumerate(records):
        when = str(record["announcement"]).replace("T", " ")[:16]
        blocks.append(Subheading(f"{record['event_id']}: announced {when} UTC"))
        notes = [f"Announcement time: {record['time_note']}."]
        if not record["time_known"]:
            notes.append("The minute counts are measured from 00:00 UTC of the day and do not time the reaction to the news.")
        if record["benchmark_note"]:
            notes.append(record["benchmark_note"][0].upper() + record["benchmark_note"][1:] + ".")
        blocks.append(Paragraph([" ".join(notes)]))
        chart = report.charts.get(f"reaction-{record['event_id']}")
        if chart:
            blocks.append(Figure(chart.name, chart.title, chart.caption, chart.inline))
        rows = []
        for j, row in enumerate(record["speed"]):
            rows.append([row["series"], doc.cell("reaction", i, "speed", j, "day_move", kind="pct"),
                         doc.cell("reaction", i, "speed", j, "half_move_minutes", kind="int"),
                         str(row["half_move_at"] or "").replace("T", " ")[:16],
                         doc.cell("reaction", i, "speed", j, "peak_car", kind="pct"),
                         doc.cell("reaction", i, "speed", j, "minutes_with_candles", kind="int"), row["note"] or ""])
        blocks.append(Table(["series", "24-hour abnormal move", "minutes to half", "half reached (UTC)", "peak",
                             "minutes with candles", "note"], rows,
                            f"Against {record['benchmark']}; minutes from the announcement minute.", "reaction_speed"))
    return Section("reaction", "How fast: the minute-by-minute reaction", blocks)
