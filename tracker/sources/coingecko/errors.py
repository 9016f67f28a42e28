"""Every way a CoinGecko call can fail, as one small exception hierarchy.

Hierarchy (``retried`` = the client retries it with backoff before giving up)::

    TrackerError                              tracker.errors
    └── CoinGeckoError                        .status, .error_code, .message, .endpoint, .retryable
        ├── TransportError                    no HTTP answer at all                         retried
        │   ├── CoinGeckoTimeout              slower than coingecko.timeout_seconds
        │   └── CoinGeckoConnectionError      reset, a body cut off mid-transfer
        │       └── UnreachableError          DNS failed, refused, no route: the host cannot  retried once, briefly
        │                                     be reached at all; the job stops at once
        ├── ResponseFormatError               an answer that is not the JSON expected       retried when the JSON is cut short
        ├── RateLimitError                    429; .retry_after in seconds                  retried, waiting Retry-After up to a cap
        ├── ServerError                       5xx and 408                                   retried
        ├── AccessDeniedError                 403 / Cloudflare 1020 block page (IP ban)     not retried
        ├── BadRequestError                   400 or 422: a bad parameter                   not retried
        ├── AuthenticationError               401, error 10002: key missing or invalid      not retried
        │   └── WrongKeyTypeError             10010 / 10011: key type does not match host   not retried
        ├── PlanLimitError                    10005: endpoint not on this plan              not retried
        │   └── HistoryLimitError             10012: history beyond the plan's 365 days     not retried
        ├── NotFoundError                     404: unknown or delisted coin                 not retried
        └── CoinGeckoCancelled                the caller asked the client to stop           not retried

CoinGecko answers errors in four shapes, all parsed by :func:`parse_error_body`:

1. ``{"status": {"error_code": 429, "error_message": "..."}}``
2. the same nested under ``error``: ``{"error": {"status": {...}}}`` (seen with 10012)
3. a plain ``{"error": "coin not found"}``
4. not JSON at all: a Cloudflare HTML page, or ``Throttled`` as plain text

and, rarely, an error payload inside a 200 answer (:func:`error_payload`).

Every message is one line and never contains the API key.
"""
from __future__ import annotations

import errno
import html
import json
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from ...errors import TrackerError
from ...urls import mask_urls

_MAX_MESSAGE = 240
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_CLOUDFLARE_CODE = re.compile(r"error code:?\s*(\d{3,5})", re.I)

WRONG_KEY_CODES = {10010, 10011}
KEY_MISSING_CODE = 10002
PAID_ENDPOINT_CODE = 10005
HISTORY_LIMIT_CODE = 10012
CLOUDFLARE_DENIED_CODE = 1020


class CoinGeckoError(TrackerError):
    """A CoinGecko call failed.

    Parameters
    ----------
    message:
        One line saying what went wrong (CoinGecko's own words when it gave any).
    status:
        The HTTP status, or None when no answer arrived.
    error_code:
        CoinGecko's ``error_code`` (e.g. 10012), or None.
    endpoint:
        The path called, e.g. ``/coins/markets``: never a full URL.
    """

    retryable = False

    def __init__(self, message: str, *, status: int | None = None, error_code: int | None = None, endpoint: str | None = None):
        self.message = one_line(mask_urls(message))  # a body may quote a URL with its query
        self.status = status
        self.error_code = error_code
        self.endpoint = endpoint
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = f"CoinGecko {self.endpoint}" if self.endpoint else "CoinGecko"
        parts = []
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.error_code is not None and self.error_code != self.status:
            parts.append(f"error {self.error_code}")
        code = f" ({', '.join(parts)})" if parts else ""
        return f"{where}{code}: {self.message}"

    def __reduce__(self):  # keep keyword arguments when pickled (e.g. across processes)
        return (_rebuild, (type(self), self.message, self.status, self.error_code, self.endpoint, self.__dict__))


def _rebuild(cls, message, status, error_code, endpoint, state):
    error = cls.__new__(cls)
    CoinGeckoError.__init__(error, message, status=status, error_code=error_code, endpoint=endpoint)
    error.__dict__.update(state)
    return error


class TransportError(CoinGeckoError):
    retryable = True


class CoinGeckoTimeout(TransportError):
    pass


class CoinGeckoConnectionError(TransportError):
    pass


