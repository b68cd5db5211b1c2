"""Odd and hostile input through real wechaty: recorded, ignored politely, never filed; and the security rules."""
from __future__ import annotations

import io
import logging

import pytest
from sqlmodel import select

from bot.sim.harness import Community
from bot.logmask import MaskingFilter
from core.types import KINDS, SILENT_KINDS
from handlers import texts
from storage.db import new_session
from storage.models import IncomingMessage

ROOM = "20001@chatroom"
NON_TEXT = [k for k in KINDS if k != "text"]


def _inbox(engine) -> list[IncomingMessage]:
    with new_session(engine) as session:
        return list(session.exec(select(IncomingMessage).order_by(IncomingMessage.id)))


def test_every_non_text_kind_is_recorded_and_ignored_in_a_group(play, engine, stored_tickets):
    async def story(c: Community):
        for kind in NON_TEXT:
            # a sticker or card can carry words; they are still not read as a complaint
            await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，快来修", kind=kind)
        await c.post(ROOM, "wxid_zhang", "张阿姨加入了群聊", kind="system")
        assert c.sent() == []
    play(story)
    assert stored_tickets() == []
    rows = _inbox(engine)
    assert [r.kind for r in rows] == [*NON_TEXT, "system"]
    assert all(r.state.value == "processed" for r in rows)


def test_private_non_text_gets_a_short_hint_but_system_and_recalled_get_nothing(play):
    async def story(c: Community):
        for kind in NON_TEXT:
            await c.dm("wxid_zhang", "", kind=kind)
        hints = c.sent(to="wxid_zhang")
        assert len(hints) == len(NON_TEXT) - len(SILENT_KINDS)
        assert all(h.text == texts.private_ok() and "文字" in h.text for h in hints)
    play(story)


def test_system_lines_as_text_are_not_complaints(play, stored_tickets):
    async def story(c: Community):
        for line in ["张阿姨加入了群聊", "\"李大爷\"撤回了一条消息", "王芳邀请\"路人\"加入了群聊", "[图片]"]:
            await c.post(ROOM, "wxid_zhang", line)
        assert c.sent() == []
    play(story)
    assert stored_tickets() == []


def test_ten_thousand_characters_are_stored_whole_and_still_filed(play, engine, stored_tickets):
    long_text = "A1单元门坏了关不上，" + "楼里老人孩子进出很不方便。" * 800
    long_text = long_text[:10_000]

    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", long_text)
        [ack] = c.sent(room=ROOM)
        assert "工单#1" in ack.text and len(ack.text) < 200
    play(story)
    [ticket] = stored_tickets()
    assert ticket.text == long_text and ticket.building == "A1"
    [row] = _inbox(engine)
    assert len(row.text) == 10_000


def test_zero_width_and_full_width_characters_file_the_same_ticket(play, stored_tickets):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "Ａ１\u200b楼道\u200d灯不亮了")
        await c.post("20002@chatroom", "wxid_li", "３号楼\ufeff下水道堵了，污水流了一地")
    play(story)
    first, second = stored_tickets()
    assert (first.building, first.category) == ("A1", "lighting")
    assert (second.building, second.category) == ("3号楼", "drainage")


def test_unserved_group_is_logged_once(play, stored_tickets, caplog):
    caplog.set_level(logging.INFO, logger="mulin.app")

    async def story(c: Community):
        for text in ["小区路灯坏了好几天了", "有人管管吗", "A1楼道灯不亮"]:
            await c.post("29999@chatroom", "wxid_zhang", text)
        assert c.sent() == []
    play(story)
    assert caplog.text.count("ignoring group 29999@chatroom") == 1
    assert stored_tickets() == []


def test_a_resident_cannot_read_someone_elses_ticket_in_private_or_a_staff_group(play):
    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮，电话13812345678")
        await c.dm("wxid_li", "进度 1")
        assert c.sent(to="wxid_li")[-1].text == texts.not_found(1)
        await c.dm("wxid_li", "我的")
        assert "工单#1" not in c.sent(to="wxid_li")[-1].text
        await c.dm("wxid_zhang", "进度 1")
        assert "工单#1" in c.sent(to="wxid_zhang")[-1].text
        group = c.sent(room=ROOM)
        assert group and all("13812345678" not in m.text for m in group)
    play(story)


@pytest.mark.parametrize("message, args, secret, shown", [
    ("resident %s called", ("13812345678",), "13812345678", "138****5678"),
    ("id card 110101199003071234 in %r", ({"x": 1},), "110101199003071234", "110101********1234"),
])
def test_log_lines_mask_phone_and_id_numbers(message, args, secret, shown):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(MaskingFilter())
    logger = logging.getLogger("mulin.test.mask")
    logger.addHandler(handler)
    try:
        logger.warning(message, *args)
        try:
            raise ValueError(f"bad text {secret}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    assert secret not in out.getvalue() and out.getvalue().count(shown) == 2


def test_a_nul_character_in_text_or_name_is_stripped_and_the_complaint_filed(play, engine, stored_tickets):
    # PostgreSQL text cannot hold NUL: the message used to be lost before it reached the inbox
    async def story(c: Community):
        c.rename("wxid_zhang", "张\x00阿姨")
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了\x00麻烦修一下")
        [ack] = c.sent(room=ROOM)
        assert "工单#1" in ack.text
    play(story)
    [ticket] = stored_tickets()
    assert ticket.text == "A1楼道灯不亮了麻烦修一下" and ticket.reporter_name == "张阿姨"
    [row] = _inbox(engine)
    assert row.state.value == "processed" and "\x00" not in row.text + row.sender_name


def test_a_message_the_inbox_refuses_for_another_reason_is_parked_not_dropped(play, engine, monkeypatch, caplog):
    from bot import app as app_module
    from sqlalchemy.exc import DataError

    real = app_module.inbox.record_incoming

    def refuse(*, session, msg, now, owner=None):  # noqa: ANN001, ANN202
        if "单元门" in msg.text:
            raise DataError("INSERT …", {}, ValueError("value the database cannot hold"))
        return real(session=session, msg=msg, now=now, owner=owner)

    monkeypatch.setattr(app_module.inbox, "record_incoming", refuse)

    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A2单元门坏了关不上")
        await c.post(ROOM, "wxid_li", "A1楼道灯不亮了")  # the next message is handled as usual
        assert c.app.parked() == 1
    play(story)
    parked, handled = _inbox(engine)
    assert parked.state.value == "parked" and parked.text == "A2单元门坏了关不上" and "DataError" in parked.error
    assert handled.state.value == "processed"
    assert "parked" in caplog.text


def test_a_hundred_thousand_characters_reach_the_worker_cut_with_a_note_and_stay_whole_in_the_ticket(
        play, stored_tickets):
    long_text = ("A1单元门坏了关不上，" + "楼里老人孩子进出很不方便。" * 8000)[:100_000]

    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", long_text)
        await c.post(ROOM, "wxid_li", "A1单元门坏了关不上，" + "真的很不方便。" * 3000)  # joins #1
        await c.dm("wxid_wangfang", "办结 1 " + "已修好门锁。" * 3000)
        to_worker = c.sent(to="wxid_wangfang")
        assert to_worker and all(len(s.text) < 1000 for s in to_worker)
        assert "省略99" in to_worker[0].text and long_text[:400] in to_worker[0].text
        assert all(len(s.text) < 1000 for s in c.sent(room=ROOM))
    play(story)
    [ticket] = stored_tickets()
    assert ticket.text == long_text and len(ticket.resolution_note) == 18_000
