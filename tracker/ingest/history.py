"""The history job: per-coin price, market-cap and volume history from ``/market_chart/range``.

Which coins: the open members of the tracked categories plus the benchmarks (or the coins
asked for), minus coins marked inactive. For each coin, ``ingest_state`` (job ``history``,
scope = coin id) holds the stretch already stored without gaps: ``watermark`` is its newest
complete point and ``detail.start`` its beginning. The run plans only the missing calls (see
:func:`tracker.coingecko.chunking.plan_history`): a first backfill costs one call per chunk
(two per coin for a year: old days daily, the last 90 days hourly), a daily top-up one call.

Each coin is one batch, written (or spooled) before the next coin is fetched, so an interrupted
backfill loses at most the coin in flight and the next run resumes where it stopped. The live
"now" point at the end is stored with ``is_partial = true`` and replaced by the next run. A 404
marks the coin inactive (``coins.active = false``, with the reason) and the others continue;
other per-coin failures are recorded and skipped, and after a few in a row the run stops
rather than keep calling a server that is failing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterator, Sequence

import pandas as pd

from storage import Database

from ..coingecko import CoinGeckoClient
from ..coingecko.chunking import chunk_watermark, label_points, plan_history
from ..coingecko.errors import (
    AccessDeniedError,
    AuthenticationError,
    CoinGeckoCancelled,
    CoinGeckoError,
    HistoryLimitError,
    NotFoundError,
    PlanLimitError,
    RateLimitError,
)
from ..config import TrackingConfig
from ..runs import utcnow
from .batch import Batch
from .frames import SOURCE, price_history_rows
from .run import JobRun, guarded

MAX_CONSECUTIVE_FAILURES = 3
Progress = Callable[[int, int, str], None]


def _stops_run(error: CoinGeckoError) -> bool:
    """True for errors that make further calls pointless now (bad key, ban, rate limit)."""
    if isinstance(error, HistoryLimitError):
        return False
    return isinstance(error, (AuthenticationError, AccessDeniedError, RateLimitError, CoinGeckoCancelled, PlanLimitError))


@dataclass
class HistoryState:
    """What the database says before a history run: the coins to fetch and what each has."""

    coins: list[str]
    covered: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)
    inactive: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)


def read_history_state(db: Database, tracking: TrackingConfig, *, coins: Sequence[str] | None = None) -> HistoryState:
    """Read the coin list and the per-coin stored stretches on one short read-only connection.

    Parameters
    ----------
    coins:
        Fetch exactly these ids (even if marked inactive); default: the open members of the
        tracked categories plus the benchmarks, minus inactive coins.
    """
    with db.connect(read_only=True) as con:
        marks = con.execute("SELECT scope, watermark, detail FROM ingest_state WHERE job = 'history' AND scope <> '*'").fetchall()
        inactive = {r[0] for r in con.execute("SELECT coin_id FROM coins WHERE NOT active").fetchall()}
        members = [r[0] for r in con.execute(
            "SELECT DISTINCT coin_id FROM category_members WHERE valid_to IS NULL AND list_contains(?, category_id) ORDER BY coin_id",
            [list(tracking.categories)],
        ).fetchall()]
    notes = []
    if coins is not None:
        wanted = list(dict.fromkeys(coins))
    else:
        if tracking.categories and not members:
            notes.append("no category members stored yet (run `tracker ingest members` first); fetching the benchmarks only")
        wanted = [c for c in dict.fromkeys([*tracking.benchmarks, *members]) if c not in inactive]
    covered = {}
    for scope, watermark, detail in marks:
        if watermark is None:
            continue
        try:
            start = datetime.fromisoformat(json.loads(detail)["start"]) if detail else None
        except (ValueError, KeyError, TypeError):
            start = None
        covered[scope] = (start or watermark, watermark)
    return HistoryState(wanted, covered, inactive, notes)


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
    total = len(state.coins)
    counts = {"coins": total, "fetched": 0, "up_to_date": 0, "failed": 0, "delisted": 0, "not_attempted": 0, "chunks": 0}
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
        if not plan.chunks:
            counts["up_to_date"] += 1
            if progress:
                progress(done, total, coin)
            continue
        first, last = state.covered.get(coin, (None, None))
        points, replaced_partial, error = [], False, None
        for index, chunk in enumerate(plan.chunks):
            try:
                raw = client.market_chart_chunk(coin, vs, chunk)
            except CoinGeckoError as exc:
                error = exc
                break
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
        parts: dict = {}
        if points:
            rows = price_history_rows(pd.concat(points, ignore_index=True), coin, vs, now)
            parts["frames"] = {"price_history": rows}
            if replaced_partial:
                parts["operations"] = {"replace_partial": pd.DataFrame({"coin_id": [coin], "vs_currency": [vs], "source": [SOURCE]})}
            if last is not None:
                parts["watermarks"] = {coin: last}
                parts["watermark_details"] = {coin: {"start": first.isoformat() if first else None}}
        if error is None:
            counts["fetched"] += 1
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
        if progress:
            progress(done, total, coin)
    run.details.update({k: v for k, v in counts.items()})
    run.details["now"] = now.isoformat()
    succeeded = counts["fetched"] + counts["up_to_date"]
    if stop is not None and succeeded == 0:
        status = "failed"
    elif counts["failed"] and succeeded == 0 and not counts["delisted"]:
        status = "failed"
    elif run.errors:
        status = "partial"
    else:
        status = "ok"
    yield run.finish(status)


__all__ = ["HistoryState", "MAX_CONSECUTIVE_FAILURES", "fetch_history", "read_history_state"]