class UnreachableError(CoinGeckoConnectionError):
    """The host cannot be reached at all (DNS lookup failed, connection refused, no route).

    Retrying it like a 5xx only makes a user wait: the client tries once more after a short
    pause, then the job stops and the runs after it are not started. The message is the whole
    story in one line, with the host but never the path, query or key.
    """

    def __init__(self, message: str, *, reason: str = "", host: str = "", **kwargs: Any):
        self.reason, self.host = reason, host
        super().__init__(message, **kwargs)

    def _describe(self) -> str:
        return self.message


# The socket failures that mean "nothing answers at that address", by errno.
_UNREACHABLE_ERRNOS = {
    errno.ECONNREFUSED: "connection refused",
    errno.EHOSTUNREACH: "no route to host",
    errno.ENETUNREACH: "network unreachable",
}


def unreachable_reason(exc: BaseException) -> str | None:
    """``"DNS lookup failed"``, ``"connection refused"``, ``"no route to host"`` or ``"network
    unreachable"`` when ``exc`` (or an exception it wraps) says the host cannot be reached; else None.

    requests wraps urllib3's error, which wraps the socket's, in causes, contexts, ``reason``
    attributes and arguments; all of them are followed.
    """
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "DNS lookup failed"
        if type(current).__name__ == "NameResolutionError":  # urllib3 2: its cause may be gone
            return "DNS lookup failed"
        if isinstance(current, OSError) and current.errno in _UNREACHABLE_ERRNOS:
            return _UNREACHABLE_ERRNOS[current.errno]
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        stack.extend(item for item in linked if isinstance(item, BaseException))
    return None


def host_of(url: str) -> str:
    """``api.coingecko.com`` (or ``127.0.0.1:9`` when a port is named): never a path, query or password."""
    parts = urlsplit(url)
    host = parts.hostname or url
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def unreachable(base_url: str, reason: str, *, endpoint: str | None = None) -> UnreachableError:
    """The one-line error for a host that cannot be reached."""
    host = host_of(base_url)
    return UnreachableError(f"cannot reach {host} ({reason}): check the network, a proxy, or COINGECKO_BASE_URL",
                            reason=reason, host=host, endpoint=endpoint)


class ResponseFormatError(CoinGeckoError):
    """The answer is not the JSON expected. ``retryable`` is set per instance: a body cut
    short is worth another try, a body of the wrong shape is not."""

    def __init__(self, message: str, *, retryable: bool = False, **kwargs: Any):
        self.retryable = retryable
        super().__init__(message, **kwargs)


