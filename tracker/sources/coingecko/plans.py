"""CoinGecko plans: which host, which key header, what budget, how much history.

The key type must match the host: a Demo key only works on ``api.coingecko.com`` and a Pro key
only on ``pro-api.coingecko.com`` (errors 10010/10011 otherwise). The key is only ever sent in
the plan's header, never as a query parameter, so it cannot end up in a URL or a log line.
"""
from __future__ import annotations

from dataclasses import dataclass

from ...config import PLAN_BASE_URLS, PLAN_CALLS_PER_MINUTE, PLANS
from ...errors import ConfigError

# Keyless and Demo see only the past 365 days of history (error 10012 beyond). The client asks
# for one day less so that clock skew between us and CoinGecko cannot push a request over.
HISTORY_LIMIT_DAYS = 365
HISTORY_SAFE_DAYS = 364


@dataclass(frozen=True)
class Plan:
    """One CoinGecko plan.

    Attributes
    ----------
    name:
        ``keyless``, ``demo`` or ``pro``.
    base_url:
        The official host for the plan (config may point the client elsewhere).
    key_header:
        The header that carries the key, or None for keyless.
    calls_per_minute:
        The conservative default budget.
    history_days:
        How far back history may be requested, or None for no limit.
    """

    name: str
    base_url: str
    key_header: str | None
    calls_per_minute: float
    history_days: int | None

    @property
    def needs_key(self) -> bool:
        return self.key_header is not None

    def headers(self, api_key: str | None) -> dict[str, str]:
        """The authentication header for ``api_key`` (empty for keyless)."""
        if self.key_header is None:
            return {}
        if not api_key:
            raise ConfigError(
                f"coingecko.plan = {self.name!r} needs an API key: set COINGECKO_API_KEY (or use plan keyless)"
            )
        return {self.key_header: api_key}


_PLANS = {
    "keyless": Plan("keyless", PLAN_BASE_URLS["keyless"], None, PLAN_CALLS_PER_MINUTE["keyless"], HISTORY_SAFE_DAYS),
    "demo": Plan("demo", PLAN_BASE_URLS["demo"], "x-cg-demo-api-key", PLAN_CALLS_PER_MINUTE["demo"], HISTORY_SAFE_DAYS),
    "pro": Plan("pro", PLAN_BASE_URLS["pro"], "x-cg-pro-api-key", PLAN_CALLS_PER_MINUTE["pro"], None),
}
assert set(_PLANS) == set(PLANS)


def get_plan(name: str) -> Plan:
    """The :class:`Plan` called ``name``; a one-line ConfigError for anything else."""
    try:
        return _PLANS[name]
    except KeyError:
        raise ConfigError(f"coingecko plan {name!r} is not one of {', '.join(PLANS)}") from None


__all__ = ["HISTORY_LIMIT_DAYS", "HISTORY_SAFE_DAYS", "Plan", "get_plan"]
