"""CoinGecko's error shapes are parsed into a small hierarchy; messages are one line."""
from __future__ import annotations

import pickle

import pytest

import tracker.sources.coingecko.errors as errors_module
from tracker.errors import TrackerError
from tracker.sources.coingecko.errors import (
    AccessDeniedError,
    AuthenticationError,
    BadRequestError,
    CoinGeckoError,
    HistoryLimitError,
    NotFoundError,
    PlanLimitError,
    RateLimitError,
    ResponseFormatError,
    ServerError,
    TransportError,
    WrongKeyTypeError,
    error_for_response,
    parse_error_body,
    scrub,
)

CLOUDFLARE = (
    "<!DOCTYPE html>\n<html><head><title>Access denied | api.coingecko.com used Cloudflare to restrict access</title>"
    "</head>\n<body><h1>Error 1020</h1>\n<p>Error code: 1020</p></body></html>"
)


@pytest.mark.parametrize(
    "body, code, message",
    [
        # 1. a status object
        ('{"status":{"error_code":429,"error_message":"You\'ve exceeded the Rate Limit."}}', 429, "You've exceeded the Rate Limit."),
        # 2. the same nested under "error" (seen with 10012)
        ('{"error":{"status":{"timestamp":"2024-04-20T22:00:05.123+00:00","error_code":10012,"error_message":"Your request exceeds the allowed time range."}}}',
         10012, "Your request exceeds the allowed time range."),
        # 3. a plain error string
        ('{"error":"coin not found"}', None, "coin not found"),
        # 4. not JSON: Cloudflare's HTML page, and plain text
        (CLOUDFLARE, 1020, "Access denied | api.coingecko.com used Cloudflare to restrict access"),
        ("Throttled", None, "Throttled"),
        ("", None, "empty response body"),
    ],
)
def test_four_error_shapes(body, code, message):
    assert parse_error_body(body.encode()) == (code, message)


@pytest.mark.parametrize(
    "status, body, cls, retryable",
    [
        (429, '{"status":{"error_code":429,"error_message":"slow down"}}', RateLimitError, True),
        (429, "Throttled", RateLimitError, True),
        (500, '{"error":"Internal server error"}', ServerError, True),
        (502, "<html><head><title>502 Bad Gateway</title></head></html>", ServerError, True),
        (503, '{"status":{"error_code":503,"error_message":"unavailable"}}', ServerError, True),
        (408, "timeout", ServerError, True),
        (400, '{"error":"Missing parameter vs_currency"}', BadRequestError, False),
        (401, '{"status":{"error_code":10002,"error_message":"API Key Missing"}}', AuthenticationError, False),
        (401, '{"status":{"error_code":10005,"error_message":"This request is limited Pro API subscribers"}}', PlanLimitError, False),
        (401, '{"error":{"status":{"error_code":10012,"error_message":"exceeds the allowed time range"}}}', HistoryLimitError, False),
        (400, '{"status":{"error_code":10010,"error_message":"use pro-api"}}', WrongKeyTypeError, False),
        (400, '{"status":{"error_code":10011,"error_message":"use api"}}', WrongKeyTypeError, False),
        (403, CLOUDFLARE, AccessDeniedError, False),
        (404, '{"error":"coin not found"}', NotFoundError, False),
        (404, '{"error":"Could not find coin with the given id"}', NotFoundError, False),
    ],
)
def test_classification_and_retryability(status, body, cls, retryable):
    error = error_for_response(status, body.encode(), endpoint="/coins/x")
    assert type(error) is cls
    assert error.retryable is retryable
    assert error.status == status
    assert "\n" not in str(error)
    assert str(error).startswith("CoinGecko /coins/x (HTTP ")


def test_error_carries_status_code_and_message():
    error = error_for_response(401, b'{"error":{"status":{"error_code":10012,"error_message":"too old"}}}', endpoint="/coins/bitcoin/market_chart/range")
    assert (error.status, error.error_code, error.message, error.endpoint) == (401, 10012, "too old", "/coins/bitcoin/market_chart/range")
    assert str(error) == "CoinGecko /coins/bitcoin/market_chart/range (HTTP 401, error 10012): too old"


@pytest.mark.parametrize("code, plan", [(10010, 'coingecko.plan = "pro"'), (10011, 'coingecko.plan = "demo"')])
def test_wrong_key_type_is_explained_in_one_line(code, plan):
    error = error_for_response(400, f'{{"status":{{"error_code":{code},"error_message":"x"}}}}'.encode(), endpoint="/ping")
    assert isinstance(error, WrongKeyTypeError) and isinstance(error, AuthenticationError)
    text = str(error)
    assert plan in text and "\n" not in text
    assert ("Pro API key" if code == 10010 else "Demo API key") in text


def test_every_error_is_a_tracker_error_and_listed_in_the_hierarchy():
    doc = errors_module.__doc__
    for name in errors_module.__all__:
        obj = getattr(errors_module, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, TrackerError), name
            assert issubclass(obj, CoinGeckoError), name
            assert name in doc, f"{name} missing from the hierarchy in the module docstring"


def test_long_and_multiline_bodies_become_one_short_line():
    body = ("line one\n" * 200).encode()
    code, message = parse_error_body(body)
    assert "\n" not in message and len(message) <= 240


def test_200_with_an_error_payload_is_recognised():
    from tracker.sources.coingecko.errors import error_payload

    assert error_payload({"error": "Something went wrong"}) == (None, "Something went wrong")
    assert error_payload({"status": {"error_code": 10005, "error_message": "pro only"}}) == (10005, "pro only")
    assert error_payload({"prices": []}) is None


def test_scrub_removes_a_secret_echoed_by_a_server():
    error = error_for_response(401, b'{"error":"invalid key CG-abc123 for this host"}', secret="CG-abc123")
    assert "CG-abc123" not in str(error)
    assert scrub("x CG-abc123 y", "CG-abc123") == "x *** y"
    assert scrub("nothing here", None) == "nothing here"


def test_errors_survive_pickling_with_their_fields():
    error = RateLimitError("slow down", retry_after=7.0, status=429, error_code=429, endpoint="/ping")
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.retry_after, copy.status, str(copy)) == (RateLimitError, 7.0, 429, str(error))
    fmt = ResponseFormatError("cut", retryable=True, endpoint="/x")
    assert pickle.loads(pickle.dumps(fmt)).retryable is True
    assert issubclass(TransportError, CoinGeckoError) and TransportError.retryable
