"""Triggers from config: a real misfire grace (half the interval), coalescing, one instance."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from jobs import plan_for, plans
from jobs.schedule import CRON_MISFIRE_GRACE_SECONDS
from tracker.config import load_config


def test_default_schedules_become_triggers_with_a_real_grace():
    config = load_config(env={})
    by_job = {plan.job: plan for plan in plans(config.schedules)}
    assert set(by_job) == {"markets", "categories", "members", "history"}
    markets = by_job["markets"]
    assert isinstance(markets.trigger, IntervalTrigger) and markets.trigger.interval == timedelta(minutes=10)
    assert markets.trigger.jitter == 30 and markets.misfire_grace_time == 300  # half of 10 minutes, not APScheduler's 1 s
    assert isinstance(by_job["history"].trigger, CronTrigger) and by_job["history"].misfire_grace_time == CRON_MISFIRE_GRACE_SECONDS
    options = markets.options()
    assert options["max_instances"] == 1 and options["coalesce"] is True and options["replace_existing"] is True
    assert options["id"] == "markets"


def test_cron_is_utc_and_jitter_only_delays(tmp_path):
    (tmp_path / "t.toml").write_text('[schedules.history]\ncron = "40 0 * * *"\njitter = "5m"\n')
    plan = plan_for(load_config(tmp_path / "t.toml", env={}).schedules["history"])
    start = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    fires = [plan.trigger.get_next_fire_time(None, start) for _ in range(50)]
    base = datetime(2026, 3, 2, 0, 40, tzinfo=timezone.utc)
    assert all(base <= when <= base + timedelta(minutes=5) for when in fires)


def test_disabled_jobs_are_not_scheduled(tmp_path):
    (tmp_path / "t.toml").write_text('[schedules.members]\ncron = "20 0 * * *"\nenabled = false\n')
    jobs = [plan.job for plan in plans(load_config(tmp_path / "t.toml", env={}).schedules)]
    assert jobs == ["markets", "categories", "history"]
