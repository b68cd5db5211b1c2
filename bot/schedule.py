"""The periodic jobs and their triggers, shared by `mulin run` (APScheduler) and the simulator's fake clock.

One due-scan each minute finds what is due in the database (places not given, follow-ups, reminders,
escalations, digests); the digest job fires the same scan at the digest minute so the digest goes out
on time. The simulator asks the same trigger objects for their next fire time, so `{wait: 26h}` in a
scenario runs each job when it would have run.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from core.config import Config

TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Job:
    name: str
    trigger: BaseTrigger


def jobs(config: Config, tz) -> list[Job]:  # noqa: ANN001
    at = config.digest.at
    return [Job("due-scan", CronTrigger(second=0, timezone=tz)),
            Job("digest", CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=tz))]


def next_fire(job: Job, after: datetime) -> datetime:
    """The first time strictly after `after` that the job's trigger fires."""
    return job.trigger.get_next_fire_time(None, after + TICK)


def first_fire_at_or_after(job: Job, moment: datetime) -> datetime:
    return job.trigger.get_next_fire_time(None, moment)


def start_scheduler(config: Config, tz, run: Callable[[], Awaitable[object]]):  # noqa: ANN001,ANN201
    """`mulin run`: an AsyncIOScheduler that runs every job on the real clock; returns it started."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    scheduler = AsyncIOScheduler(timezone=tz)
    for job in jobs(config, tz):
        # a slow scan must not pile up: one instance at a time, and a missed minute is simply skipped
        scheduler.add_job(run, job.trigger, id=job.name, max_instances=1, coalesce=True, misfire_grace_time=30)
    scheduler.start()
    return scheduler
