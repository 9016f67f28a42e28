"""The members job: who is in each tracked category, as point-in-time ``category_members`` rows.

A category's members are the coin ids of ``/coins/markets?category=...``, every page. When a
coin leaves, its open row gets ``valid_to``; when it joins (or comes back), a new row opens.
Only a category whose paging ran to the end is applied: a missing page must never read as
coins leaving. Applying the same observation twice changes nothing. In ``tracker ingest all``
the pages come from the markets job's :class:`~tracker.ingest.markets.MarketsCache`, at no
extra call.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

import pandas as pd

from ..config import TrackingConfig
from ..sources.coingecko import CoinGeckoClient
from .batch import Batch
from .frames import coins_rows
from .markets import STOP_ERRORS, MarketsCache, fetch_category
from .run import JobRun, guarded
from .runs import utcnow


def fetch_members(client: CoinGeckoClient, tracking: TrackingConfig, *, now: datetime | None = None,
                  cache: MarketsCache | None = None) -> Iterator[Batch]:
    """Fetch step of the members job: yields one final :class:`Batch`."""
    run = JobRun("members", client)
    yield from guarded(run, _members(run, client, tracking, now or utcnow(), cache))


def _members(run: JobRun, client: CoinGeckoClient, tracking: TrackingConfig, observed: datetime,
             cache: MarketsCache | None) -> Iterator[Batch]:
    members, scopes, seen = [], [], []
    counts: dict[str, int] = {}
    for category in tracking.categories:
        result = cache.get(category) if cache is not None else None
        error = None
        if result is None:
            result, error = fetch_category(client, tracking.vs_currency, category, observed)
            if cache is not None:
                cache.put(result)
        if not result.complete:
            run.error(f"{category}: membership not updated, the pages were incomplete ({result.error})")
            if isinstance(error, STOP_ERRORS):
                break
            continue
        seen.append(result.frame)
        members.append(pd.DataFrame({"category_id": category, "coin_id": result.frame["coin_id"].astype(str).to_numpy()}))
        scopes.append({"category_id": category, "observed_at": result.observed_at})
        counts[category] = int(len(result.frame))
    run.details.update({"observed_at": observed.isoformat(), "members": counts})
    if not scopes:
        yield run.finish("failed" if run.errors else "ok")
        return
    operations = {
        "membership": pd.concat(members, ignore_index=True),
        "membership_scopes": pd.DataFrame(scopes),
    }
    frames = {"coins": coins_rows(pd.concat(seen, ignore_index=True), observed)}
    watermarks = {s["category_id"]: s["observed_at"] for s in scopes}
    yield run.finish(frames=frames, operations=operations, watermarks=watermarks)


__all__ = ["fetch_members"]
