"""The outbox rows through their states, on a real database (SQLite, and PostgreSQL when configured)."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import select

from core.types import Outgoing
from storage import outbox
from storage.db import new_session
from storage.models import OutboxMessage, OutboxState

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
ROOM = "20001@chatroom"


def queue(session, text: str, *, room: str | None = ROOM, to: str | None = None, mentions=(), **kw) -> int:
    row = outbox.enqueue(session=session, out=Outgoing(text=text, room_id=room, to_id=to, mentions=mentions),
                         now=NOW, **kw)
    session.commit()
    return row.id


def rows(engine) -> dict[int, OutboxMessage]:
    with new_session(engine) as session:
        return {r.id: r for r in session.exec(select(OutboxMessage))}


def test_urgency_and_the_message_answered_are_stored(engine):
    with new_session(engine) as session:
        a = queue(session, "燃气泄漏已派人", urgent=True)
        b = queue(session, "已登记", in_reply_to="wx-1")
        assert [r.id for r in outbox.pending(session=session)] == [a, b]
    stored = rows(engine)
    assert stored[a].urgent and stored[a].in_reply_to is None
    assert not stored[b].urgent and stored[b].in_reply_to == "wx-1"


def test_merged_rows_are_one_message_with_united_mentions_and_one_gateway_id(engine):
    with new_session(engine) as session:
        ids = [queue(session, "工单#1已接单", mentions=("wxid_zhang",)),
               queue(session, "工单#2已接单", mentions=("wxid_li", "wxid_zhang"))]
        out = outbox.as_outgoing(*outbox.pending(session=session))
        assert out.text == "工单#1已接单\n工单#2已接单" and out.mentions == ("wxid_zhang", "wxid_li")
        outbox.claim(session=session, ids=ids, now=NOW)
        outbox.mark_sent(session=session, ids=ids, gateway_message_id="gw-7")
        assert outbox.recent_sends(session=session, since=NOW - timedelta(minutes=1)) == [(ROOM, None, NOW)]
        assert outbox.group_sends_since(session=session, since=NOW - timedelta(hours=9)) == {ROOM: 1}
        assert outbox.group_sends_since(session=session, since=NOW + timedelta(seconds=1)) == {}
    stored = rows(engine)
    assert {(r.state, r.gateway_message_id, r.attempts) for r in stored.values()} == {(OutboxState.SENT, "gw-7", 1)}
    assert stored[ids[1]].merged_into == ids[0] and stored[ids[0]].merged_into is None


def test_a_failed_merged_send_backs_off_its_first_row_and_frees_the_rest(engine):
    with new_session(engine) as session:
        ids = [queue(session, "一"), queue(session, "二")]
        outbox.claim(session=session, ids=ids, now=NOW)
        outbox.mark_send_failed(session=session, ids=ids, error="UNAVAILABLE", retry_at=NOW + timedelta(seconds=5))
        assert [r.id for r in outbox.pending(session=session)] == ids
        assert outbox.recent_sends(session=session, since=NOW - timedelta(minutes=1)) == []  # a failure is no send
    stored = rows(engine)
    assert stored[ids[0]].attempts == 1 and stored[ids[0]].next_attempt_at == NOW + timedelta(seconds=5)
    assert stored[ids[1]].attempts == 0 and stored[ids[1]].merged_into is None and stored[ids[1]].sent_at is None
    with new_session(engine) as session:
        outbox.claim(session=session, ids=ids[:1], now=NOW)
        outbox.mark_send_failed(session=session, ids=ids[:1], error="UNAVAILABLE", retry_at=None)
    assert rows(engine)[ids[0]].state == OutboxState.FAILED and rows(engine)[ids[0]].attempts == 2


def test_rows_in_flight_at_a_crash_are_sent_again_and_counted(engine):
    with new_session(engine) as session:
        done = queue(session, "已送达", to="wxid_zhang", room=None)
        outbox.claim(session=session, ids=[done], now=NOW)
        outbox.mark_sent(session=session, ids=[done], gateway_message_id="gw-1")
        flying = [queue(session, "发送中一"), queue(session, "发送中二")]
        outbox.claim(session=session, ids=flying, now=NOW)
        # the process dies here: the gateway may or may not have delivered the merged message
    with new_session(engine) as session:
        recovered = outbox.recover_in_flight(session=session)
        assert [r.id for r in recovered] == flying
        assert [r.id for r in outbox.pending(session=session)] == flying
        assert outbox.recover_in_flight(session=session) == []  # recovering twice changes nothing
        assert outbox.count_resent(session=session) == 2
    stored = rows(engine)
    assert stored[done].state == OutboxState.SENT and stored[done].resent == 0
    assert all(stored[i].resent == 1 and stored[i].merged_into is None and stored[i].sent_at is None for i in flying)
