"""The markets job: ``/coins/markets`` for each tracked category and the benchmarks.

Fills ``coins`` and ``market_snapshots``. A category of N coins costs ``floor(N / 250) + 1``
calls (one more page only when N is an exact multiple of 250, to see the short page); the
benchmarks already seen in a category cost nothing, the rest one call per 250 ids. Pages are
asked for in id order, which does not move while market caps do, and duplicates are dropped by
id. What one run fetched for a category is kept in a :class:`MarketsCache`, so the members job
in the same run (``tracker ingest all``) does not fetch it again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

import pandas as pd

from ..config import TrackingConfig
from ..sources.coingecko import CoinGeckoClient
from ..sources.coingecko.errors import (
    AccessDeniedError,
    AuthenticationError,
    CoinGeckoCancelled,
    CoinGeckoError,
    PlanLimitError,
    RateLimitError,
    UnreachableError,
)
from ..sources.coingecko.parsing import parse_markets
from .batch import Batch
from .frames import coins_rows, market_snapshot_rows
from .run import JobRun, guarded
from .runs import utcnow

# Errors that say "stop calling for now" rather than "this one request failed".
STOP_ERRORS = (AuthenticationError, AccessDeniedError, RateLimitError, CoinGeckoCancelled, PlanLimitError, UnreachableError)


@dataclass
class CategoryMarkets:
    """One category's pages from one run: the rows, whether paging ran to the short page, and why not."""

    category: str
    frame: pd.DataFrame
    complete: bool
    observed_at: datetime
    pages: int = 0
    error: str | None = None


@dataclass
class MarketsCache:
    """Category pages fetched once in a run, shared by the markets and members jobs."""

    categories: dict[str, CategoryMarkets] = field(default_factory=dict)

    def get(self, category: str) -> CategoryMarkets | None:
        return self.categories.get(category)

    def put(self, result: CategoryMarkets) -> None:
        self.categories[result.category] = result


def fetch_category(client: CoinGeckoClient, vs_currency: str, category: str, observed_at: datetime) -> tuple[CategoryMarkets, CoinGeckoError | None]:
    """All pages of one category; on an error, the pages already fetched and the error."""
    frames, pages, error = [], 0, None
    try:
        for page in client.markets_pages(vs_currency, category=category):
            frames.append(page.frame)
            pages += 1
    except CoinGeckoError as exc:
        error = exc
    frame = pd.concat(frames, ignore_index=True) if frames else parse_markets([])
    frame = frame.drop_duplicates("coin_id", keep="last").reset_index(drop=True)
    result = CategoryMarkets(category, frame, error is None, observed_at, pages, str(error) if error else None)
    return result, error


def fetch_markets(client: CoinGeckoClient, tracking: TrackingConfig, *, now: datetime | None = None,
                  cache: MarketsCache | None = None) -> Iterator[Batch]:
    """Fetch step of the markets job: yields one final :class:`Batch`.

    Parameters
    ----------
    client:
        The CoinGecko client.
    tracking:
        Categories, benchmarks and the quote currency.
    now:
        The observation time stamped on every snapshot (default: the current UTC time).
    cache:
        Where to leave the category pages for the members job of the same run.
    """
    run = JobRun("markets", client)
    yield from guarded(run, _markets(run, client, tracking, now or utcnow(), cache))


def _markets(run: JobRun, client: CoinGeckoClient, tracking: TrackingConfig, observed: datetime,
             cache: MarketsCache | None) -> Iterator[Batch]:
    vs = tracking.vs_currency
    frames: list[pd.DataFrame] = []
    stopped = False
    pages: dict[str, int] = {}
    for category in tracking.categories:
        result, error = fetch_category(client, vs, category, observed)
        if cache is not None:
            cache.put(result)
        frames.append(result.frame)
        pages[category] = result.pages
        if error is not None:
            run.error(f"{category}: {error}")
            if isinstance(error, STOP_ERRORS):
                stopped = True
                break
    seen = set(pd.concat(frames)["coin_id"]) if frames else set()
    wanted = [b for b in tracking.benchmarks if b not in seen]
    if wanted and not stopped:
        try:
            found = client.markets(vs, ids=wanted)
            frames.append(found)
            missing = sorted(set(wanted) - set(found["coin_id"]))
            if missing:
                run.error(f"benchmark id(s) not found at CoinGecko: {', '.join(missing)}")
        except CoinGeckoError as exc:
            run.error(f"benchmarks: {exc}")
    combined = pd.concat(frames, ignore_index=True) if frames else parse_markets([])
    combined = combined.drop_duplicates("coin_id", keep="last")
    run.details.update({"observed_at": observed.isoformat(), "pages": pages, "coins": int(len(combined)),
                        "rows_dropped": run.tally.rows_dropped})
    parts: dict = {}
    if len(combined):
        parts["frames"] = {"coins": coins_rows(combined, observed), "market_snapshots": market_snapshot_rows(combined, vs, observed)}
        parts["watermarks"] = {"*": observed}
    status = "failed" if not len(combined) and run.errors else None
    yield run.finish(status, **parts)


__all__ = ["CategoryMarkets", "MarketsCache", "STOP_ERRORS", "fetch_category", "fetch_markets"]
