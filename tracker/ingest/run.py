"""The plumbing every job shares: counting a run's calls, building its batches, writing them.

A job's fetch step is a generator of :class:`~tracker.ingest.batch.Batch` objects (one for
markets, categories and members; one per coin plus a closing one for history). It uses a
:class:`JobRun` to count its HTTP calls (only this job's, even when other threads share the
client), to collect notes and errors, and to stamp each batch with the run record so far.
:func:`drive` writes the batches as they come and returns the run as stored.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

import pandas as pd

import storage
from storage import Database

from ..sources.coingecko import CoinGeckoClient
from ..sources.coingecko.errors import CoinGeckoCancelled, UnreachableError, one_line
from .batch import Batch, snapshot_run
from .runs import RunRecord
from .write import write_batch

log = logging.getLogger("tracker.ingest")

MAX_ERRORS_KEPT = 50


class JobRun:
    """Book-keeping for one run of one job.

    Parameters
    ----------
    job:
        The job's name (``markets``, ``categories``, ``members``, ``history``).
    client:
        The CoinGecko client; the calls this thread makes through it are the run's calls.
    """

    def __init__(self, job: str, client: CoinGeckoClient):
        self.record = RunRecord(job=job)
        self.client = client
        self.errors: list[str] = []
        self.notes: list[str] = []
        self.details: dict[str, Any] = {}
        self._tracking = client.track_calls()
        self.tally = self._tracking.__enter__()
        self._closed = False

    @property
    def job(self) -> str:
        return self.record.job

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)
            log.warning("%s: %s", self.job, message)

    @property
    def halted(self):
        """The client's error that stopped this run's calls (host unreachable, or asked to stop), or None."""
        return getattr(self.tally, "halted", None)

    def error(self, message: str) -> None:
        self.errors.append(one_line(message, 300))
        if self.halted is not None:
            return  # the caller reports why the run stopped, once
        # Recorded in the run row; the log gets it at INFO so the CLI's summary is not repeated.
        log.info("%s: %s", self.job, self.errors[-1])

    def _stamp(self) -> RunRecord:
        self.record.calls = self.tally.count
        details = dict(self.details)
        details["calls_by_endpoint"] = dict(self.tally.by_endpoint)
        if self.notes:
            details["notes"] = list(self.notes)
        if self.errors:
            details["errors"] = self.errors[:MAX_ERRORS_KEPT]
            details["error_count"] = len(self.errors)
        self.record.details = details
        return snapshot_run(self.record)

    def batch(self, **parts: Any) -> Batch:
        """A non-final batch of this run carrying ``parts`` (frames, operations, watermarks)."""
        return Batch(job=self.job, run=self._stamp(), final=False, **parts)

    def finish(self, status: str | None = None, **parts: Any) -> Batch:
        """The run's final batch. ``status`` defaults to ``partial`` when errors were recorded.

        A run cut short because its caller asked it to stop (Ctrl-C, SIGTERM) is ``stopped``,
        not failed; one cut short because the host cannot be reached records that one line as
        its error and ``details["unreachable"]``, which tells the caller to start no more jobs.
        """
        status = status or ("partial" if self.errors else "ok")
        halted = self.halted
        if status != "ok" and self.errors:
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            error = self.errors[0] + more
        else:
            error = None
        if status != "ok" and isinstance(halted, CoinGeckoCancelled):
            status, error = "stopped", halted.message
        elif status != "ok" and isinstance(halted, UnreachableError):
            error = str(halted)
            self.details["unreachable"] = error
        self.record.finish(status, error=error)
        batch = Batch(job=self.job, run=self._stamp(), final=True, **parts)
        self.close()
        return batch

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._tracking.__exit__(None, None, None)


def guarded(run: JobRun, body: Iterator[Batch]) -> Iterator[Batch]:
    """Yield ``body``'s batches; if it breaks unexpectedly, yield a failed final batch first, so
    the run is recorded, then re-raise."""
    try:
        yield from body
    except KeyboardInterrupt:
        # Ctrl-C in the middle of a call: the run is recorded as stopped, not left 'running'.
        if not run._closed:
            run.errors.append("interrupted (Ctrl-C)")
            yield run.finish("stopped")
        raise
    except Exception as exc:
        if not run._closed:
            run.error(f"unexpected {type(exc).__name__}: {exc}")
            yield run.finish("failed")
        raise
    finally:
        run.close()


@dataclass(frozen=True)
class RunSummary:
    """One finished run, as stored in ``ingest_runs``."""

    job: str
    run_id: str
    status: str
    calls: int
    rows: int
    seconds: float | None
    error: str | None
    unreachable: str | None = None  # the one line saying the host cannot be reached: start no more jobs

    @classmethod
    def from_record(cls, run: RunRecord) -> "RunSummary":
        unreachable = run.details.get("unreachable") if isinstance(run.details, dict) else None
        return cls(run.job, run.run_id, run.status, int(run.calls), int(run.rows),
                   round(run.duration_seconds, 3) if run.duration_seconds is not None else None, run.error,
                   unreachable if isinstance(unreachable, str) else None)


def summaries_frame(summaries: Iterable[RunSummary]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"job": s.job, "status": s.status, "calls": s.calls, "rows": s.rows, "seconds": s.seconds, "error": s.error, "run_id": s.run_id}
         for s in summaries],
        columns=["job", "status", "calls", "rows", "seconds", "error", "run_id"],
    )


def drive(db: Database, batches: Iterable[Batch], *, on_batch: Callable[[Batch], None] | None = None) -> RunSummary:
    """Write every batch as it is fetched; return the run as stored after the final one."""
    last = None
    for batch in batches:
        result = write_batch(db, batch)
        last = result.run
        if on_batch is not None:
            on_batch(batch)
    if last is None:
        raise RuntimeError("the job produced no batch")
    return RunSummary.from_record(last)


def read_run(db: Database, run_id: str) -> RunSummary | None:
    frame = storage.run_summary_row(db, run_id)
    if frame.empty:
        return None
    row = frame.iloc[0]
    seconds = (row["finished_at"] - row["started_at"]).total_seconds() if pd.notna(row["finished_at"]) else None
    return RunSummary(row["job"], row["run_id"], row["status"], int(row["calls"]), int(row["rows"]), seconds,
                      row["error"] if isinstance(row["error"], str) else None)


__all__ = ["JobRun", "RunSummary", "drive", "guarded", "read_run", "summaries_frame"]
