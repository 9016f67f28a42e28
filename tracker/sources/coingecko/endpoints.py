"""The CoinGecko endpoints the tracker uses, as methods over :meth:`CoinGeckoClient.get`.

Each method builds the query, makes the call(s) and hands the JSON to :mod:`.parsing`, so
callers get DataFrames with fixed columns. Paging and id grouping for ``/coins/markets`` live
here; limits, retries and timeouts live in the transport (:mod:`._client`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator, Sequence

import pandas as pd

from .chunking import ChartChunk
from .errors import ResponseFormatError
from .parsing import (
    parse_categories,
    parse_categories_list,
    parse_chart,
    parse_coins_list,
    parse_global,
    parse_markets,
    parse_tickers,
)

MAX_PER_PAGE = 250


@dataclass
class MarketsPage:
    """One page of ``/coins/markets``: the rows and which page it was."""

    page: int
    frame: pd.DataFrame


class Endpoints:
    """The API surface; needs a ``get(path, params, *, parse=None)`` from the class it is mixed into."""

    get: Callable[..., Any]

    def ping(self) -> str:
        """``/ping``: CoinGecko's greeting; a cheap check of the host and the key."""
        payload = self.get("/ping")
        if not isinstance(payload, dict) or "gecko_says" not in payload:
            raise ResponseFormatError("ping answered without gecko_says", endpoint="/ping")
        return str(payload["gecko_says"])

    def coins_list(self, *, status: str = "active") -> pd.DataFrame:
        """``/coins/list``: every coin's id, symbol and name (one call, no paging)."""
        return parse_coins_list(self.get("/coins/list", {"status": status}))

    def categories_list(self) -> pd.DataFrame:
        """``/coins/categories/list``: every category's id and name."""
        return parse_categories_list(self.get("/coins/categories/list"))

    def categories(self, order: str = "market_cap_desc") -> pd.DataFrame:
        """``/coins/categories``: market data for every category, in one call."""
        payload = self.get("/coins/categories", {"order": order})
        frame = parse_categories(payload)
        self._count_dropped(payload, frame)
        return frame

    def markets_pages(
        self,
        vs_currency: str,
        *,
        category: str | None = None,
        ids: Sequence[str] | None = None,
        per_page: int = MAX_PER_PAGE,
        order: str = "id_asc",
    ) -> Iterator[MarketsPage]:
        """``/coins/markets`` page by page, by ``category`` or by ``ids`` (never both).

        A category is paged until a page comes back short. Ids are sent in groups of
        ``per_page``, one call per group. ``order=id_asc`` keeps pages stable while market caps
        move; duplicates across pages are the caller's to drop (see :meth:`markets`).
        """
        if (category is None) == (ids is None):
            raise ValueError("give exactly one of category or ids")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise ValueError(f"per_page must be 1..{MAX_PER_PAGE}")
        base = {"vs_currency": vs_currency, "order": order, "per_page": per_page}
        if ids is not None:
            unique = list(dict.fromkeys(ids))
            for number, start in enumerate(range(0, len(unique), per_page), 1):
                group = unique[start : start + per_page]
                payload = self.get("/coins/markets", {**base, "ids": ",".join(group), "page": 1})
                frame = parse_markets(payload)
                self._count_dropped(payload, frame)
                yield MarketsPage(number, frame)
            return
        page = 1
        while True:
            payload = self.get("/coins/markets", {**base, "category": category, "page": page})
            frame = parse_markets(payload)
            self._count_dropped(payload, frame)
            yield MarketsPage(page, frame)
            # A short page is the last. Count what CoinGecko sent, not what parsed, so a dropped
            # malformed row cannot end the paging early.
            sent = len(payload) if isinstance(payload, list) else 0
            if sent < per_page:
                return
            page += 1

    def markets(self, vs_currency: str, *, category: str | None = None, ids: Sequence[str] | None = None,
                per_page: int = MAX_PER_PAGE, order: str = "id_asc") -> pd.DataFrame:
        """All pages of ``/coins/markets`` as one frame, one row per coin id (the later page wins)."""
        frames = [p.frame for p in self.markets_pages(vs_currency, category=category, ids=ids, per_page=per_page, order=order)]
        frame = pd.concat(frames, ignore_index=True) if frames else parse_markets([])
        return frame.drop_duplicates("coin_id", keep="last").reset_index(drop=True)

    def market_chart_range(self, coin_id: str, vs_currency: str, start: datetime | int, end: datetime | int) -> pd.DataFrame:
        """``/coins/{id}/market_chart/range`` between two instants (naive UTC datetimes or UNIX seconds).

        Returns one row per timestamp: ``ts`` (naive UTC, from milliseconds), ``price``,
        ``market_cap``, ``total_volume``. The granularity follows CoinGecko's rules for the
        length asked for; see :mod:`tracker.sources.coingecko.chunking`.
        """
        def seconds(moment: datetime | int) -> int:
            if isinstance(moment, datetime):
                return int((moment - datetime(1970, 1, 1)).total_seconds())
            return int(moment)

        if not coin_id or "/" in coin_id or "?" in coin_id:
            raise ValueError(f"not a coin id: {coin_id!r}")
        path = f"/coins/{coin_id}/market_chart/range"
        return self.get(path, {"vs_currency": vs_currency, "from": seconds(start), "to": seconds(end)},
                        parse=lambda payload: parse_chart(payload, endpoint=path))

    def market_chart_chunk(self, coin_id: str, vs_currency: str, chunk: ChartChunk) -> pd.DataFrame:
        """The raw points for one planned chunk (see :func:`tracker.sources.coingecko.chunking.plan_history`)."""
        params = chunk.params()
        return self.market_chart_range(coin_id, vs_currency, params["from"], params["to"])

    def coin_tickers(self, coin_id: str, *, exchange: str | None = None) -> pd.DataFrame:
        """``/coins/{id}/tickers``: the coin's markets (first page, 100 tickers), on one ``exchange``
        (CoinGecko's exchange id) or all; columns :data:`~.parsing.TICKER_COLUMNS`. One call."""
        if not coin_id or "/" in coin_id or "?" in coin_id:
            raise ValueError(f"not a coin id: {coin_id!r}")
        path = f"/coins/{coin_id}/tickers"
        params: dict[str, Any] = {"page": 1}
        if exchange:
            params["exchange_ids"] = exchange
        return self.get(path, params, parse=lambda payload: parse_tickers(payload, coin_id, endpoint=path))

    def global_data(self) -> dict[str, Any]:
        """``/global``: totals for the whole market (``updated_at`` as a naive UTC datetime)."""
        return parse_global(self.get("/global"))


__all__ = ["MAX_PER_PAGE", "Endpoints", "MarketsPage"]
