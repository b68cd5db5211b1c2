"""A message that @-mentioned the bot is retried as it came: the inbox keeps that it asked the bot, and whom it
mentioned (a mention of a staff member asks too, handlers.addressed)."""
from __future__ import annotations

from datetime import datetime, timezone

from core.types import Incoming
from storage.db import new_session
from storage.inbox import as_incoming, record_incoming, unfinished

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)


def test_an_unfinished_message_keeps_whether_it_asked_the_bot(engine):
    asked = Incoming(id="m1", sender_id="wxid_a", sender_name="张阿姨", text="@睦邻助手\u2005停车场好多油渍啊", at=T0,
                     room_id="20002@chatroom", room_topic="百意小区群", mentions=("wxid_mulin",), addressed=True)
    told = Incoming(id="m2", sender_id="wxid_b", sender_name="李大爷", text="停车场好多油渍啊", at=T0,
                    room_id="20002@chatroom", room_topic="百意小区群")
    with new_session(engine) as session:
        assert record_incoming(session=session, msg=asked, now=T0)
        assert record_incoming(session=session, msg=told, now=T0)
        back = {row.message_id: as_incoming(row) for row in unfinished(session=session)}
    assert back["m1"].addressed and back["m1"].text == asked.text and back["m1"].mentions == ("wxid_mulin",)
    assert not back["m2"].addressed and back["m2"].mentions == ()
