"""WeChat-safe sending end to end: real wechaty, the simulator and the app on a fake clock."""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from bot.sim.harness import Community
from bot.sim.scenario import parse_scenario
from core.types import Outgoing
from storage import outbox
from storage.db import new_session
from storage.models import OutboxMessage, OutboxState, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

ROOM = "20001@chatroom"
RESIDENTS = [f"wxid_r{i}" for i in range(30)]
COMPLAINTS = ["A1楼道灯不亮", "A2单元门禁坏了刷不开", "A1门口的垃圾桶满了没人清", "A1电梯异响", "A1三单元下水道堵了",
              "百意楼2单元楼道灯不亮", "A2和百意中间路面存在积水", "A1楼道堆满杂物", "A2路灯坏了", "A1二单元暖气不热"]


def community(config, engine, classifier, start: datetime) -> Community:
    scenario = parse_scenario({
        "start": start,
        "contacts": [{"id": r, "name": f"居民{i}"} for i, r in enumerate(RESIDENTS)]
        + [{"id": s.wechat_id, "name": s.name} for s in config.staff if s.wechat_id],
        "rooms": [{"id": ROOM, "topic": config.groups[0].room, "members": RESIDENTS + ["wxid_wangfang"]}],
    })
    return Community(config=config, scenario=scenario, engine=engine, classifier=classifier)


def outbox_rows(engine) -> list[OutboxMessage]:
    with new_session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def at(sent) -> datetime:
    return datetime.fromisoformat(sent.at)


@pytest.mark.parametrize("merge_max", [5, 1])
def test_a_burst_of_30_complaints_in_10_seconds_stays_within_every_limit(config, engine, classifier, merge_max):
    config = config.model_copy(update={"sending": config.sending.model_copy(update={"merge_max": merge_max})})

    async def main():
        async with community(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            for i, resident in enumerate(RESIDENTS):
                await c.post(ROOM, resident, COMPLAINTS[i % len(COMPLAINTS)], after=timedelta(seconds=1 / 3),
                             settle=False)
            await c.drain()
            return c.sent()
    sent = asyncio.run(main())
    rows = outbox_rows(engine)
    assert rows and all(r.state == OutboxState.SENT for r in rows)  # nothing left behind
    group = [s for s in sent if s.room == ROOM]
    assert all(at(b) - at(a) >= timedelta(seconds=3) for a, b in zip(group, group[1:]))
    times = sorted(at(s) for s in sent)
    assert all(b - a >= timedelta(minutes=1) for a, b in zip(times, times[20:]))  # no 60 s window over 20
    window_max = max(sum(1 for u in times if t <= u < t + timedelta(minutes=1)) for t in times)
    group_rows = [r for r in rows if r.room_id == ROOM]
    if merge_max > 1:
        assert len(group) < len(group_rows) <= len(group) * merge_max  # replies were merged
    else:
        assert len(group) == len(group_rows) and window_max == 20  # unmerged, the rate per minute is what binds
    assert {s.id for s in group} == {r.gateway_message_id for r in group_rows}  # merged rows share the message
    assert set(RESIDENTS) <= {m for s in group for m in s.mentions}  # every resident was answered


def test_quiet_hours_hold_notices_until_morning_but_replies_and_urgent_ones_go(config, engine, classifier):
    async def main():
        async with community(config, engine, classifier, datetime(2026, 11, 23, 22, 59, 58, tzinfo=SHANGHAI)) as c:
            await c.post(ROOM, "wxid_r1", "A1楼道灯不亮")
            assert [s.mentions for s in c.sent(room=ROOM)] == [["wxid_r1"]]  # the resident just wrote: answered
            assert c.sent(to="wxid_wangfang") == []  # the worker's new-ticket notice waits for the morning
            await c.post(ROOM, "wxid_r2", "A1三单元燃气泄漏了，楼道里全是煤气味")
            urgent = c.sent(to="wxid_wangfang")
            assert len(urgent) == 1 and "燃气" in urgent[0].text
            await c.wait(timedelta(hours=9))
            lighting = [s for s in c.sent(to="wxid_wangfang") if "新工单#1" in s.text]
            assert [at(s) for s in lighting] == [datetime(2026, 11, 24, 7, 0, tzinfo=SHANGHAI)]
            night = [s for s in c.sent(to="wxid_wangfang") if at(s) < datetime(2026, 11, 24, 7, 0, tzinfo=SHANGHAI)]
            assert night and all("#2" in s.text for s in night)  # only the urgent gas ticket (and its reminders)
    asyncio.run(main())


def test_the_sender_task_sends_on_its_own_when_the_clock_reaches_the_due_time(config, engine, classifier):
    async def main():
        async with community(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            await c.post(ROOM, "wxid_r1", "A1楼道灯不亮")
            await c.post(ROOM, "wxid_r2", "A1电梯异响", settle=False)
            assert len(c.sent(room=ROOM)) == 1
            due = c.app.next_send_due()
            assert due is not None and due - c.clock.now() == timedelta(seconds=2)
            c.clock.set(due)  # only the clock moves; the app's sender task notices and sends
            for _ in range(500):
                if len(c.sent(room=ROOM)) == 2:
                    break
                await asyncio.sleep(0.01)
            assert [at(s) for s in c.sent(room=ROOM)][1] == due
    asyncio.run(main())


def test_a_reply_in_flight_at_a_crash_is_sent_again_once_and_reported(config, engine, classifier, caplog):
    start = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    with new_session(engine) as session:
        row = outbox.enqueue(session=session, out=Outgoing(text="工单#1已接单", room_id=ROOM), now=start)
        session.flush()
        outbox.claim(session=session, ids=[row.id], now=start)  # then the process was killed

    async def main():
        async with community(config, engine, classifier, start + timedelta(minutes=1)) as c:
            await c.drain()
            return c.app.resent_at_start, c.sent(room=ROOM)
    with caplog.at_level(logging.WARNING, logger="mulin.app"):
        resent, sent = asyncio.run(main())
    assert resent == 1 and [s.text for s in sent] == ["工单#1已接单"]
    assert any(f"outbox row {row.id}" in r.getMessage() and "twice" in r.getMessage() for r in caplog.records)
    [stored] = outbox_rows(engine)
    assert stored.state == OutboxState.SENT and stored.resent == 1


def test_one_residents_flood_gets_one_answer_and_does_not_hold_up_anyone_else(config, engine, classifier):
    async def main():
        async with community(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            for _ in range(300):  # 300 copies in 3 s
                await c.post(ROOM, "wxid_r1", "A1楼道灯不亮了", after=timedelta(seconds=0.01), settle=False)
            posted = c.clock.now() + timedelta(seconds=1)
            await c.post(ROOM, "wxid_r2", "A2单元门禁坏了刷不开", settle=False)
            await c.drain()
            return c.sent(room=ROOM), posted
    group, posted = asyncio.run(main())
    to_flooder = [s for s in group if "wxid_r1" in s.mentions]
    assert sum(s.text.count("工单#1") for s in to_flooder) == 1  # the acknowledgement
    assert sum(s.text.count("已在处理中（#1）") for s in to_flooder) <= 1
    [other] = [s for s in group if "wxid_r2" in s.mentions]
    assert "工单#2" in other.text and at(other) - posted <= timedelta(seconds=10)
    with new_session(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 2
