"""Live reports: the hourly study of every recent event, rebuilt as its hours come in.

The daemon calls :func:`refresh_live_reports` after each job that stored prices. For every
calendar event whose hourly event windows are still open, or closed within
``reports.recent_days``, it builds the usual report (:func:`tracker.report.build_report`) with
the event windows cut at the last hour observed so far, and writes it to
``<reports.dir>/<event_id>/`` beside a ``live.json`` that says how much of the window it covers.
A window still open is said so on the page (a warning) and in ``live.json``.

Only folders holding a ``live.json`` (or empty, or absent) are ever written: a folder of the
user's own at that path is left alone and reported. Files are written to a temporary name and
renamed, so a reader never sees half a page. :func:`list_live_reports` reads the ``live.json``
files without pandas, for `tracker status`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

LIVE_FILE = "live.json"
HOUR = timedelta(hours=1)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class LiveWindow:
    """Where an event's hourly event windows stand at ``now``.

    ``first``/``last`` are the relative hours the windows span (e.g. -1 and +23);
    ``observed`` how many of those hours have a stored close; ``closes_at`` when the last one is due.
    """

    event_id: str
    hour0: datetime
    first: int
    last: int
    observed: int
    closes_at: datetime
    now: datetime

    @property
    def total(self) -> int:
        return self.last - self.first + 1

    @property
    def is_open(self) -> bool:
        return self.observed < self.total and self.now < self.closes_at

    @property
    def last_observed(self) -> int | None:
        """The last relative hour observed, or None before the first."""
        return self.first + self.observed - 1 if self.observed else None

    def windows(self, defaults: list[tuple[int, int]]) -> str | None:
        """The default windows cut at the last observed hour ("0:0,-1:1,0:5"); None before hour 0."""
        last = self.last_observed
        if last is None or last < 0:
            return None
        cut = dict.fromkeys((start, min(end, last)) for start, end in defaults if start <= last)
        return ",".join(f"{start}:{end}" for start, end in cut)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.replace(microsecond=0).isoformat() + "Z"


def _write_json(path: Path, data: dict) -> None:
    temporary = path.parent / f".{path.name}.{os.getpid()}.tmp"
    try:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_live(folder: Path) -> dict | None:
    """The ``live.json`` of one report folder, or None when absent or unreadable."""
    try:
        data = json.loads((folder / LIVE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def ours(folder: Path) -> bool:
    """May the daemon write here: absent, empty, or holding our ``live.json``."""
    if not folder.exists() and not folder.is_symlink():
        return True
    if folder.is_symlink() or not folder.is_dir():
        return False
    return read_live(folder) is not None or not any(folder.iterdir())


def list_live_reports(reports_dir: str | Path) -> list[dict]:
    """One row per live report under ``reports_dir``, newest event first (no pandas needed).

    Columns: ``event_id, state, periods_observed, periods_total, last_built, status, path``.
    """
    root = Path(reports_dir)
    rows = []
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.is_symlink()):
            live = read_live(folder)
            if live is None:
                continue
            rows.append({
                "event_id": live.get("event_id", folder.name),
                "event_at": live.get("event_at"),
                "state": live.get("state"),
                "periods_observed": live.get("periods_observed"),
                "periods_total": live.get("periods_total"),
                "last_built": live.get("built_at"),
                "status": live.get("status"),
                "path": str(folder / "index.html") if (folder / "index.html").is_file() else str(folder),
            })
    rows.sort(key=lambda r: (str(r["event_at"] or ""), str(r["event_id"])), reverse=True)
    return rows


__all__ = ["LIVE_FILE", "LiveWindow", "list_live_reports", "ours", "read_live"]
