"""End to end: the real python-wechaty client talks to the simulator over loopback gRPC."""
from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.sim.harness import Community
from storage.db import new_session
from storage.models import IncomingMessage, MessageState, Ticket, TicketEvent

ROOM = "20001@chatroom"


def test_complaint_is_filed_routed_accepted_and_resolved(make, engine, stored_tickets):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A2和百意中间路面存在积水")
        [ticket] = stored_tickets()
        group = c.sent(room=ROOM)
        assert len(group) == 1 and group[0].mentions == ["wxid_zhang"]
        assert f"#{ticket.id}" in group[0].text and "排水" in group[0].text and "王芳" in group[0].text
        [dm] = c.sent(to="wxid_wangfang")
        assert f"新工单#{ticket.id}" in dm.text and "A2和百意中间路面存在积水" in dm.text

        await c.dm("wxid_wangfang", f"接 {ticket.id}")
        assert "已接单" in c.sent(room=ROOM)[-1].text
        await c.dm("wxid_wangfang", f"办结 {ticket.id} 已清理")
        last = c.sent(room=ROOM)[-1]
        assert "已办结" in last.text and "已清理" in last.text and last.mentions == ["wxid_zhang"]

    async def main():
        async with make() as c:
            await story(c)
            events = [(r["event"], r["status"]) for r in c.ticket_events()]
            assert events == [("created", "new"), ("assigned", "assigned"), ("accepted", "accepted"),
                              ("resolved", "resolved")]
            assert all(r["assignee"] == "wxid_wangfang" for r in c.ticket_events()[1:])
    asyncio.run(main())
    [ticket] = stored_tickets()
    assert ticket.status.value == "resolved" and ticket.category == "drainage"
    assert ticket.building == "A2" and ticket.grid_id == "g1" and ticket.assignee_staff_id == "wangfang"
    assert ticket.reporter_id == "wxid_zhang" and ticket.resolution_note == "已清理"


def test_chatter_makes_no_ticket_and_no_reply(make, engine, stored_tickets):
    async def main():
        async with make() as c:
            for text in ["好的谢谢", "今晚几点停电通知看到了吗", "[红包]恭喜发财，大吉大利"]:
                await c.post(ROOM, "wxid_li", text)
            assert c.sent() == []
    asyncio.run(main())
    assert stored_tickets() == []


def test_renamed_resident_cannot_accept_the_workers_ticket(make, engine, stored_tickets):
    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", "2号楼楼道灯不亮了")
            [ticket] = stored_tickets()
            c.rename("wxid_stranger", "赵强")  # the worker's display name, but not the worker's contact id
            await c.dm("wxid_stranger", f"接 {ticket.id}")
            assert "仅限社区工作人员" in c.sent(to="wxid_stranger")[-1].text
            c.rename("wxid_wangfang", "赵强")  # a real worker, but of another grid
            await c.dm("wxid_wangfang", f"接 {ticket.id}")
            assert "不是您负责的" in c.sent(to="wxid_wangfang")[-1].text
            await c.dm("wxid_zhaoqiang", f"接 {ticket.id}")
            assert "已接单" in c.sent(to="wxid_zhaoqiang")[-1].text
    asyncio.run(main())
    [ticket] = stored_tickets()
    assert ticket.assignee_staff_id == "zhaoqiang" and ticket.status.value == "accepted"
    with new_session(engine) as session:
        accepted = session.exec(select(TicketEvent).where(TicketEvent.kind == "accepted")).all()
    assert [e.actor_id for e in accepted] == ["wxid_zhaoqiang"]


def test_message_replayed_after_restart_makes_one_ticket_and_one_reply(make, engine, stored_tickets):
    """wechaty dedupes ids within a process; after a restart the gateway may replay, and the database must."""
    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", "3号楼下水道堵了 污水流了一地", message_id="wx-dup-1")
            assert len(c.sent(room=ROOM)) == 1
        async with make() as again:
            await again.post(ROOM, "wxid_zhang", "3号楼下水道堵了 污水流了一地", message_id="wx-dup-1")
            assert again.sent() == []
    asyncio.run(main())
    assert len(stored_tickets()) == 1


def test_unserved_group_is_ignored_and_not_stored(make, engine, stored_tickets):
    async def main():
        async with make() as c:
            await c.post("29999@chatroom", "wxid_zhang", "小区路灯坏了好几天了")
            assert c.sent() == []
    asyncio.run(main())
    assert stored_tickets() == []
    with new_session(engine) as session:
        assert session.exec(select(IncomingMessage)).all() == []


def test_worker_messages_in_group_are_never_filed(make, engine, stored_tickets):
    async def main():
        async with make() as c:
            await c.post(ROOM, "wxid_wangfang", "A2楼道灯不亮的问题我已经联系电工了")
    asyncio.run(main())
    assert stored_tickets() == []


def test_commands_get_help_not_silence(make):
    async def main():
        async with make() as c:
            await c.dm("wxid_wangfang", "办结")
            assert "工单号" in c.sent(to="wxid_wangfang")[-1].text
            await c.dm("wxid_wangfang", "接 999")
            assert "没有找到工单#999" in c.sent(to="wxid_wangfang")[-1].text
            await c.dm("wxid_wangfang", "你好")
            assert "可用指令" in c.sent(to="wxid_wangfang")[-1].text
            await c.dm("wxid_zhang", "在吗")
            assert "睦邻助手" in c.sent(to="wxid_zhang")[-1].text
    asyncio.run(main())


