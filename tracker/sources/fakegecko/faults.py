"""Faults the fake server injects on demand, and the error bodies it answers with.

A :class:`FaultRule` says which requests get which fault: an endpoint pattern (matched with
``fnmatch`` against the path, e.g. ``/coins/bitcoin/market_chart/range``, or its template,
``/coins/{id}/market_chart/range``), optional query parameters that must match, how many
matching requests to let through first (``skip``) and how many to spoil (``times``; None for
all). Rules are plain data, so they travel as JSON over ``POST /__fake/faults`` just as well as
through :meth:`FakeGecko.add_fault`.

Fault kinds
-----------
rate_limit         429 with ``Retry-After`` (``retry_after`` seconds, default 1) and the JSON ``status`` body
throttled          429 as plain text ``Throttled``, no Retry-After
server_error       ``status`` 500 (JSON), 502 (Cloudflare HTML) or 503 (JSON ``status``, optional Retry-After)
slow               answer normally after ``delay`` seconds
timeout            hold the connection for ``delay`` seconds (default 60), then close it unanswered
reset              close the connection with a TCP reset before answering
truncated          200 whose JSON is cut in half (Content-Length matches the cut body)
truncated_transfer 200 announcing the full length but closing half-way through the body
cloudflare_403     403 Cloudflare "Access denied" HTML page (error code 1020)
not_found          404 ``{"error": "coin not found"}``
history_limit      401 with error 10012 nested under ``error`` (the history-window refusal)
paid_only          401 with error 10005 (endpoint not on the plan)
bad_request        400 ``{"error": "..."}``
unauthorized       401 with error 10002 (key missing)
error_200          200 whose body is an error payload
drift_extra        the normal answer with extra, unknown fields added
drift_missing      the normal answer with ``fields`` removed (defaults per endpoint)
drift_nulls        the normal answer with ``fields`` set to null; in charts, the market caps and volumes
                   of every third hour (hourly points) or day (daily points), chosen by timestamp, so
                   a re-fetch while the fault lasts gets the same nulls
rank_shift         a markets page starting one row early (a duplicate across pages)
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Mapping

from ..fakeserver.faults import BaseFaultRule, FaultBook

FAULT_KINDS = (
    "rate_limit", "throttled", "server_error", "slow", "timeout", "reset", "truncated", "truncated_transfer",
    "cloudflare_403", "not_found", "history_limit", "paid_only", "bad_request", "unauthorized", "error_200",
    "drift_extra", "drift_missing", "drift_nulls", "rank_shift",
)
DRIFT_KINDS = ("drift_extra", "drift_missing", "drift_nulls")

RATE_LIMIT_MESSAGE = (
    "You've exceeded the Rate Limit. Please visit https://www.coingecko.com/en/api/pricing to subscribe to our API plans "
    "for higher rate limits."
)
HISTORY_LIMIT_MESSAGE = (
    "Your request exceeds the allowed time range. Public API users are limited to querying historical data within the "
    "past 365 days. Upgrade to a paid plan to enjoy full historical data access: https://www.coingecko.com/en/api/pricing. "
)
CLOUDFLARE_403 = """<!DOCTYPE html>
<html lang="en-US"><head><title>Access denied | api.coingecko.com used Cloudflare to restrict access</title>
<meta charset="UTF-8" /></head><body><div id="cf-wrapper"><div id="cf-error-details">
<h1><span class="cf-error-type">Error</span> <span class="cf-error-code">1020</span></h1>
<h2 class="cf-subheadline">Access denied</h2><p>The site owner may have set restrictions that prevent you from
accessing the site.</p><p>Error code: 1020</p><span class="cf-footer-item">Cloudflare Ray ID: 8f1c0ffee</span>
</div></div></body></html>"""
CLOUDFLARE_502 = """<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>
<hr><center>cloudflare</center></body></html>"""


@dataclass
class FaultRule(BaseFaultRule):
    """Which requests to spoil, and how. See the module docstring for the kinds."""

    KINDS: ClassVar[tuple[str, ...]] = FAULT_KINDS

    fields: list[str] | None = None
    matched: int = 0
    fired: int = 0

    def matches(self, path: str, template: str, params: Mapping[str, str]) -> bool:
        if not (fnmatch.fnmatchcase(path, self.endpoint) or fnmatch.fnmatchcase(template, self.endpoint)):
            return False
        return self.params_match(params)


# -- bodies ---------------------------------------------------------------------------------

def status_body(code: int, message: str, *, timestamp: datetime | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"error_code": code, "error_message": message}
    if timestamp is not None:
        status = {"timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S.000+00:00"), **status}
    return {"status": status}


_DEFAULT_MISSING = {
    "/coins/markets": ["market_cap", "total_volume", "last_updated", "symbol", "market_cap_rank"],
    "/coins/categories": ["market_cap", "volume_24h", "top_3_coins_id", "updated_at"],
    "/coins/{id}/market_chart/range": ["market_caps", "total_volumes"],
    "/coins/{id}/market_chart": ["market_caps", "total_volumes"],
    "/coins/list": ["symbol"],
    "/coins/categories/list": ["name"],
    "/global": ["total_volume", "updated_at"],
}
_DEFAULT_NULLS = {
    "/coins/markets": ["market_cap", "total_volume", "market_cap_rank", "circulating_supply", "last_updated"],
    "/coins/categories": ["market_cap", "volume_24h", "market_cap_change_24h"],
    "/coins/list": ["symbol"],
    "/coins/categories/list": ["name"],
    "/global": ["market_cap_change_percentage_24h_usd"],
}


def _each_object(payload: Any):
    if isinstance(payload, list):
        for item in payload:
            if isinstance(item, dict):
                yield item
    elif isinstance(payload, dict):
        yield payload.get("data") if isinstance(payload.get("data"), dict) else payload


def _null_slot(stamp: Any) -> bool:
    """Every third hour, and every third day among midnight points (day * 25 mod 3 cycles)."""
    if isinstance(stamp, bool) or not isinstance(stamp, (int, float)):
        return False
    ms = int(stamp)
    return (ms // 3_600_000 + ms // 86_400_000) % 3 == 1


def apply_drift(kind: str, template: str, payload: Any, fields: list[str] | None) -> Any:
    """The payload changed as a schema drift of ``kind`` would change it."""
    is_chart = template.endswith("market_chart/range") or template.endswith("market_chart")
    if kind == "drift_extra":
        for item in _each_object(payload):
            item["schema_version_2027"] = 2
            item["extra_metrics"] = {"sentiment": 0.5, "rank_delta": None}
        if is_chart and isinstance(payload, dict):
            payload["market_caps_fdv"] = [[p[0], None] for p in payload.get("prices", [])[:3]]
        return payload
    if kind == "drift_missing":
        names = fields or _DEFAULT_MISSING.get(template, [])
        for item in _each_object(payload):
            for name in names:
                item.pop(name, None)
        return payload
    if kind == "drift_nulls":
        if is_chart and isinstance(payload, dict):
            for key in fields or ("market_caps", "total_volumes"):
                points = payload.get(key)
                if isinstance(points, list):
                    for point in points:
                        if isinstance(point, list) and len(point) == 2 and _null_slot(point[0]):
                            point[1] = None
            return payload
        names = fields or _DEFAULT_NULLS.get(template, [])
        for item in _each_object(payload):
            for name in names:
                if name in item:
                    item[name] = None
        return payload
    raise ValueError(f"not a drift kind: {kind}")


__all__ = [
    "CLOUDFLARE_403",
    "CLOUDFLARE_502",
    "DRIFT_KINDS",
    "FAULT_KINDS",
    "FaultBook",
    "FaultRule",
    "HISTORY_LIMIT_MESSAGE",
    "RATE_LIMIT_MESSAGE",
    "apply_drift",
    "status_body",
]
