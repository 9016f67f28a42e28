"""History planning: daily old history, hourly recent history, chunks that never overlap or leave gaps."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.sources.coingecko.chunking import (
    DAILY_MIN,
    HOURLY_MAX,
    HOURLY_MIN,
    ONE_MS,
    ChartChunk,
    chunk_watermark,
    infer_granularity,
    label_points,
    plan_history,
)

NOW = datetime(2026, 3, 12, 15, 37, 21)
DAY = timedelta(days=1)


def _length(chunk: ChartChunk) -> timedelta:
    p = chunk.params()
    return timedelta(seconds=p["to"] - p["from"])


def test_first_backfill_on_demo_is_two_calls():
    plan = plan_history(now=NOW, target_start=NOW - 365 * DAY, history_days=364, plan_name="demo")
    daily, hourly = plan.chunks
    assert (daily.granularity, hourly.granularity) == ("daily", "hourly")
    assert daily.start == NOW - 364 * DAY and daily.end == hourly.start == NOW - 89 * DAY
    assert hourly.final and hourly.end == NOW
    assert _length(daily) > timedelta(days=90) and _length(hourly) <= HOURLY_MAX
    assert plan.clamped and plan.note is None  # 365 asked, 364 allowed: only the safety margin


def test_asking_for_more_than_the_plan_allows_is_clamped_with_a_note():
    plan = plan_history(now=NOW, target_start=NOW - 1000 * DAY, history_days=364, plan_name="demo")
    assert plan.start == NOW - 364 * DAY and plan.clamped
    assert "364 days" in plan.note and "10012" in plan.note and "demo" in plan.note
    assert all(c.request_from >= NOW - 364 * DAY for c in plan.chunks)


def test_pro_backfill_uses_long_daily_chunks():
    plan = plan_history(now=NOW, target_start=NOW - 1000 * DAY, history_days=None)
    assert not plan.clamped and plan.note is None
    daily = [c for c in plan.chunks if c.granularity == "daily"]
    assert len(daily) == 3 and all(c.end - c.start <= timedelta(days=365) for c in daily)
    assert all(_length(c) >= DAILY_MIN for c in daily)
    assert plan.chunks[-1].granularity == "hourly" and plan.chunks[-1].final


def test_daily_top_up_is_one_hourly_call_of_at_least_two_days():
    covered = (NOW - 300 * DAY, NOW - timedelta(hours=20))
    plan = plan_history(now=NOW, target_start=NOW - 300 * DAY, covered=covered, history_days=364)
    (chunk,) = plan.chunks
    assert chunk.granularity == "hourly" and chunk.final
    assert chunk.start == covered[1] + ONE_MS
    assert _length(chunk) >= HOURLY_MIN  # a shorter range ending now would come back 5-minutely


def test_nothing_to_do_within_the_hour():
    covered = (NOW - 300 * DAY, NOW - timedelta(minutes=40))
    assert plan_history(now=NOW, target_start=NOW - 300 * DAY, covered=covered, history_days=364).chunks == []


def test_a_long_pause_resumes_with_a_daily_then_an_hourly_call():
    covered = (NOW - 300 * DAY, NOW - 120 * DAY)
    plan = plan_history(now=NOW, target_start=NOW - 300 * DAY, covered=covered, history_days=364)
    assert [c.granularity for c in plan.chunks] == ["daily", "hourly"]
    assert plan.chunks[0].start == covered[1] + ONE_MS


def test_extending_backwards_grows_newest_first():
    covered = (NOW - 100 * DAY, NOW - 2 * DAY)
    plan = plan_history(now=NOW, target_start=NOW - 1200 * DAY, covered=covered, history_days=None)
    backward = plan.chunks[: plan.backward]
    assert backward and all(c.granularity == "daily" for c in backward)
    assert backward[0].end == covered[0] and backward[-1].start == NOW - 1200 * DAY
    assert all(a.start == b.end for a, b in zip(backward, backward[1:]))


@settings(max_examples=300, deadline=None)
@given(
    target_days=st.integers(min_value=2, max_value=2000),
    covered_start_days=st.one_of(st.none(), st.integers(min_value=1, max_value=2000)),
    covered_len_hours=st.integers(min_value=0, max_value=2000 * 24),
    limit=st.sampled_from([None, 364]),
)
def test_chunks_tile_the_missing_stretch_exactly(target_days, covered_start_days, covered_len_hours, limit):
    covered = None
    if covered_start_days is not None:
        first = NOW - covered_start_days * DAY
        covered = (first, min(NOW - timedelta(minutes=1), first + timedelta(hours=covered_len_hours)))
    plan = plan_history(now=NOW, target_start=NOW - target_days * DAY, covered=covered, history_days=limit)
    lower = NOW - limit * DAY if limit else None
    for chunk in plan.chunks:
        assert chunk.request_from <= chunk.start and (chunk.final or chunk.request_to >= chunk.end)
        if lower is not None:
            assert chunk.request_from >= lower
        if chunk.granularity == "daily":
            assert _length(chunk) > timedelta(days=90)
        else:
            assert _length(chunk) <= HOURLY_MAX
            if chunk.final:
                assert _length(chunk) >= HOURLY_MIN
    # Owned stretches: backward ones end where the stored stretch begins and tile back to the
    # start; forward ones begin right after it and tile up to now.
    backward, forward = plan.chunks[: plan.backward], plan.chunks[plan.backward :]
    for a, b in zip(backward, backward[1:]):
        assert b.end == a.start
    for a, b in zip(forward, forward[1:]):
        assert b.start == a.end
    if backward:
        assert backward[0].end == covered[0] and backward[-1].start == plan.start
    if forward:
        assert forward[-1].final and forward[-1].end == NOW
        assert forward[0].start == (plan.start if covered is None else max(covered[1] + ONE_MS, plan.start))
    if covered is None:
        assert forward


def _points(start: datetime, step: timedelta, n: int, live: datetime | None = None) -> pd.DataFrame:
    ts = [start + i * step for i in range(n)] + ([live] if live else [])
    return pd.DataFrame({"ts": pd.to_datetime(ts), "price": range(len(ts)), "market_cap": 1.0, "total_volume": 1.0})


def test_label_points_flags_only_the_live_point_and_clips():
    chunk = ChartChunk(NOW - 10 * DAY, NOW, NOW - 12 * DAY, NOW, "hourly", final=True)
    raw = _points(NOW.replace(minute=0, second=0) - 12 * DAY, timedelta(hours=1), 12 * 24 + 1, live=NOW)
    labelled = label_points(raw, chunk, NOW)
    assert labelled["ts"].min() >= pd.Timestamp(chunk.start)
    assert labelled["is_partial"].tolist().count(True) == 1 and labelled["is_partial"].iloc[-1]
    assert (labelled["granularity"] == "hourly").all()
    assert chunk_watermark(chunk, labelled) == labelled["ts"].iloc[-2]


def test_non_final_chunk_owns_up_to_its_end_and_marks_it():
    chunk = ChartChunk(NOW - 300 * DAY, NOW - 89 * DAY, NOW - 300 * DAY, NOW - 89 * DAY, "daily")
    raw = _points(datetime(2025, 5, 1), DAY, 400)
    labelled = label_points(raw, chunk, NOW)
    assert labelled["ts"].max() < pd.Timestamp(chunk.end) and not labelled["is_partial"].any()
    assert chunk_watermark(chunk, labelled) == chunk.end - ONE_MS


def test_granularity_is_read_from_the_points():
    assert infer_granularity(_points(NOW, timedelta(minutes=5), 10)["ts"], "hourly") == "5m"
    assert infer_granularity(_points(NOW, timedelta(hours=1), 10)["ts"], "daily") == "hourly"
    assert infer_granularity(_points(NOW, DAY, 10)["ts"], "hourly") == "daily"
    assert infer_granularity(_points(NOW, DAY, 2)["ts"], "hourly") == "hourly"  # too few: as expected