def test_help_introduces_the_bot_by_its_configured_name(make, config):
    named = config.model_copy(update={"community": config.community.model_copy(update={"bot_name": "小奎帮办"})})

    async def main():
        async with make(config_=named) as c:
            await c.dm("wxid_zhang", "在吗")
            assert "我是社区的小奎帮办" in c.sent(to="wxid_zhang")[-1].text
            await c.dm("wxid_zhang", "帮助")  # the help command, not the fallback answer
            assert "我是社区的小奎帮办" in c.sent(to="wxid_zhang")[-1].text
            assert len(c.sent(to="wxid_zhang")) == 2 and all("睦邻助手" not in s.text for s in c.sent(to="wxid_zhang"))
    asyncio.run(main())


def test_failed_send_stays_in_outbox_and_is_retried(make, engine, stored_tickets):
    async def main():
        async with make() as c:
            c.sim.fail_next_sends = 1
            await c.post(ROOM, "wxid_zhang", "A1单元门坏了关不上")
            assert c.sent(room=ROOM) == []  # the group reply failed; the worker DM went out
            assert await c.app.flush_outbox() == 0  # backing off
            c.clock.advance(timedelta(seconds=5))
            assert await c.app.flush_outbox() == 1
            assert len(c.sent(room=ROOM)) == 1
    asyncio.run(main())


def test_message_that_fails_is_recorded_retried_and_parked(make, engine, stored_tickets):
    class Boom:
        def classify(self, text, **_):
            raise RuntimeError("classifier exploded")

    async def main():
        async with make() as c:
            c.app.deps = dataclasses.replace(c.app.deps, classifier=Boom())
            await c.post(ROOM, "wxid_zhang", "A2路灯不亮", message_id="wx-boom")
            with new_session(engine) as session:
                row = session.exec(select(IncomingMessage)).one()
            assert row.state == MessageState.FAILED and "exploded" in row.error
            await c.app.retry_unfinished()
            await c.app.retry_unfinished()
            with new_session(engine) as session:
                row = session.exec(select(IncomingMessage)).one()
            assert row.state == MessageState.PARKED and row.attempts == 3
            assert c.app.parked() == 1
    asyncio.run(main())


@pytest.mark.parametrize("between", [[], [{"wait": "5m"}], [{"offline": "1h"}]])
def test_a_redelivered_message_id_in_a_scenario_is_played_and_filed_once(config, engine, classifier, between):
    from bot.sim.scenario import parse_scenario

    scenario = parse_scenario({
        "start": "2026-11-23T09:00:00+08:00",
        "contacts": [{"id": "wxid_zhang", "name": "张阿姨"}, {"id": "wxid_li", "name": "李大爷"},
                     {"id": "wxid_wangfang", "name": "王芳"}],
        "rooms": [{"id": "20001@chatroom", "topic": config.groups[0].room, "members": ["wxid_zhang", "wxid_li"]}],
        "steps": [{"room": "20001@chatroom", "from": "wxid_zhang", "text": "A1楼道灯不亮了", "id": "gw-1"}, *between,
                  {"room": "20001@chatroom", "from": "wxid_zhang", "text": "A1楼道灯不亮了", "id": "gw-1"},
                  {"room": "20001@chatroom", "from": "wxid_li", "text": "A2单元门坏了关不上"}]})

    async def main():
        async with Community(config=config, scenario=scenario, engine=engine, classifier=classifier) as c:
            await asyncio.wait_for(c.play(), 20)
            return [s.text for s in c.sent(room="20001@chatroom")]
    group = asyncio.run(main())
    text = "\n".join(group)
    assert text.count("工单#1") == 1 and text.count("工单#2") == 1
    with new_session(engine) as session:
        assert [t.text for t in session.exec(select(Ticket).order_by(Ticket.id))] == ["A1楼道灯不亮了", "A2单元门坏了关不上"]


def test_a_complaint_about_the_upstairs_neighbour_is_a_dispute_answered_privately(play, stored_tickets):
    text = "楼上那家天天半夜跺脚弹琴，吵得孩子睡不着，跟他说了也不听"

    async def story(c: Community):
        await c.post("20001@chatroom", "wxid_zhang", text)
        [public] = c.sent(room="20001@chatroom")
        assert public.text.endswith("已收到，已私信您。")  # nothing of it, and no place asked, in public
        [private] = c.sent(to="wxid_zhang")
        assert "邻里纠纷" in private.text and "不在群里公开" in private.text
        assert any(text in s.text for s in c.sent(to="wxid_wangfang"))  # the group's grid worker has it
    play(story)
    [ticket] = stored_tickets()
    assert ticket.category == "dispute" and ticket.assignee_staff_id == "wangfang"


def test_a_ticket_is_transferred_or_assigned_only_to_a_grid_worker_and_odd_numbers_are_no_such_ticket(
        play, stored_tickets):
    from handlers import texts

    async def story(c: Community):
        await c.post("20001@chatroom", "wxid_zhang", "A1楼道灯不亮了")
        await c.dm("wxid_wangfang", "转 1 李书记 不归我管")
        assert c.sent(to="wxid_wangfang")[-1].text == texts.TRANSFER_TARGET_UNKNOWN
        await c.dm("wxid_lishuji", "指派 1 lishuji")
        assert c.sent(to="wxid_lishuji")[-1].text == texts.TRANSFER_TARGET_UNKNOWN
        for command, number in [("接 99999999999999999999", "999999999999…"), ("办结 -1", "-1"), ("接 ١", "١")]:
            await c.dm("wxid_wangfang", command)
            assert c.sent(to="wxid_wangfang")[-1].text == texts.not_found(number), command
    play(story)
    [ticket] = stored_tickets()
    assert ticket.assignee_staff_id == "wangfang" and ticket.status.value == "assigned"
