"""Panels from the database as plain DataFrames, for the analysis modules.

Prices in ``price_history`` are instants: ``ts`` is when the price was observed. A UTC day's
close is the last price observed before the next midnight (allowing 5 minutes of timestamp
jitter, so CoinGecko's 00:00:04 point still closes the day before). The views ``daily_prices``
and ``hourly_prices`` hold the same rule in SQL.

Each coin's closes come from one source (``source_choice``): the policy's ``--source``, else the
source covering most of the periods asked for; with a single source this is exactly the views.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

import pandas as pd

import storage
from storage import Database

from .source_choice import SourcePolicy, choose, series_sources


def _instant(value) -> datetime | None:
    return None if value is None else pd.Timestamp(value).to_pydatetime()


def _wide(frame: pd.DataFrame, index: str, value: str) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(dtype=float)
    wide = frame.pivot(index=index, columns="coin_id", values=value).sort_index()
    wide.index = pd.DatetimeIndex(wide.index, name=index)
    wide.columns.name = None
    return wide.astype(float)


def quote_currency(db: Database, vs_currency: str | None = None, policy: SourcePolicy | None = None) -> str:
    """``vs_currency`` if given, else the currency most prices in the database are quoted in
    (``tracking.vs_currency`` of whoever filled it), else ``usd``. A USD equivalent (USDT, ...:
    ``policy.usd_equivalents``) reads as ``usd``."""
    if vs_currency:
        return vs_currency
    used = storage.most_used_currency(db) or "usd"
    return "usd" if used in (policy or SourcePolicy()).usd_equivalents else used


def chosen_sources(db: Database, coin_ids: Sequence[str] | None, start=None, end=None, *, hourly: bool = False,
                   vs_currency: str | None = None, policy: SourcePolicy | None = None, value: str = "close",
                   complete_only: bool = True) -> pd.DataFrame:
    """The source and currency each coin's closes come from (``source_choice.series_sources``)."""
    grid = "hourly" if hourly else "daily"
    return series_sources(db, grid, coin_ids, _instant(start), _instant(end), quote_currency(db, vs_currency, policy),
                          policy, value=value, complete_only=complete_only and not hourly)


def _closes(db: Database, grid: str, period: str, value: str, coin_ids, start, end, vs_currency: str | None,
            complete_only: bool = False, policy: SourcePolicy | None = None) -> pd.DataFrame:
    # One scan of every source's closes, then the choice on them (source_choice.choose): the same
    # choice as chosen_sources, without reading the table twice.
    policy = policy or SourcePolicy()
    quotes = policy.quotes(quote_currency(db, vs_currency, policy))
    long = storage.source_closes_all(db, grid, quotes, coin_ids, _instant(start), _instant(end))
    if complete_only and grid == "daily":
        long = long[long["complete"]]
    keys = ["coin_id", "source", "vs_currency"]
    coverage = long.groupby(keys, as_index=False).agg(closes=(value, "count"), snapshots_only=("snapshot", "all"))
    picks = choose(coverage, policy, quotes)[keys]
    frame = long.merge(picks, on=keys)[["coin_id", "period", value]].rename(columns={"period": period})
    return _wide(frame, period, value)


def daily_closes(
    db: Database,
    coin_ids: Sequence[str] | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    *,
    vs_currency: str | None = None,
    value: str = "close",
    complete_only: bool = True,
    policy: SourcePolicy | None = None,
) -> pd.DataFrame:
    """Wide frame of daily closes: index = UTC day, one column per coin id.

    ``vs_currency`` defaults to the database's quote currency (:func:`quote_currency`).

    ``value`` may be ``close`` or ``market_cap``. Days whose last point is a partial "now"
    value are left out unless ``complete_only`` is false. ``policy`` picks each coin's source
    (default: one per coin by coverage, USDT/USDC/FDUSD read as USD; ``source_choice``).
    """
    if value not in {"close", "market_cap"}:
        raise ValueError("value must be 'close' or 'market_cap'")
    return _closes(db, "daily", "day", value, coin_ids, start, end, vs_currency, complete_only, policy)


def hourly_closes(
    db: Database,
    coin_ids: Sequence[str] | None = None,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
    *,
    vs_currency: str | None = None,
    policy: SourcePolicy | None = None,
) -> pd.DataFrame:
    """Wide frame of hourly prices: index = the UTC hour the price closes, one column per coin."""
    return _closes(db, "hourly", "hour", "close", coin_ids, start, end, vs_currency, policy=policy)


def category_members_at(db: Database, category_id: str, at: datetime | date | str) -> list[str]:
    """Coin ids that were in the category at instant ``at`` (point-in-time membership)."""
    return storage.members_at(db, category_id, pd.Timestamp(at).to_pydatetime())["coin_id"].tolist()


def category_members_first_known(db: Database, category_id: str) -> tuple[list[str], datetime | None]:
    """The category's earliest recorded membership and when it was observed.

    CoinGecko has no history of category membership, so for events before the first sync the
    only sample on record is this one. It suffers survivorship bias (coins that left or died
    before the first sync are missing): callers must say so when they use it.
    """
    first = storage.first_membership_instant(db, category_id)
    if first is None:
        return [], None
    first = first.to_pydatetime()
    return category_members_at(db, category_id, first), first
