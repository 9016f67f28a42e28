"""Build a client from the validated configuration."""
from __future__ import annotations

import threading

import requests

from ...config import CoinGeckoConfig, Config
from ._client import CoinGeckoClient
from .plans import get_plan
from .retry import RetryPolicy


def retry_policy_from_config(cfg: CoinGeckoConfig) -> RetryPolicy:
    """The retry policy the config asks for."""
    return RetryPolicy(
        max_retries=int(cfg.max_retries),
        backoff_seconds=float(cfg.backoff_seconds),
        backoff_max_seconds=float(cfg.backoff_max_seconds),
        retry_after_cap_seconds=float(cfg.retry_after_cap_seconds),
    )


def client_from_config(
    cfg: Config | CoinGeckoConfig,
    *,
    session: requests.Session | None = None,
    stop_event: threading.Event | None = None,
) -> CoinGeckoClient:
    """A :class:`CoinGeckoClient` for ``cfg`` (a whole :class:`Config` or its ``coingecko`` part).

    Demo and pro without a key stop here with a one-line :class:`~tracker.errors.ConfigError`.

    Examples
    --------
    >>> from tracker.config import load_config
    >>> client = client_from_config(load_config())      # doctest: +SKIP
    """
    gecko = cfg.coingecko if isinstance(cfg, Config) else cfg
    plan = get_plan(gecko.plan)
    return CoinGeckoClient(
        gecko.base_url,
        plan=plan,
        api_key=gecko.api_key,
        session=session,
        timeout=gecko.timeout_seconds,
        calls_per_minute=gecko.calls_per_minute,
        retry=retry_policy_from_config(gecko),
        stop_event=stop_event,
    )


__all__ = ["client_from_config", "retry_policy_from_config"]
