"""Issue 6 end to end: deadlines on the working-day clock, reminders, escalation, through real wechaty."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot.sim.harness import Community
from storage.db import new_session
from storage.models import Notice, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

ROOM = "20001@chatroom"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def sent_at(sent) -> datetime:  # noqa: ANN001
    return datetime.fromisoformat(sent.at).astimezone(SHANGHAI)


def tagged(c: Community, who: str, tag: str) -> list:
    return [s for s in c.sent(to=who) if tag in s.text]


def test_national_day_is_skipped_reminder_then_escalation(play, engine):
    """Filed 30 Sep 14:59: one working day later is 8 Oct (1-7 Oct are the National Day holiday)."""
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")  # 14:59:01
        await c.wait_until(at("2026-10-07T23:00:00"))
        assert not tagged(c, "wxid_wangfang", "【提醒】") and not tagged(c, "wxid_lishuji", "超时督办")
        await c.wait_until(at("2026-10-08T16:00:00"))
        reminders = tagged(c, "wxid_wangfang", "【提醒】")
        # 80 % of the 24 working hours: 9 h on 30 Sep, then 10.2 h into 8 Oct -> 10:11:49, seen by the 10:12 scan
        assert [sent_at(s) for s in reminders] == [at("2026-10-08T10:12:00")]
        assert "10月8日 14:59" in reminders[0].text and "接单" in reminders[0].text
        escalations = tagged(c, "wxid_lishuji", "超时督办")
        assert [sent_at(s) for s in escalations] == [at("2026-10-08T15:00:00")]
        assert "#1" in escalations[0].text and "王芳" in escalations[0].text
        assert any("已提请社区书记督办" in s.text for s in c.sent(room=ROOM))
        assert tagged(c, "wxid_wangfang", "已报社区书记")
        await c.dm("wxid_wangfang", "接 1")  # accepted late: the resolve clock still runs from 30 Sep
        await c.wait_until(at("2026-10-12T12:00:00"))
        assert len(tagged(c, "wxid_lishuji", "超时督办")) == 1  # each level once
    play(story, start=at("2026-09-30T14:59:00"))
    with new_session(engine) as session:
        ticket = session.get(Ticket, 1)
        keys = [n.key for n in session.exec(select(Notice).order_by(Notice.id)) if n.kind in ("remind", "escalate")]
    assert ticket.accepted_at > ticket.accept_due_at  # counted as a late response
    # 5 working days from 30 Sep 14:59: 8, 9, 10 (调休 Saturday), 12, 13 Oct
    assert ticket.resolve_due_at == at("2026-10-13T14:59:01")
    assert [k.split(":")[0] for k in keys] == ["remind", "escalate1"]


def test_make_up_saturday_counts_as_a_working_day(play):
    """Filed Friday 9 Oct 14:59: 10 Oct is a 调休 Saturday, so the deadline is that Saturday, not Monday."""
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")
        await c.wait_until(at("2026-10-10T16:00:00"))
        escalations = tagged(c, "wxid_lishuji", "超时督办")
        assert [sent_at(s) for s in escalations] == [at("2026-10-10T15:00:00")]
        assert "10月10日 14:59" in escalations[0].text
    play(story, start=at("2026-10-09T14:59:00"))


def test_ordinary_weekend_is_skipped(play):
    """Friday 20 Nov 2026 14:59 + 1 working day = Monday 23 Nov 14:59; nothing fires over the weekend."""
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")
        await c.wait_until(at("2026-11-22T23:59:00"))
        assert not tagged(c, "wxid_lishuji", "超时督办") and not tagged(c, "wxid_wangfang", "【提醒】")
        await c.wait_until(at("2026-11-23T16:00:00"))
        assert [sent_at(s) for s in tagged(c, "wxid_lishuji", "超时督办")] == [at("2026-11-23T15:00:00")]
    play(story, start=at("2026-11-20T14:59:00"))


def test_urgent_ticket_escalates_within_the_hour_even_on_a_holiday(play):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A2三单元楼道里一股煤气味，好像漏气了")
        await c.wait(__import__("datetime").timedelta(hours=2))
        escalations = tagged(c, "wxid_lishuji", "超时督办")
        assert len(escalations) == 1
        assert sent_at(escalations[0]) == at("2026-10-02T10:01:00")  # filed 09:00:01 + 1 h
        assert "【紧急】" in tagged(c, "wxid_wangfang", "【提醒】")[0].text
    play(story, start=at("2026-10-02T09:00:00"))


def test_accepting_in_time_means_no_escalation_and_extension_moves_the_deadline(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")  # Mon 23 Nov 08:57:01
        await c.dm("wxid_wangfang", "接 1")
        await c.dm("wxid_wangfang", "延期 1 3 等配件")
        await c.wait_until(at("2026-12-02T23:00:00"))
        assert not tagged(c, "wxid_lishuji", "超时督办")
    play(story)
    with new_session(engine) as session:
        ticket = session.get(Ticket, 1)
    # 5 working days (30 Nov) + 3 more = 3 Dec
    assert ticket.resolve_due_at == at("2026-12-03T08:57:01")
    assert ticket.due_at == ticket.resolve_due_at and ticket.escalation_level == 0


def test_return_is_refused_after_two_working_days(play):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")  # Mon 08:57
        await c.wait_until(at("2026-11-25T09:00:00"))                  # Wed 09:00: 2 working days passed
        await c.dm("wxid_wangfang", "退回 1 不归我管")
        assert "超过退回时限" in c.sent(to="wxid_wangfang")[-1].text
    play(story)


def test_chain_goes_to_the_street_one_working_day_after_the_secretary(play, config):
    from pathlib import Path

    from core.config import parse_config

    text = Path("config.yaml").read_text(encoding="utf-8")
    text = text.replace("  - {id: lishuji, name: 李书记, role: secretary, wechat_id: wxid_lishuji}",
                        "  - {id: lishuji, name: 李书记, role: secretary, wechat_id: wxid_lishuji}\n"
                        "  - {id: jiedao, name: 街道张主任, role: street, wechat_id: wxid_stranger}")
    text = text.replace("  escalation: []", "  escalation: [{name: 社区书记, staff: [lishuji]}, {name: 街道, staff: [jiedao]}]")
    street = parse_config(text)

    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")  # Fri 20 Nov 14:59:01
        await c.wait_until(at("2026-11-25T12:00:00"))
        assert [sent_at(s) for s in tagged(c, "wxid_lishuji", "超时督办·社区书记")] == [at("2026-11-23T15:00:00")]
        street_notes = tagged(c, "wxid_stranger", "超时督办·街道")
        assert [sent_at(s) for s in street_notes] == [at("2026-11-24T15:00:00")]
        assert "已超时1个工作日" in street_notes[0].text
        assert len([s for s in c.sent(room=ROOM) if "督办" in s.text]) == 1  # the reporter hears once
    play(story, start=at("2026-11-20T14:59:00"), config_=street)
