"""APScheduler triggers and job options from the validated config.

APScheduler 3.x defaults to a misfire grace of 1 second, which silently drops runs after any
delay (a busy pool, a GC pause, a laptop lid). Each job here gets about half its interval
instead, coalesces missed runs into one, and never runs twice at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from tracker.config import ScheduleConfig

# A cron job's grace when its period is unknown: daily jobs may be late by hours and still run.
CRON_MISFIRE_GRACE_SECONDS = 6 * 3600


@dataclass(frozen=True)
class JobPlan:
    """One job's trigger and the options it is added to the scheduler with."""

    job: str
    trigger: Any
    misfire_grace_time: int

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``scheduler.add_job`` (id, trigger, misfire grace, ...)."""
        return {
            "id": self.job,
            "name": self.job,
            "trigger": self.trigger,
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": self.misfire_grace_time,
            "replace_existing": True,
        }


def plan_for(schedule: ScheduleConfig) -> JobPlan:
    """The trigger for one validated schedule: interval or cron in UTC, with its jitter, and a
    misfire grace of half the interval (six hours for cron)."""
    jitter = int(schedule.jitter_seconds) or None
    if schedule.every_seconds is not None:
        trigger = IntervalTrigger(seconds=schedule.every_seconds, jitter=jitter, timezone="UTC")
        grace = max(1, int(schedule.every_seconds / 2))
    else:
        trigger = CronTrigger.from_crontab(schedule.cron, timezone="UTC")
        trigger.jitter = jitter
        grace = CRON_MISFIRE_GRACE_SECONDS
    return JobPlan(schedule.job, trigger, grace)


def plans(schedules: dict[str, ScheduleConfig]) -> list[JobPlan]:
    """A :class:`JobPlan` for every enabled job."""
    return [plan_for(s) for s in schedules.values() if s.enabled]