class RateLimitError(CoinGeckoError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class ServerError(CoinGeckoError):
    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class AccessDeniedError(CoinGeckoError):
    pass


class BadRequestError(CoinGeckoError):
    pass


class AuthenticationError(CoinGeckoError):
    pass


class WrongKeyTypeError(AuthenticationError):
    pass


class PlanLimitError(CoinGeckoError):
    pass


class HistoryLimitError(PlanLimitError):
    pass


class NotFoundError(CoinGeckoError):
    pass


class CoinGeckoCancelled(CoinGeckoError):
    pass


# The one-line explanations for a key sent to the wrong host.
WRONG_KEY_HINTS = {
    10010: "this is a Pro API key but the client is calling the public host; set coingecko.plan = \"pro\" "
    "(host pro-api.coingecko.com) or use a Demo key",
    10011: "this is a Demo API key but the client is calling the Pro host; set coingecko.plan = \"demo\" "
    "(host api.coingecko.com) or use a Pro key",
}


def one_line(text: str, limit: int = _MAX_MESSAGE) -> str:
    """Collapse whitespace to one line and cut it to ``limit`` characters."""
    flat = _SPACE.sub(" ", str(text)).strip()
    return flat if len(flat) <= limit else flat[: limit - 3].rstrip() + "..."


def scrub(text: str, secret: str | None) -> str:
    """Replace every occurrence of ``secret`` in ``text`` (a server may echo what it was sent)."""
    if secret and secret in text:
        return text.replace(secret, "***")
    return text


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _from_status_object(status: Any) -> tuple[int | None, str | None] | None:
    if isinstance(status, dict) and ("error_code" in status or "error_message" in status):
        return _as_int(status.get("error_code")), (str(status["error_message"]) if status.get("error_message") is not None else None)
    return None


def error_payload(payload: Any) -> tuple[int | None, str | None] | None:
    """``(error_code, message)`` when ``payload`` is one of the three JSON error shapes, else None."""
    if not isinstance(payload, dict):
        return None
    found = _from_status_object(payload.get("status"))
    if found:
        return found
    error = payload.get("error")
    if isinstance(error, dict):
        found = _from_status_object(error.get("status"))
        if found:
            return found
        if "error_message" in error or "error_code" in error:
            return _from_status_object(error)
        return None, one_line(json.dumps(error))
    if isinstance(error, str):
        return _as_int(payload.get("error_code")), error
    return None


def _text_message(text: str) -> tuple[int | None, str]:
    """A non-JSON body: an HTML page's title (plus Cloudflare's error code), or the text's first line."""
    code = None
    match = _CLOUDFLARE_CODE.search(text)
    if match:
        code = _as_int(match.group(1))
    title = _TITLE.search(text)
    if title:
        message = html.unescape(_TAGS.sub(" ", title.group(1)))
    elif "<" in text and ">" in text:
        message = html.unescape(_TAGS.sub(" ", text))
    else:
        message = text
    message = one_line(message) or "empty response body"
    return code, message


def parse_error_body(body: bytes | str | None, content_type: str | None = None) -> tuple[int | None, str]:
    """Read CoinGecko's ``error_code`` and message from any of its four error shapes.

    Parameters
    ----------
    body:
        The raw response body.
    content_type:
        The Content-Type header; JSON is tried whatever it says, since error pages lie.

    Returns
    -------
    tuple
        ``(error_code or None, one-line message)``.
    """
    if body is None:
        return None, "empty response body"
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    stripped = text.strip()
    if not stripped:
        return None, "empty response body"
    if stripped[:1] in "{[":
        try:
            payload = json.loads(stripped)
        except ValueError:
            payload = None
        found = error_payload(payload)
        if found is not None:
            code, message = found
            return code, one_line(message or "no error message")
        if payload is not None:
            return None, one_line(stripped)
    return _text_message(stripped)


def error_for_response(
    status: int,
    body: bytes | str | None,
    *,
    content_type: str | None = None,
    endpoint: str | None = None,
    retry_after: float | None = None,
    secret: str | None = None,
) -> CoinGeckoError:
    """The exception for an error answer: CoinGecko's error code decides first, then the status."""
    code, message = parse_error_body(body, content_type)
    message = scrub(message, secret)
    kwargs: dict[str, Any] = {"status": status, "error_code": code, "endpoint": endpoint}
    if code in WRONG_KEY_CODES:
        return WrongKeyTypeError(f"wrong key type for this host: {WRONG_KEY_HINTS[code]}", **kwargs)
    if code == HISTORY_LIMIT_CODE:
        return HistoryLimitError(message, **kwargs)
    if code == PAID_ENDPOINT_CODE:
        return PlanLimitError(message, **kwargs)
    if code == KEY_MISSING_CODE:
        return AuthenticationError(message, **kwargs)
    if code == CLOUDFLARE_DENIED_CODE:
        return AccessDeniedError(message, **kwargs)
    if status == 429:
        return RateLimitError(message, retry_after=retry_after, **kwargs)
    if status == 404:
        return NotFoundError(message, **kwargs)
    if status == 401:
        return AuthenticationError(message, **kwargs)
    if status == 403:
        return AccessDeniedError(message, **kwargs)
    if status in (400, 422):
        return BadRequestError(message, **kwargs)
    if status == 408 or status >= 500:
        return ServerError(message, retry_after=retry_after, **kwargs)
    return CoinGeckoError(message, **kwargs)


__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "BadRequestError",
    "CoinGeckoCancelled",
    "CoinGeckoConnectionError",
    "CoinGeckoError",
    "CoinGeckoTimeout",
    "HistoryLimitError",
    "NotFoundError",
    "PlanLimitError",
    "RateLimitError",
    "ResponseFormatError",
    "ServerError",
    "TransportError",
    "UnreachableError",
    "WrongKeyTypeError",
    "error_for_response",
    "error_payload",
    "one_line",
    "parse_error_body",
    "scrub",
    "unreachable",
    "unreachable_reason",
]
