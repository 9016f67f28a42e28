"""One source per coin: which stored source gives each coin's series in an analysis.

A database may hold a coin's prices from several sources: CoinGecko, exchange candles
(``binance``, ``okx``, ...), CSV imports (``csv:<file>``) and the tracker's own market
snapshots. An analysis never mixes them within one coin's series. For each coin it picks one
source and one quote currency:

1. ``--source NAME`` (``SourcePolicy.source``) keeps only that source: an exact stored name
   (``binance``, ``csv:prices.csv``) or a family prefix (``csv`` for every ``csv:*`` import);
2. among what is left, the candidate with the most closes in the analysis' periods wins;
3. ties go by a fixed order: ``coingecko``, then exchanges and other sources alphabetically,
   then CSV imports alphabetically, then a source with snapshots only; then the quote: ``usd``
   before the USD equivalents in their configured order.

A source's own market snapshots (``snapshot:coingecko``) belong to it and fill the periods its
history lacks, as the close views always did. When the analysis is in ``usd``, closes quoted in
a USD equivalent (``[tracking] usd_equivalents``: USDT, USDC, FDUSD) count as USD closes, one
quote per coin. docs/eventstudy.md ("Sources") documents the rule.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Sequence

import pandas as pd

import storage
from storage import Database

from ..errors import InputError

DEFAULT_USD_EQUIVALENTS = ("usdt", "usdc", "fdusd")
CHOICE_COLUMNS = ["coin_id", "source", "vs_currency", "closes", "first_close", "last_close", "snapshots_only",
                  "alternatives"]


@dataclass(frozen=True)
class SourcePolicy:
    """How an analysis picks each coin's source: ``source`` (None: by coverage) and the quotes
    read as ``usd`` (``usd_equivalents``, from ``[tracking] usd_equivalents``)."""

    source: str | None = None
    usd_equivalents: tuple[str, ...] = DEFAULT_USD_EQUIVALENTS
    # (coin_id, source, vs_currency) already chosen, e.g. by a report's study, so its moves and
    # correlations read the same series even over a shorter range.
    pins: tuple[tuple[str, str, str], ...] = ()

    def pinned(self, choice: pd.DataFrame) -> "SourcePolicy":
        """This policy with the coins of ``choice`` (a :func:`series_sources` frame) fixed to their source."""
        pins = {c: (c, s, v) for c, s, v in zip(choice["coin_id"], choice["source"], choice["vs_currency"])}
        pins.update({p[0]: p for p in self.pins})
        return replace(self, pins=tuple(sorted(pins.values())))

    def quotes(self, quote: str) -> list[str]:
        """The stored currencies read as ``quote``: itself, plus the USD equivalents for usd."""
        return [quote, *self.usd_equivalents] if quote == "usd" else [quote]

    def matches(self, source: str) -> bool:
        """Whether a stored source is allowed: any without ``source``; else the name or its family."""
        return self.source is None or source == self.source or source.startswith(self.source + ":")

    def describe(self, quote: str) -> str:
        """One line for a study's settings and a report's provenance."""
        chosen = f"--source {self.source}" if self.source else "one source per coin, the one covering most of the periods read"
        if quote == "usd" and self.usd_equivalents:
            return f"{chosen}; closes quoted in {', '.join(q.upper() for q in self.usd_equivalents)} read as USD"
        return chosen


def check_source(db: Database, policy: SourcePolicy) -> None:
    """Refuse a ``source`` that no stored price has, naming the stored ones (one line)."""
    if policy.source is None:
        return
    stored = storage.price_sources(db)
    if not any(policy.matches(s) for s in stored):
        families = sorted({s.split(":", 1)[0] for s in stored if ":" in s})
        names = ", ".join(stored + families) or "none (the database holds no prices)"
        raise InputError(f"unknown `source` {policy.source!r}: the stored sources are {names}", parameters=["source"])


def _tie_order(source: str, snapshots_only: bool) -> tuple[int, str]:
    if snapshots_only:
        return (3, source)
    if source == "coingecko":
        return (0, source)
    if source.startswith("csv:"):
        return (2, source)
    return (1, source)


def choose(coverage: pd.DataFrame, policy: SourcePolicy, quotes: Sequence[str]) -> pd.DataFrame:
    """The one (source, currency) per coin from a coverage frame (``storage.source_coverage``):
    the most closes, then the fixed order. ``alternatives`` names the candidates not taken."""
    allowed = coverage[coverage["source"].map(policy.matches) & (coverage["closes"] > 0)]
    frame = allowed
    if policy.pins:
        pins = {p[0]: p for p in policy.pins}
        keep = [c not in pins or (c, s, v) == pins[c] for c, s, v in zip(frame["coin_id"], frame["source"], frame["vs_currency"])]
        frame = frame[keep]
    if frame.empty:
        return pd.DataFrame(columns=CHOICE_COLUMNS)
    quote_rank = {q: i for i, q in enumerate(quotes)}
    frame = frame.assign(
        _family=[_tie_order(s, bool(o))[0] for s, o in zip(frame["source"], frame["snapshots_only"])],
        _quote=[quote_rank.get(v, len(quotes)) for v in frame["vs_currency"]],
    )
    order = ["coin_id", "closes", "_family", "source", "_quote"]
    best = (frame.sort_values(order, ascending=[True, False, True, True, True], kind="stable")
            .drop_duplicates("coin_id", keep="first").reset_index(drop=True))
    # The candidates not taken, most closes first, for the provenance.
    others = allowed.merge(best[["coin_id", "source", "vs_currency"]], on="coin_id", suffixes=("", "_best"))
    others = others[(others["source"] != others["source_best"]) | (others["vs_currency"] != others["vs_currency_best"])]
    others = others.sort_values(["coin_id", "closes", "source"], ascending=[True, False, True], kind="stable")
    text = [f"{s} ({v}, {int(n)} closes)" for s, v, n in zip(others["source"], others["vs_currency"], others["closes"])]
    alternatives = pd.Series(text, index=others.index, dtype=object).groupby(others["coin_id"]).agg("; ".join)
    best["alternatives"] = [alternatives.get(c, "") for c in best["coin_id"]]
    return best.reindex(columns=CHOICE_COLUMNS)


def series_sources(db: Database, grid: str, coin_ids: Sequence[str] | None, start: datetime | None,
                   end: datetime | None, quote: str, policy: SourcePolicy | None = None, *,
                   value: str = "close", complete_only: bool = False) -> pd.DataFrame:
    """Each coin's chosen source and currency for ``grid`` closes from ``start`` to ``end``:
    ``coin_id, source, vs_currency, closes, first_close, last_close, snapshots_only, alternatives``.
    A coin without any close there is absent."""
    policy = policy or SourcePolicy()
    quotes = policy.quotes(quote)
    coverage = storage.source_coverage(db, grid, quotes, coin_ids, start, end, value=value,
                                       complete_only=complete_only and grid == "daily")
    return choose(coverage, policy, quotes)


def provenance_rows(choice: pd.DataFrame, quote: str) -> list[dict]:
    """The choice as plain rows for a study's settings and a report's JSON."""
    rows = []
    for row in choice.itertuples(index=False):
        read_as = f"{row.vs_currency} read as {quote}" if row.vs_currency != quote else row.vs_currency
        rows.append({"coin_id": row.coin_id, "source": row.source, "quote": read_as, "closes": int(row.closes),
                     "snapshots_only": bool(row.snapshots_only), "not_used": row.alternatives or ""})
    return rows


def settings_entry(choice: pd.DataFrame, quote: str, policy: SourcePolicy | None) -> dict:
    """What a study's settings carry: the rule and each coin's source and quote."""
    policy = policy or SourcePolicy()
    return {"rule": policy.describe(quote),
            "coins": {row["coin_id"]: f"{row['source']} ({row['quote']})" for row in provenance_rows(choice, quote)}}


def coverage_table(db: Database, coin_ids: Sequence[str] | None = None, source: str | None = None,
                   usd_equivalents: Sequence[str] = DEFAULT_USD_EQUIVALENTS) -> pd.DataFrame:
    """Coverage per coin and source (``tracker coverage``): daily and hourly closes within one
    source, and minute candles; ``read_as`` says which quotes a usd analysis reads as usd."""
    policy = SourcePolicy(source, tuple(usd_equivalents))
    check_source(db, policy)
    frame = storage.coverage_by_source(db, list(coin_ids) if coin_ids else None)
    frame = frame[frame["source"].map(policy.matches)].reset_index(drop=True)
    frame.insert(3, "read_as", ["usd" if v in policy.usd_equivalents else v for v in frame["vs_currency"]])
    return frame
