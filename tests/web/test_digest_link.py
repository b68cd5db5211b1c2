"""The daily digest ends with a link to the console when web.public_url is set, and not otherwise."""
from __future__ import annotations

from datetime import datetime, timedelta

from core.workcalendar import WorkCalendar
from handlers.digest import Period, render_daily
from storage.db import new_session
from storage.tickets import create_ticket, transition


def test_the_digest_links_to_the_console_only_when_it_has_an_address(engine, web_config, config):
    now = datetime.fromisoformat("2026-11-24T08:00:00+08:00")
    period = Period(start=now - timedelta(days=1), end=now)
    with new_session(engine) as session:
        for cfg, expected in ((web_config, "详情请登录工作台：https://mulin.example.org/dashboard"), (config, None)):
            calendar = WorkCalendar(tz=cfg.tz)
            text = render_daily(session=session, config=cfg, calendar=calendar, period=period, now=now)
            assert (text.splitlines()[-1] == expected) if expected else "工作台" not in text


def test_a_digest_with_corrections_links_to_their_review_only_when_it_has_an_address(engine, web_config, config):
    """A day with a 撤销: the secretary is asked to sign it on 更正审核 (only signed corrections train)."""
    now = datetime.fromisoformat("2026-11-24T08:00:00+08:00")
    with new_session(engine) as session:
        ticket = create_ticket(session=session, now=now - timedelta(hours=20), source_message_id="m1",
                               text="爪机也快停电了", category="power", category_name="供电", reporter_id="wxid_li",
                               reporter_name="李大爷")
        transition(session=session, ticket=ticket, action="voided", actor_id="wxid_wangfang",
                   now=now - timedelta(hours=19), note="说的是手机")
        session.commit()
        for cfg, link in ((web_config, True), (config, False)):
            text = render_daily(session=session, config=cfg, calendar=WorkCalendar(tz=cfg.tz),
                                period=Period(start=now - timedelta(days=1), end=now), now=now)
            assert "撤销1件" in text
            assert ("请在工作台“更正审核”确认：https://mulin.example.org/corrections" in text) == link
