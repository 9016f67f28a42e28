"""Warnings about the events themselves: windows that overlap, estimation windows that hold
another event, announcements whose time of day is unknown.

The Sora demo (2024-02-15) and Nvidia's results (2024-02-21) are six days apart, so with the
default windows Sora's [0, 5] and Nvidia's [-1, 1] share 2024-02-20: what either study finds
there belongs to both events.
"""
from __future__ import annotations

from itertools import combinations
from typing import Sequence

import pandas as pd

from ..analysis.events import Event
from .options import ReportOptions


def _span(day0: pd.Timestamp, start: int, end: int, period: pd.Timedelta) -> tuple[pd.Timestamp, pd.Timestamp]:
    return day0 + start * period, day0 + end * period


def _fmt(when: pd.Timestamp, period: pd.Timedelta) -> str:
    return f"{when:%Y-%m-%d}" if period >= pd.Timedelta(days=1) else f"{when:%Y-%m-%d %H:00}"


def event_warnings(events: Sequence[Event], options: ReportOptions) -> list[dict]:
    """Warnings as ``{"kind", "events", "message"}``, in the order a reader should see them."""
    period = pd.Timedelta(hours=1) if options.hourly else pd.Timedelta(days=1)
    unit = "hour" if options.hourly else "day"
    windows = options.event_windows
    first, last = min(w.start for w in windows), max(w.end for w in windows)
    est = options.estimation
    day0 = {e.event_id: pd.Timestamp(e.ts).floor(period) for e in events}
    ordered = sorted(events, key=lambda e: e.ts)
    warnings = []
    for a, b in combinations(ordered, 2):
        a_lo, a_hi = _span(day0[a.event_id], first, last, period)
        b_lo, b_hi = _span(day0[b.event_id], first, last, period)
        if a_lo <= b_hi and b_lo <= a_hi:
            lo, hi = max(a_lo, b_lo), min(a_hi, b_hi)
            shared = _fmt(lo, period) if lo == hi else f"{_fmt(lo, period)} to {_fmt(hi, period)}"
            warnings.append({
                "kind": "overlapping-windows",
                "events": [a.event_id, b.event_id],
                "message": (
                    f"The event windows of {a.event_id} ({_fmt(a_lo, period)} to {_fmt(a_hi, period)}) and "
                    f"{b.event_id} ({_fmt(b_lo, period)} to {_fmt(b_hi, period)}) overlap on {shared}: abnormal "
                    f"returns there are counted for both events and cannot be told apart, and the pooled study "
                    f"counts those {unit}s twice. Read the windows that do not overlap first."
                ),
            })
        for host, guest in ((a, b), (b, a)):
            e_lo, e_hi = _span(day0[host.event_id], est.start, est.end, period)
            g_lo, g_hi = _span(day0[guest.event_id], first, last, period)
            if e_lo <= g_hi and g_lo <= e_hi:
                action = (
                    "those periods are left out of its estimation (--exclude-other-events)"
                    if options.exclude_other_events
                    else "its reaction inflates the estimated volatility and can bias alpha and beta; "
                    "pass --exclude-other-events to leave those periods out"
                )
                warnings.append({
                    "kind": "event-in-estimation-window",
                    "events": [host.event_id, guest.event_id],
                    "message": f"{guest.event_id}'s event window lies inside {host.event_id}'s estimation window "
                               f"{est.label} ({_fmt(e_lo, period)} to {_fmt(e_hi, period)}): {action}.",
                })
    for event in ordered:
        if not event.time_known:
            warnings.append({
                "kind": "time-unknown",
                "events": [event.event_id],
                "message": f"{event.event_id}: only the date is known ({event.ts:%Y-%m-%d}), so {unit} 0 is that UTC "
                           f"{'day' if unit == 'day' else 'date at 00:00'}; a late announcement may show its reaction "
                           f"on {unit} +1, which the windows starting at -1 or ending after 0 still cover.",
            })
    return warnings
