"""Pointing a ccxt exchange at another REST root (a proxy, or the fake exchange in tests).

ccxt keeps an exchange's roots in ``exchange.urls['api']``: a string, or a (nested) dict of
them, e.g. Binance's ``{'public': 'https://api.binance.com/api/v3', 'sapi': ...}`` and OKX's
``{'rest': 'https://{hostname}'}``. :func:`point_at` swaps the scheme and host of every one for
the given root and keeps each path, so ``http://127.0.0.1:8080`` serves Binance's
``/api/v3/klines`` and OKX's ``/api/v5/market/candles`` at the paths the real hosts use.
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

ENV_BASE_URL = "TRACKER_EXCHANGE_BASE_URL"
_ROOT = re.compile(r"^https?://[^\s/?#@]+(/[^\s?#]*)?$")


def valid_root(url: str) -> bool:
    """An http(s) URL without credentials, query or fragment."""
    return bool(_ROOT.match(url))


def point_at(exchange: Any, base_url: str) -> None:
    """Rewrite ``exchange.urls['api']`` in place so every REST root starts at ``base_url``."""
    root = base_url.rstrip("/")
    exchange.urls["api"] = _rewrite(exchange.urls["api"], root)
    exchange.hostname = urlsplit(root).netloc  # some roots are templates: 'https://{hostname}'


def api_roots(exchange: Any) -> list[str]:
    """Every REST root the exchange would call (for messages and tests)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(exchange.urls.get("api"))
    return found


def _rewrite(node: Any, root: str) -> Any:
    if isinstance(node, dict):
        return {key: _rewrite(value, root) for key, value in node.items()}
    if isinstance(node, str) and "://" in node:
        rest = node.split("://", 1)[1]
        path = rest.split("/", 1)[1] if "/" in rest else ""
        return f"{root}/{path}" if path else root
    return node


__all__ = ["ENV_BASE_URL", "api_roots", "point_at", "valid_root"]
