"""One person's split message is read back from the inbox: lines seconds apart, on both clocks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from core.types import Incoming
from storage.db import new_session
from storage.inbox import mark_processed, record_incoming
from storage.threads import earlier_fragments

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)
WINDOW = timedelta(seconds=20)


def store(engine, n: int, text: str, sent: timedelta, received: timedelta) -> str:
    msg = Incoming(id=f"m{n}", sender_id="wxid_a", sender_name="张阿姨", text=text, at=T0 + sent,
                   room_id="20002@chatroom", room_topic="百意小区群")
    with new_session(engine) as session:
        assert record_incoming(session=session, msg=msg, now=T0 + received)
        mark_processed(session=session, message_id=msg.id)
        session.commit()
    return msg.id


def fragments(engine, message_id: str) -> list[str]:
    with new_session(engine) as session:
        return [f.text for f in earlier_fragments(session=session, message_id=message_id, window=WINDOW)]


def test_lines_sent_and_received_seconds_apart_are_one_utterance(engine):
    store(engine, 1, "7号楼", timedelta(0), timedelta(seconds=1))
    second = store(engine, 2, "电梯又坏了", timedelta(seconds=5), timedelta(seconds=6))
    assert fragments(engine, second) == ["7号楼"]


def test_lines_sent_minutes_apart_that_arrive_in_one_burst_are_not(engine):
    """After a reconnect the gateway re-sends a backlog: received a second apart, sent five minutes apart."""
    store(engine, 1, "晚上一起跳广场舞吗", timedelta(0), timedelta(minutes=10))
    second = store(engine, 2, "楼下新开了一家超市", timedelta(minutes=5), timedelta(minutes=10, seconds=1))
    assert fragments(engine, second) == []
