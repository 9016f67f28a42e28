"""The daemon's log stays short when the same thing fails over and over."""
from __future__ import annotations

import logging

from jobs.quiet_log import RepeatedFailureLog, RepeatFilter, quiet_library_logs


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_repeated_failure_is_logged_once_then_reminded(caplog):
    clock = Clock()
    quiet = RepeatedFailureLog(logging.getLogger("test.quiet"), remind_every=600, clock=clock)
    with caplog.at_level(logging.INFO, logger="test.quiet"):
        assert quiet.failure("markets", "HTTP 503", "10:10 UTC") is True
        for _ in range(5):
            clock.now += 60
            assert quiet.failure("markets", "HTTP 503", "10:20 UTC") is False
        clock.now += 300  # 600 s after the first line
        assert quiet.failure("markets", "HTTP 503", "10:30 UTC") is True
        assert quiet.failure("markets", "connection refused", "10:40 UTC") is True  # a new failure shows at once
        assert quiet.failure("history", "HTTP 429", "11:00 UTC", status="partial") is True
        note = quiet.success("markets")
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert messages == [
        ("ERROR", "markets failed: HTTP 503; next try at 10:10 UTC"),
        ("ERROR", "markets failed (7 times in a row): HTTP 503; next try at 10:30 UTC"),
        ("ERROR", "markets failed: connection refused; next try at 10:40 UTC"),
        ("WARNING", "history partial: HTTP 429; next try at 11:00 UTC"),
    ]
    assert note == " (recovered after 1 failed run(s))"
    assert quiet.success("markets") == ""


def test_repeat_filter_lets_each_kind_through_once_per_window():
    clock = Clock()
    repeat = RepeatFilter(window=100, clock=clock)

    def record(msg, *args, level=logging.INFO):
        return logging.LogRecord("tracker.coingecko", level, __file__, 1, msg, args, None)

    shown = [repeat.filter(record("GET %s: %s; retry %d", f"/coins/c{i}", "HTTP 503", 1)) for i in range(10)]
    assert shown == [True] + [False] * 9
    assert repeat.filter(record("GET %s failed", "/x", level=logging.WARNING)) is True  # another kind
    clock.now = 150
    later = record("GET %s: %s; retry %d", "/coins/c11", "HTTP 503", 2)
    assert repeat.filter(later) is True
    assert later.getMessage() == "GET /coins/c11: HTTP 503; retry 2 [9 similar line(s) left out since the last one]"


def test_quiet_library_logs_filters_only_inside_the_block(caplog):
    lib = logging.getLogger("tracker.coingecko")
    with caplog.at_level(logging.INFO, logger="tracker.coingecko"):
        with quiet_library_logs(window=3600):
            for i in range(5):
                lib.info("GET %s: retry", i)
        for i in range(2):
            lib.info("GET %s: retry", i)
    assert [r.getMessage() for r in caplog.records] == ["GET 0: retry", "GET 0: retry", "GET 1: retry"]
