"""The history job: per-coin price, market-cap and volume history from ``/market_chart/range``.

Which coins: the open members of the tracked categories plus the benchmarks (or the coins
asked for), minus coins marked inactive. For each coin, ``ingest_state`` (job ``history``,
scope = coin id) holds the stretch already stored without gaps: ``watermark`` is its newest
complete point and ``detail.start`` its beginning. The run plans only the missing calls (see
:func:`tracker.sources.coingecko.chunking.plan_history`): a first backfill costs one call per chunk
(two per coin for a year: old days daily, the last 90 days hourly), a daily top-up one call.

Each coin is one batch, written (or spooled) before the next coin is fetched, so an interrupted
backfill loses at most the coin in flight and the next run resumes where it stopped. The live
"now" point at the end is stored with ``is_partial = true`` and replaced by the next run. A 404
marks the coin inactive (``coins.active = false``, with the reason) and the others continue;
other per-coin failures are recorded and skipped, and after a few in a row the run stops
rather than keep calling a server that is failing.

After its own calls, a coin's stored points with a NULL market cap or volume that the source
normally has are re-fetched, within ``tracking.repair_calls_per_run`` calls per run (see
:mod:`tracker.ingest.repair`); the rows filled travel in the coin's batch.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator, Sequence

import pandas as pd

import storage
from storage import Database

from ..config import TrackingConfig
from ..sources.coingecko import CoinGeckoClient
from ..sources.coingecko.chunking import chunk_watermark, label_points, plan_history
from ..sources.coingecko.errors import (
    AccessDeniedError,
    AuthenticationError,
    CoinGeckoCancelled,
    CoinGeckoError,
    HistoryLimitError,
    NotFoundError,
    PlanLimitError,
    RateLimitError,
    UnreachableError,
)
from .batch import Batch
from .frames import SOURCE, price_history_rows
from .repair import RepairWindow, apply_repair, confirmed_spans, plan_repairs, read_suspects, spans_to_json
from .run import JobRun, guarded
from .runs import utcnow

MAX_CONSECUTIVE_FAILURES = 3
Progress = Callable[[int, int, str], None]


def _stops_run(error: CoinGeckoError) -> bool:
    """True for errors that make further calls pointless now (bad key, ban, rate limit, host unreachable)."""
    if isinstance(error, HistoryLimitError):
        return False
    return isinstance(error, (AuthenticationError, AccessDeniedError, RateLimitError, CoinGeckoCancelled, PlanLimitError,
                              UnreachableError))


@dataclass
class HistoryState:
    """What the database says before a history run: the coins to fetch and what each has."""

    coins: list[str]
    covered: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    inactive: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    details: dict[str, dict] = field(default_factory=dict)  # each coin's ingest_state detail
    suspects: dict[str, pd.DataFrame] = field(default_factory=dict)  # stored nulls to re-fetch (repair.py)


def read_history_state(db: Database, tracking: TrackingConfig, *, coins: Sequence[str] | None = None) -> HistoryState:
    """Read the coin list and the per-coin stored stretches on one short read-only connection.

    Parameters
    ----------
    coins:
        Fetch exactly these ids (even if marked inactive); default: the open members of the
        tracked categories plus the benchmarks, minus inactive coins.
    """
    with db.connect(read_only=True) as con:
        marks = storage.coin_watermarks(con, "history")
        inactive = storage.inactive_coins(con)
        members = storage.open_members(con, tracking.categories)
        notes = []
        if coins is not None:
            wanted = list(dict.fromkeys(coins))
        else:
            if tracking.categories and not members:
                notes.append("no category members stored yet (run `tracker ingest members` first; if it ran, "
                             "`tracker status` shows why it stored none); fetching the benchmarks only")
            wanted = [c for c in dict.fromkeys([*tracking.benchmarks, *members]) if c not in inactive]
        covered, details = {}, {}
        for scope, watermark, detail in marks:
            try:
                parsed = json.loads(detail) if detail else {}
            except ValueError:
                parsed = {}
            details[scope] = parsed if isinstance(parsed, dict) else {}
            if watermark is None:
                continue
            try:
                start = datetime.fromisoformat(details[scope]["start"]) if details[scope].get("start") else None
            except (ValueError, TypeError):
                start = None
            covered[scope] = (start or watermark, watermark)
        suspects = {}
        if tracking.repair_calls_per_run > 0:
            confirmed = {coin: confirmed_spans(details.get(coin)) for coin in wanted}
            suspects = read_suspects(con, wanted, tracking.vs_currency, confirmed)
    return HistoryState(wanted, covered, inactive, notes, details, suspects)


def fetch_history(
    client: CoinGeckoClient,
    tracking: TrackingConfig,
    state: HistoryState,
    *,
    now: datetime | None = None,
    history_days: int | None = None,
    progress: Progress | None = None,
    max_consecutive_failures: int = MAX_CONSECUTIVE_FAILURES,
) -> Iterator[Batch]:
    """Fetch step of the history job: one :class:`Batch` per coin that changed, then a final one.

    Parameters
    ----------
    state:
        From :func:`read_history_state`.
    now:
        The present (default: the current UTC time); history is brought up to it.
    history_days:
        How far back to reach (default ``tracking.history_days``; keyless and demo are clamped).
    progress:
        Called as ``progress(done, total, coin_id)`` after each coin.
    """
    run = JobRun("history", client)
    yield from guarded(run, _history(run, client, tracking, state, now or utcnow(), history_days or tracking.history_days,
                                     progress, max_consecutive_failures))


def _history(run: JobRun, client: CoinGeckoClient, tracking: TrackingConfig, state: HistoryState, now: datetime,
             history_days: int, progress: Progress | None, max_failures: int) -> Iterator[Batch]:
    for note in state.notes:
        run.note(note)
    vs = tracking.vs_currency
    target_start = now - timedelta(days=history_days)
    lower = now - timedelta(days=client.plan.history_days) if client.plan.history_days else None
    total = len(state.coins)
    counts = {"coins": total, "fetched": 0, "up_to_date": 0, "failed": 0, "delisted": 0, "not_attempted": 0, "chunks": 0}
    repair = {"calls": 0, "filled": 0, "confirmed_missing": 0, "waiting": 0}
    budget = tracking.repair_calls_per_run
    failures_in_a_row = 0
    stop: CoinGeckoError | None = None
    for done, coin in enumerate(state.coins, 1):
        if stop is not None:
            counts["not_attempted"] += 1
            continue
        plan = plan_history(now=now, target_start=target_start, covered=state.covered.get(coin),
                            history_days=client.plan.history_days, plan_name=client.plan.name)
        if plan.note:
            run.note(plan.note)
        windows = plan_repairs(state.suspects[coin], now=now, lower=lower) if coin in state.suspects else []
        if not plan.chunks and not (windows and budget > 0):
            counts["up_to_date"] += 1
            repair["waiting"] += len(windows)
            if progress:
                progress(done, total, coin)
            continue
        fetched = _fetch_chunks(client, coin, vs, plan, state.covered.get(coin, (None, None)), now, counts)
        error = fetched.error
        repaired, confirmed = [], []
        if error is None:
            spend = windows[:budget]
            repair["waiting"] += len(windows) - len(spend)
            budget -= len(spend)
            repaired, confirmed, error = _repair(run, client, coin, vs, spend, now, repair)
        parts = _batch_parts(coin, vs, now, fetched, repaired, confirmed, state.details.get(coin, {}))
        if error is None:
            counts["fetched" if plan.chunks else "up_to_date"] += 1
            failures_in_a_row = 0
        elif isinstance(error, NotFoundError):
            counts["delisted"] += 1
            reason = f"HTTP 404 from /coins/{coin}/market_chart/range: {error.message}"
            parts.setdefault("operations", {})["deactivate"] = pd.DataFrame({"coin_id": [coin], "reason": [reason], "at": [now]})
            run.error(f"{coin}: marked inactive ({error})")
        else:
            counts["failed"] += 1
            run.error(f"{coin}: {error}")
            failures_in_a_row += 1
            if _stops_run(error):
                stop = error
                run.error(f"stopped after {coin}: {type(error).__name__} makes further calls pointless now")
            elif failures_in_a_row >= max_failures:
                stop = error
                run.error(f"stopped after {failures_in_a_row} coins failed in a row")
        if parts:
            yield run.batch(**parts)
        if progress and run.halted is None:  # a halted run says so in one line, with no bar
            progress(done, total, coin)
    run.details.update({k: v for k, v in counts.items()})
    if any(repair.values()):
        run.details["null_repair"] = repair
    run.details["now"] = now.isoformat()
    yield run.finish(_final_status(counts, stopped=stop is not None, had_errors=bool(run.errors)))


@dataclass
class _Fetched:
    """What one coin's planned chunks gave: the labelled points, the covered range, and the
    error that cut them short (the rest of the coin's chunks are not asked for)."""

    points: list[pd.DataFrame]
    first: datetime | None
    last: datetime | None
    replaced_partial: bool
    error: CoinGeckoError | None


def _fetch_chunks(client: CoinGeckoClient, coin: str, vs: str, plan, covered: tuple, now: datetime,
                  counts: dict[str, int]) -> _Fetched:
    first, last = covered
    points, replaced_partial = [], False
    for index, chunk in enumerate(plan.chunks):
        try:
            raw = client.market_chart_chunk(coin, vs, chunk)
        except CoinGeckoError as exc:
            return _Fetched(points, first, last, replaced_partial, exc)
        counts["chunks"] += 1
        labelled = label_points(raw, chunk, now)
        points.append(labelled)
        if index < plan.backward:
            first = chunk.start
        else:
            first = first or chunk.start
            mark = chunk_watermark(chunk, labelled)
            if mark is not None and (last is None or mark > last):
                last = mark
        replaced_partial = replaced_partial or chunk.final
    return _Fetched(points, first, last, replaced_partial, None)


def _batch_parts(coin: str, vs: str, now: datetime, fetched: _Fetched, repaired: list[pd.DataFrame], confirmed: list,
                 stored_detail: dict) -> dict:
    """The coin's batch: its rows, the partial "now" point to replace, and its moved watermark."""
    parts: dict = {}
    if fetched.points or repaired:
        frames = [rows for rows in repaired]
        if fetched.points:
            frames.append(price_history_rows(pd.concat(fetched.points, ignore_index=True), coin, vs, now))
        parts["frames"] = {"price_history": pd.concat(frames, ignore_index=True)}
        if fetched.replaced_partial:
            parts["operations"] = {"replace_partial": pd.DataFrame({"coin_id": [coin], "vs_currency": [vs], "source": [SOURCE]})}
    if fetched.last is not None and (fetched.points or confirmed):
        detail = dict(stored_detail)
        detail["start"] = fetched.first.isoformat() if fetched.first else None
        if confirmed:
            detail["confirmed_missing"] = spans_to_json(confirmed_spans(detail) + confirmed)
        parts["watermarks"] = {coin: fetched.last}
        parts["watermark_details"] = {coin: detail}
    return parts


def _final_status(counts: dict[str, int], *, stopped: bool, had_errors: bool) -> str:
    succeeded = counts["fetched"] + counts["up_to_date"]
    if stopped and succeeded == 0:
        return "failed"
    if counts["failed"] and succeeded == 0 and not counts["delisted"]:
        return "failed"
    return "partial" if had_errors else "ok"


def _repair(run: JobRun, client: CoinGeckoClient, coin: str, vs: str, windows: list[RepairWindow], now: datetime,
            tally: dict[str, int]) -> tuple[list[pd.DataFrame], list, CoinGeckoError | None]:
    """Re-fetch ``windows`` (see :mod:`tracker.ingest.repair`): rows that gained a value, the
    stretches confirmed missing, and the error that stopped it (the coin's error, as for a chunk)."""
    rows, confirmed = [], []
    for window in windows:
        try:
            raw = client.market_chart_chunk(coin, vs, window.chunk)
        except CoinGeckoError as exc:
            return rows, confirmed, exc
        tally["calls"] += 1
        try:
            result = apply_repair(window, raw, coin, vs, now)
        except ValueError as exc:  # the answer cannot settle these points; try again next run
            run.note(f"{coin}: null repair skipped a window: {exc}")
            continue
        tally["filled"] += result.filled
        tally["confirmed_missing"] += result.still_missing
        if len(result.rows):
            rows.append(result.rows)
        confirmed.extend(result.confirmed)
    return rows, confirmed, None


__all__ = ["HistoryState", "MAX_CONSECUTIVE_FAILURES", "fetch_history", "read_history_state"]
