"""Issue 5 end to end: a complaint travels filed -> routed -> accepted -> resolved -> rated, through real wechaty."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.sim.harness import Community
from storage.db import new_session
from storage.models import Ticket, TicketEvent, TicketFollower
from storage.staff import create_bind_code

ROOM = "20001@chatroom"
ROOM2 = "20002@chatroom"


def ticket(engine, ticket_id: int = 1) -> Ticket:
    with new_session(engine) as session:
        return session.get(Ticket, ticket_id)


def events(engine, ticket_id: int = 1) -> list[str]:
    with new_session(engine) as session:
        return [e.kind for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                              .order_by(TicketEvent.id))]


def test_full_loop_with_rating(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")
        await c.dm("wxid_wangfang", "接单＃１")  # full-width digits and "#"
        await c.dm("wxid_wangfang", "办结 1 已更换灯泡")
        question = c.sent(to="wxid_zhang")[-1].text
        assert "问题解决了吗" in question and "#1" in question
        await c.dm("wxid_zhang", "1")
        assert "感谢您的评价" in c.sent(to="wxid_zhang")[-1].text
    play(story)
    t = ticket(engine)
    assert t.status.value == "closed" and t.rating == "satisfied"
    assert events(engine) == ["created", "assigned", "accepted", "resolved", "closed"]


def test_unsolved_reopens_to_the_same_worker(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A2单元门禁坏了刷不开")
        await c.dm("wxid_wangfang", "办结 1 已修好")  # resolving straight away accepts implicitly
        await c.dm("wxid_zhang", "4")
        assert "重新交办" in c.sent(to="wxid_zhang")[-1].text
        assert "没解决" in c.sent(to="wxid_wangfang")[-1].text
        assert "还没解决" in c.sent(room=ROOM)[-1].text
        await c.dm("wxid_wangfang", "接 1")
        assert "已接单" in c.sent(to="wxid_wangfang")[-1].text
    play(story)
    t = ticket(engine)
    assert t.status.value == "accepted" and t.assignee_staff_id == "wangfang" and t.reopen_count == 1
    assert "reopened" in events(engine)


def test_no_rating_in_three_days_closes_unrated(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1门口的垃圾桶满了没人清")
        await c.dm("wxid_wangfang", "办结 1 已清运")
        await c.wait(timedelta(days=2))
        assert ticket(engine).status.value == "resolved"
        await c.wait(timedelta(days=1, minutes=1))
    play(story)
    t = ticket(engine)
    assert t.status.value == "closed" and t.rating == "unrated"


def test_duplicate_joins_first_ticket_and_both_are_told(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A2和百意中间路面存在积水")
        await c.post(ROOM, "wxid_li", "A2那边积水太深了过不去")
        told = c.sent(room=ROOM)[-1]
        assert "已有2户反映" in told.text and "#1" in told.text
        assert set(told.mentions) == {"wxid_zhang", "wxid_li"}
        await c.dm("wxid_wangfang", "办结 1 已抽水清理")
        resolved = c.sent(room=ROOM)[-1]
        assert "已办结" in resolved.text and set(resolved.mentions) == {"wxid_zhang", "wxid_li"}
    play(story)
    with new_session(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1
        [follower] = session.exec(select(TicketFollower)).all()
        merged = session.exec(select(TicketEvent).where(TicketEvent.kind == "merged")).one()
    assert follower.contact_id == "wxid_li"
    assert "积水太深" in merged.note  # the second message is kept, not lost


def test_different_problem_in_same_building_is_not_merged(play, engine):
    async def story(c: Community):
        await c.post(ROOM2, "wxid_li", "3号楼楼道灯不亮")
        await c.post(ROOM2, "wxid_li", "3号楼门口路灯坏了")
    play(story)
    with new_session(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 2


def test_dispute_never_shows_its_text_in_the_group(play, engine):
    text = "楼上邻居天天半夜吵架摔东西，我电话13812345678，实在受不了了"
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", text)
        group = c.sent(room=ROOM)
        assert [s.text for s in group] == ["@张阿姨 已收到，已私信您。"]
        assert "工单#1" in c.sent(to="wxid_zhang")[-1].text
        await c.dm("wxid_wangfang", "接 1")
        await c.dm("wxid_wangfang", "办结 1 已上门调解")
        assert len(c.sent(room=ROOM)) == 1  # status replies went privately
        assert any("已上门调解" in s.text for s in c.sent(to="wxid_zhang"))
    play(story)
    assert ticket(engine).category == "dispute"


def test_phone_numbers_are_masked_in_group_replies(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1三单元下水道堵了，联系我13812345678")
        await c.dm("wxid_wangfang", "办结 1 已疏通，有事打13912345678")
        for sent in c.sent(room=ROOM):
            assert "12345678" not in sent.text
        assert "139****5678" in c.sent(room=ROOM)[-1].text
        assert "13812345678" in c.sent(to="wxid_wangfang")[0].text  # the worker needs the number to call back
    play(story)


def test_missing_place_is_asked_once_then_filled(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "楼道里的灯坏了好几天了")
        assert "几号楼几单元" in c.sent(room=ROOM)[-1].text
        assert c.sent(to="wxid_wangfang") == []
        await c.post(ROOM, "wxid_zhang", "百意楼2单元")
        assert "王芳" in c.sent(room=ROOM)[-1].text
        assert "新工单#1" in c.sent(to="wxid_wangfang")[-1].text
    play(story)
    t = ticket(engine)
    assert t.building == "百意" and t.status.value == "assigned"
    assert events(engine) == ["created", "located", "assigned"]


def test_missing_place_times_out_to_group_default_grid(play, engine):
    async def story(c: Community):
        await c.post(ROOM2, "wxid_li", "小区里垃圾没人清理，味道很大")
        await c.wait(timedelta(minutes=31))
        assert "新工单#1" in c.sent(to="wxid_zhaoqiang")[-1].text
    play(story)
    t = ticket(engine)
    assert t.grid_id == "g2" and t.assignee_staff_id == "zhaoqiang"


def test_transfer_return_assign_extend_supervise(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1电梯异响，坐着心里发慌")
        await c.dm("wxid_wangfang", "转 1 第二网格 这栋归赵强")
        assert "转给赵强" in c.sent(to="wxid_wangfang")[-1].text
        assert "新工单#1" in c.sent(to="wxid_zhaoqiang")[-1].text
        await c.dm("wxid_wangfang", "接 1")  # no longer hers
        assert "不是您负责的" in c.sent(to="wxid_wangfang")[-1].text
        await c.dm("wxid_zhaoqiang", "退回 1 不属于本网格")
        assert "退回" in c.sent(to="wxid_lishuji")[-1].text
        await c.dm("wxid_zhaoqiang", "指派 1 王芳")
        assert "仅限社区书记" in c.sent(to="wxid_zhaoqiang")[-1].text
        await c.dm("wxid_lishuji", "指派 1 王芳")
        await c.dm("wxid_wangfang", "接 1")
        await c.dm("wxid_wangfang", "延期 1 3 等电梯公司配件")
        await c.dm("wxid_wangfang", "延期 1 8 还要等")
        assert "不能超过10个工作日" in c.sent(to="wxid_wangfang")[-1].text
        await c.dm("wxid_lishuji", "督办 1 请本周内处理完")
        assert "【督办】" in c.sent(to="wxid_wangfang")[-1].text
        await c.dm("wxid_lishuji", "待办")
        assert "#1" in c.sent(to="wxid_lishuji")[-1].text
        await c.dm("wxid_wangfang", "我的")
        assert "#1" in c.sent(to="wxid_wangfang")[-1].text
    play(story)
    t = ticket(engine)
    assert (t.status.value, t.assignee_staff_id, t.transfer_count, t.return_count, t.extension_days) == \
        ("accepted", "wangfang", 1, 1, 3)
    assert events(engine) == ["created", "assigned", "transferred", "returned", "assigned", "accepted", "extended",
                              "supervised"]


def test_illegal_transition_is_refused_with_reason(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道堆满杂物，消防通道都堵了")
        await c.dm("wxid_wangfang", "办结 1 已清理")
        await c.dm("wxid_wangfang", "接 1")
        assert "不能接单" in c.sent(to="wxid_wangfang")[-1].text
    play(story)


def test_resident_sees_only_own_tickets(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮")
        await c.dm("wxid_zhang", "进度 1")
        assert "待接单" in c.sent(to="wxid_zhang")[-1].text
        await c.dm("wxid_stranger", "进度 1")
        assert "没有找到工单#1" in c.sent(to="wxid_stranger")[-1].text
    play(story)


def test_bind_code_binds_by_contact_id_once(play, engine, config):
    async def story(c: Community):
        with new_session(engine) as session:
            code = create_bind_code(session=session, staff_id="liuyang", now=c.clock.now())
        await c.dm("wxid_stranger", "我的")
        assert "仅限社区工作人员" in c.sent(to="wxid_stranger")[-1].text
        await c.dm("wxid_stranger", f"绑定 {code}")
        assert "绑定成功" in c.sent(to="wxid_stranger")[-1].text
        await c.dm("wxid_stranger", "我的")
        assert "没有未办结的工单" in c.sent(to="wxid_stranger")[-1].text
        await c.dm("wxid_li", f"绑定 {code}")  # single use
        assert "无效或已过期" in c.sent(to="wxid_li")[-1].text
        for _ in range(5):
            await c.dm("wxid_li", "绑定 00000000")
        assert "尝试次数过多" in c.sent(to="wxid_li")[-1].text
    play(story)


def test_expired_bind_code_is_refused(play, engine):
    async def story(c: Community):
        with new_session(engine) as session:
            code = create_bind_code(session=session, staff_id="liuyang", now=c.clock.now())
        await c.wait(timedelta(hours=25))
        await c.dm("wxid_stranger", f"绑定 {code}")
        assert "无效或已过期" in c.sent(to="wxid_stranger")[-1].text
    play(story)


def test_staff_group_commands_work_and_are_never_filed(play, engine):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮")
        await c.post("20009@chatroom", "wxid_wangfang", "接 1")
        assert "已接单" in c.sent(room="20009@chatroom")[-1].text
        await c.post("20009@chatroom", "wxid_lishuji", "3号楼电梯坏了大家注意")  # staff chatter, not a ticket
    play(story)
    with new_session(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1
