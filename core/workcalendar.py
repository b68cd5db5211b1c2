"""Chinese working days: legal holidays and 调休 make-up Saturdays from `chinese-calendar`, plus config overrides.

Deadlines such as "5 个工作日" are counted on this clock. A working-day span keeps the time of day
(Friday 10:00 + 1 working day = Monday 10:00); a span that starts on a day off starts counting at
00:00 of the next working day. For dates beyond the package's data the calendar falls back to
Monday-Friday and logs that once per year.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger("mulin.calendar")

_SPAN_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|wd)\s*$")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Span:
    """A deadline length: wall-clock (`m`, `h`, `d`) or working days (`wd`)."""

    amount: float
    unit: str  # m | h | d | wd

    @classmethod
    def parse(cls, value: str) -> "Span":
        match = _SPAN_RE.match(str(value))
        if match is None:
            raise ValueError(f"时长应写成 30m、1h、3d 或 5wd（工作日），不是 {value!r}")
        return cls(float(match.group(1)), match.group(2))

    @property
    def working_days(self) -> bool:
        return self.unit == "wd"

    def wall(self) -> timedelta:
        return {"m": timedelta(minutes=self.amount), "h": timedelta(hours=self.amount),
                "d": timedelta(days=self.amount)}[self.unit]

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount}{self.unit}"

    def describe(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return {"m": f"{amount}分钟", "h": f"{amount}小时", "d": f"{amount}天", "wd": f"{amount}个工作日"}[self.unit]


class WorkCalendar:
    def __init__(self, *, tz: ZoneInfo, holidays: Iterable[date] = (), workdays: Iterable[date] = ()) -> None:
        self.tz = tz
        self.extra_holidays = frozenset(holidays)
        self.extra_workdays = frozenset(workdays)
        self._fallback_logged: set[int] = set()

    def is_workday(self, day: date) -> bool:
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in self._fallback_logged:
                self._fallback_logged.add(day.year)
                log.warning("chinese-calendar has no data for %s; counting Monday-Friday as working days "
                            "(add that year's holidays under calendar: in config.yaml)", day.year)
            return day.weekday() < 5

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), self.tz)

    def _next_workday(self, day: date) -> date:
        while not self.is_workday(day):
            day += DAY
        return day

    def add(self, start: datetime, span: Span) -> datetime:
        """The deadline `span` after `start`."""
        if not span.working_days:
            return start + span.wall()
        local = start.astimezone(self.tz)
        if not self.is_workday(local.date()):
            local = self._start_of(self._next_workday(local.date()))
        whole, fraction = divmod(span.amount, 1)
        day, offset = local.date(), local - self._start_of(local.date())
        for _ in range(int(whole)):
            day = self._next_workday(day + DAY)
        result = self._start_of(day) + offset
        return self.add_working_time(result, fraction * DAY) if fraction else result

    def add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        """Move forward by `amount` of time that falls on working days only (days off do not count)."""
        local = start.astimezone(self.tz)
        remaining = amount
        while True:
            day = local.date()
            if not self.is_workday(day):
                local = self._start_of(self._next_workday(day))
                continue
            end_of_day = self._start_of(day + DAY)
            if local + remaining <= end_of_day:
                return local + remaining
            remaining -= end_of_day - local
            local = end_of_day

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """How much working-day time lies between two instants (zero if end <= start)."""
        total = timedelta(0)
        local, end = start.astimezone(self.tz), end.astimezone(self.tz)
        while local < end:
            next_day = self._start_of(local.date() + DAY)
            if self.is_workday(local.date()):
                total += min(next_day, end) - local
            local = next_day
        return total

    def point_at(self, start: datetime, deadline: datetime, fraction: float, *, working: bool) -> datetime:
        """The instant at `fraction` of the way from start to deadline, on the same clock the deadline uses."""
        if not working:
            return start + (deadline - start) * fraction
        return self.add_working_time(start, self.working_time_between(start, deadline) * fraction)

    def working_days_late(self, deadline: datetime, now: datetime) -> int:
        """Whole working days between a missed deadline and now (0: late by less than a working day)."""
        return self.working_time_between(deadline, now) // DAY
