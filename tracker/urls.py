"""Showing a URL without what may be secret in it: the password of its userinfo and its query.

A key pasted into ``COINGECKO_BASE_URL``'s query string, or ``user:password@host``, must not
reach a terminal, a log or a report. Everything that prints a URL the user configured goes
through :func:`mask_url` (one URL) or :func:`mask_urls` (URLs inside a longer text).
"""
from __future__ import annotations

import re

MASK = "***"

# scheme://[userinfo@]rest; the URL ends at whitespace or a quote (as it does inside a repr).
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<rest>[^\s'\"<>]*)")


def mask_url(url: str) -> str:
    """``http://user:***@host/path?***``: the user name stays (it helps to tell configs apart),
    the password, the whole query string and the fragment do not.

    >>> mask_url("http://me:pw@localhost:8000/api/v3?x_cg_demo_api_key=CG-1")
    'http://me:***@localhost:8000/api/v3?***'
    >>> mask_url("https://api.coingecko.com/api/v3")
    'https://api.coingecko.com/api/v3'
    """
    text = str(url)
    match = _URL.match(text)
    if not match:
        return _mask_query(text)
    return match["scheme"] + _mask_rest(match["rest"]) + text[match.end():]


def mask_urls(text: str) -> str:
    """Every URL inside ``text`` masked as :func:`mask_url` does; the rest left alone."""
    return _URL.sub(lambda m: m["scheme"] + _mask_rest(m["rest"]), str(text))


def _mask_rest(rest: str) -> str:
    # The authority ends at the first / ? or #; userinfo is what comes before its last @.
    cut = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        authority = f"{user}:{MASK}@{host}" if user else f"{MASK}@{host}"
    return authority + _mask_query(tail)


def _mask_query(tail: str) -> str:
    for mark in ("?", "#"):
        if mark in tail:
            tail = tail[: tail.index(mark)] + mark + MASK
    return tail


__all__ = ["MASK", "mask_url", "mask_urls"]
