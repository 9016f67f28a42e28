"""A polite, fault-tolerant CoinGecko API v3 client on requests.

``client_from_config(cfg)`` builds a :class:`CoinGeckoClient` for the configured plan. The
client rate-limits itself, retries what is worth retrying, parses CoinGecko's four error shapes
into :mod:`tracker.sources.coingecko.errors`, sends the key only in a header, and counts its calls. It
returns DataFrames and knows nothing of the database. See docs/coingecko.md.
"""
from ._client import CallTally, CoinGeckoClient
from .chunking import ChartChunk, HistoryPlan, chunk_watermark, infer_granularity, label_points, plan_history
from .endpoints import MarketsPage
from .errors import (
    AccessDeniedError,
    AuthenticationError,
    BadRequestError,
    CoinGeckoCancelled,
    CoinGeckoConnectionError,
    CoinGeckoError,
    CoinGeckoTimeout,
    HistoryLimitError,
    NotFoundError,
    PlanLimitError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    TransportError,
    UnreachableError,
    WrongKeyTypeError,
    parse_error_body,
)
from .factory import client_from_config, retry_policy_from_config
from .plans import Plan, get_plan
from .ratelimit import RateLimiter
from .retry import RetryPolicy, parse_retry_after

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "BadRequestError",
    "CallTally",
    "ChartChunk",
    "CoinGeckoCancelled",
    "CoinGeckoClient",
    "CoinGeckoConnectionError",
    "CoinGeckoError",
    "CoinGeckoTimeout",
    "HistoryLimitError",
    "HistoryPlan",
    "MarketsPage",
    "NotFoundError",
    "Plan",
    "PlanLimitError",
    "RateLimitError",
    "RateLimiter",
    "ResponseFormatError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "UnreachableError",
    "WrongKeyTypeError",
    "chunk_watermark",
    "client_from_config",
    "get_plan",
    "infer_granularity",
    "label_points",
    "parse_error_body",
    "parse_retry_after",
    "plan_history",
    "retry_policy_from_config",
]
