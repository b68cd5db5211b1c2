"""Issue 6 end to end: the 08:00 digest, once per day, with numbers the test counts itself; missed digests."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.sim.harness import Community
from storage.db import new_session
from storage.models import Ticket, TicketEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

ROOM = "20001@chatroom"
ROOM2 = "20002@chatroom"
COMPLAINTS = [(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见"),
              (ROOM, "wxid_li", "A2门口下水道堵了，污水冒出来了"),
              (ROOM2, "wxid_li", "3号楼电梯又停了，老人上不去楼"),
              (ROOM, "wxid_zhang", "百意楼下垃圾三天没人清运了，味道很大")]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def digests(c: Community, who: str = "wxid_lishuji") -> list:
    return [s for s in c.sent(to=who) if "民情日报" in s.text]


def local(sent) -> datetime:  # noqa: ANN001
    return datetime.fromisoformat(sent.at).astimezone(SHANGHAI)


def counts(text: str) -> tuple[int, int, int]:
    match = re.search(r"新增(\d+)件，接单(\d+)件，办结(\d+)件", text)
    assert match, text
    return tuple(int(g) for g in match.groups())


def day_counts(engine, day: str) -> tuple[int, int, int]:
    """What the digest should say, counted here from the tables rather than by the digest's queries."""
    start = at(f"{day}T00:00:00")
    end = start + timedelta(days=1)
    with new_session(engine) as session:
        tickets = list(session.exec(select(Ticket)))
        moves = list(session.exec(select(TicketEvent)))
    new = sum(start <= t.created_at < end for t in tickets)
    accepted = sum(e.kind == "accepted" and start <= e.at < end for e in moves)
    resolved = sum(e.kind == "resolved" and start <= e.at < end for e in moves)
    return new, accepted, resolved


def test_daily_digest_once_per_working_day_with_counts(play, engine):
    seen: dict[str, tuple[int, int, int]] = {}

    async def story(c: Community):
        for room, who, text in COMPLAINTS:  # Monday 23 Nov
            await c.post(room, who, text)
        await c.dm("wxid_wangfang", "接 1")
        await c.dm("wxid_wangfang", "办结 2 已疏通")
        await c.dm("wxid_zhaoqiang", "接 3")
        seen["mon"] = day_counts(engine, "2026-11-23")
        await c.wait_until(at("2026-11-24T09:00:00"))
        tuesday = digests(c)
        assert [local(s) for s in tuesday] == [at("2026-11-24T08:00:00")]
        assert counts(tuesday[0].text) == seen["mon"] == (4, 3, 1)  # 办结 without 接 accepts implicitly
        assert "11月23日" in tuesday[0].text and "补发" not in tuesday[0].text
        assert "在办共3件" in tuesday[0].text and "第一网格2" in tuesday[0].text and "第二网格1" in tuesday[0].text
    play(story)


def test_digest_schedule_over_a_week(play, engine):
    async def story(c: Community):
        await c.post(*COMPLAINTS[0])
        await c.wait_until(at("2026-11-30T09:00:00"))
        times = [local(s) for s in digests(c)]
        # Tue-Fri and Monday; no digest on Saturday or Sunday
        assert times == [at(f"2026-11-{d}T08:00:00") for d in (24, 25, 26, 27, 30)]
        wednesday = digests(c)[1].text  # covers Tuesday, when the unaccepted ticket breached its deadline
        assert "新超时1件" in wednesday and "新超时0件" in digests(c)[0].text
        monday = digests(c)[-1].text
        assert "11月27日—11月29日" in monday  # Monday's digest covers Friday to Sunday
        weekly = [s for s in c.sent(to="wxid_lishuji") if "周会审" in s.text and not s.file_name]  # the chart is a file
        assert [local(s) for s in weekly] == [at("2026-11-30T08:00:00")]
        assert "11月23日—11月29日" in weekly[0].text and "王芳：1件" in weekly[0].text
        [chart] = [s for s in c.sent(to="wxid_lishuji") if s.file_name]  # through wechaty's FileBox
        assert local(chart) >= local(weekly[0]) and chart.file_name == "周会审-2026-11-23至11-29.png"
        assert chart.file_data[:8] == b"\x89PNG\r\n\x1a\n" and len(chart.file_data) > 5000
        # the escalation of the unaccepted ticket is in the overdue list with its worker
        assert "超时未办（1件）" in monday and "王芳" in monday
    play(story)


