"""`mulin digest`: the digest an operator would get, printed; nothing is sent and nothing is recorded."""
from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from core.clock import SystemClock
from core.config import Config
from bot.cli.db import open_database
from bot.exitcodes import EXIT_CONFIG
from core.workcalendar import WorkCalendar
from handlers.digest import Period, audience, midnight, render_daily, render_weekly, week_before, weekly_chart
from storage.db import new_session


def print_digest(*, config: Config, database_url: str, day: str | None, weekly: bool, png: str | None,
                 out: TextIO, community: str | None = None) -> int:
    try:
        when = date.fromisoformat(day) if day else SystemClock(config.tz).now().date()
    except ValueError:
        print(f"日期格式应为 YYYY-MM-DD：{day!r} (bad --date)", file=sys.stderr)
        return EXIT_CONFIG
    if community is not None and config.community_by_id(community) is None:
        ids = ", ".join(c.id for c in config.all_communities())
        print(f"没有 id 为 {community!r} 的社区，可选：{ids} (unknown community)", file=sys.stderr)
        return EXIT_CONFIG
    calendar = WorkCalendar(tz=config.tz, holidays=config.calendar.holidays, workdays=config.calendar.workdays)
    now = datetime.combine(when, config.digest.at, config.tz)
    if not day:
        now = max(now, SystemClock(config.tz).now())
    engine = open_database(database_url)
    end = midnight(when, config.tz)
    with new_session(engine) as session:
        if weekly or png:
            week = week_before(when, config.tz)
            text = render_weekly(session=session, config=config, calendar=calendar, week=week, now=now,
                                 community=community)
            if png:
                chart = weekly_chart(session=session, week=week, tz=config.tz, scope=audience(config, community)[1])
                Path(png).write_bytes(chart)
        else:
            text = render_daily(session=session, config=config, calendar=calendar,
                                period=Period(start=end - timedelta(days=1), end=end), now=now, community=community)
    engine.dispose()
    out.write(text + "\n")
    if png:
        out.write(f"图表已写入 {png}\n")
    return 0
