"""Building the live reports (see :mod:`tracker.report.live`): which events are live, how many of
their hours are observed, and one report per event with its windows cut at the last of them."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

import storage
from storage import Database, StorageError

from ..analysis.events import Event, get_event
from ..analysis.eventstudy import parse_windows
from ..config import Config
from ..errors import TrackerError, describe
from ..paths import check_output_dir
from .build import build_report
from .live import HOUR, LIVE_FILE, LiveWindow, Progress, _iso, _write_json, ours, read_live
from .options import STUDY_DEFAULTS, ReportOptions
from .writer import write_report

ESTIMATION, WINDOWS = STUDY_DEFAULTS["hourly"]


def _default_windows() -> list[tuple[int, int]]:
    return [(w.start, w.end) for w in parse_windows(WINDOWS, "`windows` window", ["windows"])]


def _benchmark(config: Config) -> str:
    return config.tracking.benchmarks[0] if config.tracking.benchmarks else "bitcoin"


def live_window(db: Database, config: Config, event: Event, now: datetime) -> LiveWindow:
    """How much of ``event``'s hourly windows the benchmark's stored closes cover at ``now``."""
    defaults = _default_windows()
    first, last = min(s for s, _ in defaults), max(e for _, e in defaults)
    hour0 = pd.Timestamp(event.ts).floor("h").to_pydatetime()
    closes = storage.closes_long(db, "hourly", config.tracking.vs_currency, coin_ids=[_benchmark(config)],
                                 start=hour0 + first * HOUR, end=min(hour0 + last * HOUR, now))
    observed = 0
    if not closes.empty:
        newest = pd.Timestamp(closes["hour"].max()).to_pydatetime()
        observed = max(0, int((newest - hour0) / HOUR) - first + 1)
    return LiveWindow(event.event_id, hour0, first, last, min(observed, last - first + 1), hour0 + (last + 1) * HOUR, now)


def live_events(db: Database, config: Config, now: datetime) -> list[Event]:
    """Events whose hourly windows are still open or closed at most ``reports.recent_days`` ago,
    and events at most that far ahead (they wait for their first hour)."""
    last = max(e for _, e in _default_windows())
    keep = timedelta(days=config.reports.recent_days)
    events = storage.all_events(db)
    live = []
    for event_id, ts in zip(events["event_id"], events["ts"]):
        hour0 = pd.Timestamp(ts).floor("h").to_pydatetime()
        if hour0 - now <= keep and now - (hour0 + (last + 1) * HOUR) <= keep:
            live.append(get_event(db, str(event_id)))
    return live


def _options(config: Config, event: Event, window: LiveWindow, windows: str) -> ReportOptions:
    state = "still open" if window.is_open else "closed"
    return ReportOptions(
        events=(event.event_id,),
        category=config.tracking.categories[0] if config.tracking.categories else None,
        membership="first-known",  # members synced after the event stand in for those at it
        benchmark=_benchmark(config),
        hourly=True,
        estimation_window=ESTIMATION,
        windows=windows,
        title=f"Live study: {event.name} ({window.observed} of {window.total} hours observed, window {state})",
    )


def _open_window_warning(window: LiveWindow) -> dict:
    return {
        "kind": "window-open",
        "events": [window.event_id],
        "message": (f"the event window (hours {window.first:+d} to +{window.last}) is still open: {window.observed} of "
                    f"{window.total} hours observed as of {window.now:%Y-%m-%d %H:%M} UTC; the windows are cut at "
                    f"hour {window.last_observed:+d} and this report is rebuilt as hours come in"),
    }


def build_live_report(db: Database, config: Config, event: Event, folder: Path, now: datetime) -> dict:
    """Build and write one event's live report into ``folder`` (ours: see :func:`ours`);
    returns its ``live.json``. Waiting for the event's first hour writes only ``live.json``."""
    window = live_window(db, config, event, now)
    live = {
        "event_id": event.event_id, "event_name": event.name, "event_at": _iso(event.ts),
        "state": "open" if window.is_open else "closed", "periods_observed": window.observed,
        "periods_total": window.total, "hour0": _iso(window.hour0),
        "last_observed_hour": window.last_observed, "windows": None, "built_at": _iso(now),
        "status": "waiting", "error": None, "files": 0,
    }
    folder.mkdir(parents=True, exist_ok=True)
    if read_live(folder) is None:
        _write_json(folder / LIVE_FILE, live)  # marks the folder ours before anything else lands in it
    windows = window.windows(_default_windows())
    if windows is None:
        live["error"] = "waiting for the event hour's close"
        _write_json(folder / LIVE_FILE, live)
        return live
    report = build_report(db, config, _options(config, event, window, windows))
    if window.is_open:
        warning = _open_window_warning(window)
        report.doc["warnings"].append(warning)
        report.tables["warnings"] = pd.DataFrame([{**w, "events": ",".join(w["events"])} for w in report.doc["warnings"]],
                                                 columns=["kind", "events", "message"])
    files = write_report(report, folder, overwrite=True)
    live.update(status="ok", windows=windows, files=len(files) + 1)
    _write_json(folder / LIVE_FILE, live)
    return live


def refresh_live_reports(db: Database, config: Config, now: datetime, *, progress: Progress | None = None) -> list[dict]:
    """Rebuild every live event's report under ``config.reports_dir``; returns their ``live.json``
    (with ``status`` failed and the one-line ``error`` for a report that could not be built).

    Raises
    ------
    InputError
        ``reports.dir`` cannot be a folder we write to (checked before anything is written).
    """
    say = progress or (lambda text: None)
    root = check_output_dir(config.reports_dir, what="live reports")
    results = []
    for event in live_events(db, config, now):
        folder = root / event.event_id
        if event.event_id.startswith(".") or folder.parent != root:  # ids are checked when added; a hand-edited row is not
            results.append({"event_id": event.event_id, "status": "skipped", "error": "the event id is not a folder name"})
            continue
        if not ours(folder):
            results.append({"event_id": event.event_id, "status": "skipped",
                            "error": f"{folder} holds files the tracker did not write; left alone"})
            continue
        started = time.perf_counter()
        try:
            live = build_live_report(db, config, event, folder, now)
        except (TrackerError, StorageError) as exc:
            live = dict(read_live(folder) or {"event_id": event.event_id}, status="failed", error=describe(exc),
                        built_at=_iso(now))
            _write_json(folder / LIVE_FILE, live)
        live["seconds"] = round(time.perf_counter() - started, 2)
        say(f"{event.event_id}: {live['status']}, {live.get('periods_observed', 0)} of {live.get('periods_total', '?')} hours")
        results.append(live)
    return results


__all__ = ["build_live_report", "live_events", "live_window", "refresh_live_reports"]
