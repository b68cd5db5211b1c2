"""The daily digest ends with a link to the console when web.public_url is set, and not otherwise; it asks for the
reviews (更正审核, 抽查) there."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

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


def test_a_digest_asks_each_secretary_to_look_at_her_own_groups_drawn_messages(engine, web_config, config):
    """Two messages drawn in 奎星楼's A1A2 group, one in 东苑's, one of 奎星楼's already read: each community's digest
    counts its own waiting ones (and links to 抽查 only when the console has an address); none waiting, no line."""
    from storage.models import IncomingMessage, MessageReview, MessageState

    now = datetime.fromisoformat("2026-11-24T08:00:00+08:00")
    period = Period(start=now - timedelta(days=1), end=now)
    with new_session(engine) as session:
        for n, topic in enumerate(("奎星楼社区A1A2号居民群", "奎星楼社区A1A2号居民群", "东苑小区居民群",
                                   "奎星楼社区A1A2号居民群")):
            session.add(IncomingMessage(message_id=f"d{n}", room_id=f"r{n}", room_topic=topic, sender_id="wxid_li",
                                        sender_name="李大爷", text=f"消息{n}", sent_at=now - timedelta(days=2),
                                        received_at=now - timedelta(days=2), state=MessageState.PROCESSED,
                                        spot_check="random"))
        session.flush()
        read = session.exec(select(IncomingMessage).where(IncomingMessage.message_id == "d3")).one()
        session.add(MessageReview(message_row_id=read.id, sample="random", text="消息3", is_request=False,
                                  reviewer_id="lishuji", reviewer_name="李书记", reviewed_at=now))
        session.commit()

        def digest(cfg, community):  # noqa: ANN001, ANN202
            return render_daily(session=session, config=cfg, calendar=WorkCalendar(tz=cfg.tz), period=period, now=now,
                                community=community)

        link = "https://mulin.example.org/spotcheck"
        assert f"抽查：2条助手没登记的群消息待看，看看有没有漏掉的诉求：{link}" in digest(web_config, "kxl")
        assert f"抽查：1条助手没登记的群消息待看，看看有没有漏掉的诉求：{link}" in digest(web_config, "dy")
        assert "抽查：3条" in digest(web_config, None)  # the street's digest over both
        assert "抽查" not in digest(config, None)  # no console address: nowhere to look
        assert "抽查" not in render_daily(session=session, config=web_config, calendar=WorkCalendar(tz=web_config.tz),
                                        period=period, now=now + timedelta(days=15), community="kxl")  # past keep_days
