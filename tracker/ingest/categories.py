"""The categories job: ``/coins/categories`` in one call, for every category's market data.

Fills ``categories`` (id and name) and ``category_snapshots`` (market cap, 24h volume, 24h
change in percent, top-3 coins, CoinGecko's own ``updated_at``). When a tracked category is
missing from the answer, one ``/coins/categories/list`` call tells an id without market data
from an id that does not exist, and the run says which.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterator

import pandas as pd

from ..config import TrackingConfig
from ..sources.coingecko import CoinGeckoClient
from ..sources.coingecko.errors import CoinGeckoError
from .batch import Batch
from .frames import category_rows, category_snapshot_rows
from .run import JobRun, guarded
from .runs import utcnow


def fetch_categories(client: CoinGeckoClient, tracking: TrackingConfig, *, now: datetime | None = None) -> Iterator[Batch]:
    """Fetch step of the categories job: yields one final :class:`Batch`."""
    run = JobRun("categories", client)
    yield from guarded(run, _categories(run, client, tracking, now or utcnow()))


def _categories(run: JobRun, client: CoinGeckoClient, tracking: TrackingConfig, observed: datetime) -> Iterator[Batch]:
    try:
        market = client.categories()
    except CoinGeckoError as exc:
        run.error(str(exc))
        yield run.finish("failed")
        return
    names = market[["category_id", "name"]]
    missing = [c for c in tracking.categories if c not in set(market["category_id"])]
    if missing:
        try:
            listed = client.categories_list()
            names = pd.concat([listed, names], ignore_index=True)
            unknown = [c for c in missing if c not in set(listed["category_id"])]
            if unknown:
                run.error(f"unknown category id(s) {', '.join(unknown)}: not in /coins/categories/list; check tracking.categories")
            present = [c for c in missing if c not in unknown]
            if present:
                run.note(f"no market data for category {', '.join(present)} in /coins/categories")
        except CoinGeckoError as exc:
            run.error(f"checking category ids: {exc}")
    run.details.update({"observed_at": observed.isoformat(), "categories": int(len(market)),
                        "rows_dropped": run.tally.rows_dropped})
    # A category whose name did not come through keeps the name already stored (see write.py).
    frames = {"categories": category_rows(names, observed), "category_snapshots": category_snapshot_rows(market, observed)}
    yield run.finish(frames=frames, watermarks={"*": observed})


__all__ = ["fetch_categories"]
