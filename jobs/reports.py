"""The `reports` job: rebuild the live reports after any job that stored prices.

It has no schedule of its own: new prices are the only thing that changes a report, so the
daemon runs it after each job whose outcome says it stored price rows (``stored_prices``,
set by the executor for any job, markets, history or candles alike). Runs asked for while one
is going are folded into one more run after it, so a burst of price jobs costs at most two.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Any, Callable

from storage import StorageError
from tracker.config import Config
from tracker.errors import TrackerError, describe

log = logging.getLogger("tracker.daemon")

JOB = "reports"
# Tables whose new rows change a live report; a job that wrote to one of them triggers the job.
PRICE_TABLES = frozenset({"price_history", "market_snapshots"})


class LiveReportsJob:
    """Runs :func:`tracker.report.live_build.refresh_live_reports` for the daemon, one run at a time.

    ``clock`` gives the "now" the events are judged by (None: real UTC time; the demo and the
    tests pass the fake server's clock).
    """

    def __init__(self, config: Config, *, clock: Callable[[], datetime] | None = None):
        self.config = config
        self.clock = clock
        self._running = threading.Lock()
        self._again = threading.Event()

    @property
    def enabled(self) -> bool:
        return self.config.reports.enabled

    def run(self) -> dict[str, Any]:
        """Rebuild the live reports (again, if asked meanwhile); never raises.

        Returns the outcome: ``status`` (ok, partial, failed, or skipped when another run is
        going and will run once more), ``built``, ``failed``, ``waiting``, ``seconds``, ``error``.
        """
        if not self._running.acquire(blocking=False):
            self._again.set()
            return {"job": JOB, "status": "skipped", "reason": "already running; it runs once more after"}
        try:
            while True:
                self._again.clear()
                outcome = self._run_once()
                if not self._again.is_set():
                    return outcome
        finally:
            self._running.release()

    def _run_once(self) -> dict[str, Any]:
        import storage
        from tracker import utc
        from tracker.report.live_build import refresh_live_reports

        started = time.monotonic()
        outcome: dict[str, Any] = {"job": JOB, "status": "ok", "built": 0, "failed": 0, "waiting": 0, "error": None}
        try:
            db = storage.open_for_reading(self.config.database.path, lock_timeout=self.config.database.lock_timeout_seconds)
            now = self.clock() if self.clock is not None else utc.now()
            results = refresh_live_reports(db, self.config, now)
        except (TrackerError, StorageError, OSError) as exc:
            outcome.update(status="failed", error=describe(exc))
        except Exception as exc:  # a bug: keep the daemon alive, log it once in full
            log.exception("%s: unexpected failure", JOB)
            outcome.update(status="failed", error=f"unexpected {describe(exc)}")
        else:
            for live in results:
                key = {"ok": "built", "waiting": "waiting"}.get(live.get("status"), "failed")
                outcome[key] += 1
            errors = [f"{r['event_id']}: {r['error']}" for r in results if r.get("status") in ("failed", "skipped")]
            if errors:
                outcome.update(status="partial" if outcome["built"] else "failed", error="; ".join(errors))
        outcome["seconds"] = round(time.monotonic() - started, 3)
        return outcome


def describe_reports(outcome: dict[str, Any]) -> str:
    """``2 built, 1 waiting in 6.1s`` for the daemon's one line per run."""
    return (f"{outcome.get('built', 0)} built, {outcome.get('waiting', 0)} waiting, {outcome.get('failed', 0)} failed "
            f"in {outcome.get('seconds', 0):.1f}s")


__all__ = ["JOB", "PRICE_TABLES", "LiveReportsJob", "describe_reports"]
