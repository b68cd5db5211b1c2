"""The daily digest ends with a link to the console when web.public_url is set, and not otherwise."""
from __future__ import annotations

from datetime import datetime, timedelta

from core.workcalendar import WorkCalendar
from handlers.digest import Period, render_daily
from storage.db import new_session


def test_the_digest_links_to_the_console_only_when_it_has_an_address(engine, web_config, config):
    now = datetime.fromisoformat("2026-11-24T08:00:00+08:00")
    period = Period(start=now - timedelta(days=1), end=now)
    with new_session(engine) as session:
        for cfg, expected in ((web_config, "详情请登录工作台：https://mulin.example.org/dashboard"), (config, None)):
            calendar = WorkCalendar(tz=cfg.tz)
            text = render_daily(session=session, config=cfg, calendar=calendar, period=period, now=now)
            assert (text.splitlines()[-1] == expected) if expected else "工作台" not in text
