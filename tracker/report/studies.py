"""The event studies a report shows: one per event, and all events pooled when there are several.

Each study is :class:`tracker.analysis.eventstudy.EventStudy` on the panel that
:func:`tracker.analysis.eventstudy.data.load_study_data` loaded once for every event; nothing here
computes a statistic. A study that cannot be fitted (no security-event left) is kept with its
reason, so one unusable event does not sink a report of several.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..analysis.events import Event
from ..analysis.eventstudy import EventStudy, EventStudyResults
from ..analysis.eventstudy.data import StudyData
from ..analysis.eventstudy.windows import locate_day0, parse_day_boundary
from ..errors import AnalysisError
from .formatting import pooled_label
from .options import ReportOptions

POOLED = "pooled"


@dataclass
class StudyOutcome:
    """One fitted study (or why it could not be fitted)."""

    id: str                     # the event id, or "pooled"
    label: str
    event_ids: list[str]
    results: EventStudyResults | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.results is not None


def _study(data: StudyData, events: pd.DataFrame, options: ReportOptions, exclude_other_events: bool,
           returns: pd.DataFrame | None = None, calendar: pd.DataFrame | None = None,
           references: pd.DataFrame | None = None) -> EventStudy:
    return EventStudy(
        data.returns if returns is None else returns,
        data.market,
        events,
        model=options.model,
        estimation_window=options.estimation,
        event_windows=options.event_windows,
        return_kind=options.return_kind,
        exclude_other_events=exclude_other_events,
        benchmark_name=data.benchmark_name,
        sources=data.source_settings,
        caps=data.caps,
        calendar=calendar,
        references=references,
        **options.evidence,
    )


def mask_other_events(data: StudyData, event_id: str, options: ReportOptions) -> pd.DataFrame:
    """Returns with the other events' spans blanked inside ``event_id``'s estimation window.

    A study of one event alone cannot see the others, so ``exclude_other_events`` is applied
    here as the engine applies it to a pooled study: an estimation period inside another
    event's span (first event-window start to last end) is dropped for the securities both
    events study. The event's own window is never touched.
    """
    returns = data.returns.copy()
    index = returns.index
    windows = options.event_windows
    span = (min(w.start for w in windows), max(w.end for w in windows))
    est = options.estimation
    times = data.events.drop_duplicates("event_id").set_index("event_id")["timestamp"]
    day0 = dict(zip(times.index, locate_day0(index, data.period, parse_day_boundary("00:00"), pd.DatetimeIndex(times.to_numpy()))))
    own = day0[event_id]
    if own < 0:
        return returns
    mine = set(data.events.loc[data.events["event_id"] == event_id, "security"])
    est_rows = np.arange(max(own + est.start, 0), min(own + est.end, len(index) - 1) + 1)
    for other, position in day0.items():
        if other == event_id or position < 0:
            continue
        shared = sorted(mine & set(data.events.loc[data.events["event_id"] == other, "security"]))
        rows = est_rows[(est_rows >= position + span[0]) & (est_rows <= position + span[1])]
        if shared and len(rows):
            returns.iloc[rows, [returns.columns.get_loc(c) for c in shared]] = np.nan
    return returns


def fit_studies(data: StudyData, events: Sequence[Event], options: ReportOptions, progress=None,
                calendar: pd.DataFrame | None = None, references: pd.DataFrame | None = None) -> list[StudyOutcome]:
    """One study per event, then the pooled study when there are several events.

    ``calendar``: every event of the calendar (event_id, timestamp), for the overlap diagnostic;
    ``references``: returns of reference markets, whose day-0 moves the diagnostics check.

    Raises
    ------
    AnalysisError
        When no study at all can be fitted (the first event's reason).
    """
    outcomes: list[StudyOutcome] = []
    for event in events:
        if progress:
            progress(f"fitting the event study of {event.event_id}")
        subset = data.events[data.events["event_id"] == event.event_id]
        returns = mask_other_events(data, event.event_id, options) if options.exclude_other_events and len(events) > 1 else None
        try:
            results = _study(data, subset, options, False, returns, calendar, references).fit()
            outcomes.append(StudyOutcome(event.event_id, event.name, [event.event_id], results))
        except AnalysisError as exc:
            outcomes.append(StudyOutcome(event.event_id, event.name, [event.event_id], None, str(exc)))
    if len(events) > 1:
        if progress:
            progress(f"fitting the pooled study of {len(events)} events")
        ids = [e.event_id for e in events]
        try:
            results = _study(data, data.events, options, options.exclude_other_events, calendar=calendar,
                             references=references).fit()
            outcomes.append(StudyOutcome(POOLED, pooled_label(len(events)), ids, results))
        except AnalysisError as exc:
            outcomes.append(StudyOutcome(POOLED, pooled_label(len(events)), ids, None, str(exc)))
    if not any(o.ok for o in outcomes):
        raise AnalysisError(f"no event could be studied: {outcomes[0].error}")
    return outcomes


def lead_test(results: EventStudyResults) -> str:
    """The test a report quotes first: the first of the verdict's lead tests (KP-BMP when clustered, else BMP)."""
    return str(results.lead_tests("window")["test"].iloc[0])


def ordered_tests(results: EventStudyResults) -> pd.DataFrame:
    """Every test row, window scope first, each scope in the results' lead order (robust first if clustered)."""
    return pd.concat([results.lead_tests("window"), results.lead_tests("day")], ignore_index=True)