def test_bot_down_over_the_digest_time_sends_it_once_on_restart(play):
    async def story(c: Community):
        await c.post(*COMPLAINTS[0])
        await c.wait_until(at("2026-11-24T07:00:00"))
        await c.offline(timedelta(hours=3))  # down 07:00-10:00 Tuesday
        tuesday = digests(c)
        assert [local(s) for s in tuesday] == [at("2026-11-24T10:00:00")]
        assert "补发" in tuesday[0].text and counts(tuesday[0].text) == (1, 0, 0)
        await c.wait_until(at("2026-11-24T20:00:00"))
        await c.offline(timedelta(days=3))  # down Tuesday 20:00 to Friday 20:00: three digests missed
        await c.wait_until(at("2026-11-27T23:00:00"))
        sent = digests(c)
        assert len(sent) == 2  # not one per missed day: only the latest, once
        assert local(sent[1]) == at("2026-11-27T20:00:00")
        assert "补发" in sent[1].text and "11月24日—11月26日" in sent[1].text
    play(story)


def test_first_start_owes_no_digest(play):
    """A bot installed at 10:00 does not send the 08:00 digest of a day before it existed."""
    async def story(c: Community):
        await c.wait(timedelta(hours=2))
        assert not digests(c)
    play(story, start=at("2026-11-24T10:00:00"))


def test_digest_also_goes_to_the_staff_group_when_configured(play, config):
    staff_group = "20009@chatroom"
    with_group = config.model_copy(update={"digest": config.digest.model_copy(update={"to_staff_groups": True})})

    async def story(c: Community):
        await c.post(*COMPLAINTS[0])
        await c.post(staff_group, "wxid_lishuji", "待办")  # the bot learns the group's room id from a message
        await c.wait_until(at("2026-11-25T09:00:00"))
        in_group = [s for s in c.sent(room=staff_group) if "民情日报" in s.text]
        assert [local(s) for s in in_group] == [at("2026-11-24T08:00:00"), at("2026-11-25T08:00:00")]
        assert len(digests(c)) == 2  # the secretary still gets hers privately
    play(story, config_=with_group)


def test_the_first_digest_after_a_holiday_with_downtime_covers_every_day_since_the_last_one(play, engine):
    """Wed 30 Sep 08:00 digest; a ticket that day; National Day 1-7 Oct; the bot is down at 08:00 on Thu 8 Oct."""
    async def story(c: Community):
        await c.wait_until(at("2026-09-30T08:30:00"))
        assert [local(s) for s in digests(c)] == [at("2026-09-30T08:00:00")]
        await c.post(*COMPLAINTS[0])  # Wednesday 30 Sep, after that morning's digest
        await c.wait_until(at("2026-10-03T12:00:00"))
        await c.post(*COMPLAINTS[1])  # during the holiday
        await c.wait_until(at("2026-10-07T22:00:00"))
        assert len(digests(c)) == 1  # none on holidays
        await c.offline(timedelta(hours=12))  # down 22:00-10:00 over the first working day's 08:00
        await c.wait_until(at("2026-10-08T11:00:00"))
        first_back = digests(c)[1]
        assert local(first_back) == at("2026-10-08T10:00:00") and "补发" in first_back.text
        assert "9月30日—10月7日" in first_back.text and counts(first_back.text)[0] == 2
    play(story, start=at("2026-09-29T12:00:00"))


def test_the_first_digest_of_a_bot_installed_before_a_holiday_covers_every_day_since_it_started(play):
    """Installed on Wed 30 Sep at 10:00 (that morning's digest is not owed); a ticket that day; National Day;
    down over 08:00 on Thu 8 Oct: the first digest covers 30 Sep to 7 Oct, not just the last holiday day."""
    async def story(c: Community):
        await c.post(*COMPLAINTS[0])
        await c.wait_until(at("2026-10-07T22:00:00"))
        assert digests(c) == []
        await c.offline(timedelta(hours=12))
        [first] = digests(c)
        assert "9月30日—10月7日" in first.text and counts(first.text)[0] == 1
    play(story, start=at("2026-09-30T10:00:00"))


def test_a_worker_removed_from_config_who_still_holds_tickets_is_named_by_id(engine, config):
    from core.workcalendar import WorkCalendar
    from handlers.digest import Period, render_daily
    from handlers.export.fields import worker_name
    from storage.tickets import create_ticket, transition

    with new_session(engine) as session:
        ticket = create_ticket(session=session, now=at("2026-11-23T09:00:00"), source_message_id="m1", text="A1楼道灯不亮",
                               category="lighting", category_name="照明", reporter_id="wxid_zhang",
                               reporter_name="张阿姨", building="A1")
        transition(session=session, ticket=ticket, action="assigned", actor_id="mulin", now=at("2026-11-23T09:00:01"),
                   assignee_staff_id="departed", grid_id="g1")
        ticket.due_at = at("2026-11-24T09:00:00")
        session.commit()
        calendar = WorkCalendar(tz=SHANGHAI)
        text = render_daily(session=session, config=config, calendar=calendar, now=at("2026-11-26T08:00:00"),
                            period=Period(at("2026-11-25T00:00:00"), at("2026-11-26T00:00:00")))
        assert "#1 照明 A1 departed 待接单" in text
        assert worker_name(config, ticket) == "departed" and config.staff_name(None) is None
