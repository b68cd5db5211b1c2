"""Working-day arithmetic: legal holidays, 调休 Saturdays, config overrides and the Monday-Friday fallback."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.workcalendar import Span, WorkCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


CAL = WorkCalendar(tz=SHANGHAI)


@pytest.mark.parametrize("start, span, due", [
    ("2026-11-20T10:00", "1wd", "2026-11-23T10:00"),   # Friday -> Monday
    ("2026-11-21T10:00", "1wd", "2026-11-24T00:00"),   # Saturday: counting starts Monday 00:00
    ("2026-09-30T10:00", "1wd", "2026-10-08T10:00"),   # National Day 1-7 Oct
    ("2026-10-09T10:00", "1wd", "2026-10-10T10:00"),   # 10 Oct is a 调休 working Saturday
    ("2026-11-23T10:00", "5wd", "2026-11-30T10:00"),
    ("2026-11-23T10:00", "0.5wd", "2026-11-23T22:00"),
    ("2026-11-20T20:00", "0.5wd", "2026-11-23T08:00"),  # half a working day across the weekend
    ("2026-10-01T10:00", "24h", "2026-10-02T10:00"),   # wall-clock spans ignore holidays
])
def test_add(start, span, due):
    assert CAL.add(at(start), Span.parse(span)) == at(due)


def test_working_time_and_days_late():
    assert CAL.working_time_between(at("2026-11-20T12:00"), at("2026-11-23T12:00")) == timedelta(hours=24)
    assert CAL.working_days_late(at("2026-11-20T12:00"), at("2026-11-23T12:00")) == 1
    assert CAL.working_days_late(at("2026-11-20T12:00"), at("2026-11-23T11:59")) == 0
    assert CAL.working_days_late(at("2026-11-20T12:00"), at("2026-11-25T12:01")) == 3
    assert CAL.working_days_late(at("2026-11-23T12:00"), at("2026-11-22T12:00")) == 0


def test_config_days_win_over_the_package():
    cal = WorkCalendar(tz=SHANGHAI, holidays=[date(2026, 11, 23)], workdays=[date(2026, 11, 22)])
    assert not cal.is_workday(date(2026, 11, 23)) and cal.is_workday(date(2026, 11, 22))
    # Saturday: counting starts Sunday 00:00 (made a working day); the next working day is Tuesday
    assert cal.add(at("2026-11-21T10:00"), Span.parse("1wd")) == at("2026-11-24T00:00")


def test_beyond_the_package_data_falls_back_to_weekdays_and_logs_once(caplog):
    cal = WorkCalendar(tz=SHANGHAI, holidays=[date(2031, 1, 1)])
    with caplog.at_level(logging.WARNING, logger="mulin.calendar"):
        assert cal.is_workday(date(2031, 1, 3))        # a Friday
        assert not cal.is_workday(date(2031, 1, 4))    # a Saturday
        assert not cal.is_workday(date(2031, 1, 1))    # from config
        cal.is_workday(date(2031, 1, 6))
    assert len([r for r in caplog.records if "2031" in r.getMessage()]) == 1


@pytest.mark.parametrize("bad", ["", "5", "3 weeks", "-1h", "1wdd"])
def test_bad_span_is_refused_in_chinese(bad):
    with pytest.raises(ValueError, match="时长应写成"):
        Span.parse(bad)
