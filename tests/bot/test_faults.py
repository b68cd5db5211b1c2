"""Gateway and database faults: the bot reconnects, retries and loses nothing that reached it (real wechaty,
real databases). A real gateway drops events while no bot is connected; tests that need a gateway which keeps
them say so (`sim.buffer`)."""
from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import select

from bot.backoff import Backoff
from bot.cli.main import main
from bot.sim.harness import Community
from bot.wechat.transport import GatewayError
from storage.db import new_session
from storage.models import IncomingMessage, MessageState, OutboxMessage, OutboxState

ROOM = "20001@chatroom"
COMPLAINTS = ["A1楼道灯不亮了", "A2单元门坏了关不上", "百意楼下水道堵了"]


def test_backoff_doubles_up_to_the_cap_and_resets():
    backoff = Backoff(initial=1, cap=30)
    assert [backoff.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next() == 1


def _acks(c: Community) -> int:
    """Filed acknowledgements in the group (pacing may merge several into one WeChat message)."""
    return sum(s.text.count("已登记为工单#") for s in c.sent(room=ROOM))


async def _reconnecting(c: Community, stop: asyncio.Event) -> asyncio.Task:
    return asyncio.create_task(c.transport.keep_connected(stop, backoff=Backoff(initial=0.2, cap=1)))


async def _wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_dropped_connection_reconnects_and_loses_nothing(make, stored_tickets, caplog):
    caplog.set_level(logging.WARNING, logger="mulin.wechaty")

    async def main_():
        async with make() as c:
            c.sim.buffer = True  # a gateway that keeps events for the next connection
            stop = asyncio.Event()
            keeper = await _reconnecting(c, stop)
            await c.post(ROOM, "wxid_zhang", COMPLAINTS[0])
            assert c.sim.drop_connections() >= 1
            # pushed while the link is down: this gateway keeps them for the next connection
            ids = [f"wx-drop-{i}" for i in range(1, 3)]
            waiters = [c.app.wait_processed(i) for i in ids]
            for message_id, text_ in zip(ids, COMPLAINTS[1:]):
                await c.sim.push_message(sender="wxid_zhang", text=text_, room=ROOM, message_id=message_id)
            await asyncio.wait_for(asyncio.gather(*waiters), 20)
            assert c.transport.reconnects == 1
            await c.post(ROOM, "wxid_li", "A2路灯坏了好几天了")  # and the new link works both ways
            assert _acks(c) == 4
            stop.set()
            await keeper
    asyncio.run(main_())
    assert len(stored_tickets()) == 4
    log = caplog.text
    assert "event stream closed" in log and "reconnect attempt 1" in log and "reconnected after" in log


def test_replayed_events_after_a_reconnect_are_not_filed_twice(make, stored_tickets):
    async def main_():
        async with make() as c:
            c.sim.replay_seconds = 10
            stop = asyncio.Event()
            keeper = await _reconnecting(c, stop)
            posted = [await c.post(ROOM, "wxid_zhang", text_) for text_ in COMPLAINTS]
            handed_over: list[str] = []  # every message the transport handed to the app, once the app returned
            deliver = c.transport.on_message

            async def recording(msg):  # noqa: ANN001, ANN202
                await deliver(msg)
                handed_over.append(msg.id)
            c.transport.on_message = recording
            c.sim.drop_connections()
            await _wait_for(lambda: c.transport.reconnects == 1 and set(posted) <= set(handed_over))
            await c.settle()
            assert _acks(c) == 3  # the three replays reached the app and were recognised, not filed again
            stop.set()
            await keeper
    asyncio.run(main_())
    assert len(stored_tickets()) == 3


def test_gives_up_after_the_configured_time_when_the_gateway_stays_down(make):
    async def main_():
        async with make() as c:
            await c.sim.stop()  # the gateway process is gone for good
            started = asyncio.get_running_loop().time()
            with pytest.raises(GatewayError, match="放弃重连"):
                await c.transport.keep_connected(asyncio.Event(), backoff=Backoff(initial=0.2, cap=0.4),
                                                 give_up_seconds=1.5)
            assert asyncio.get_running_loop().time() - started < 5
    asyncio.run(main_())


def test_late_messages_after_an_outage_get_one_summary_per_group(make, stored_tickets, engine):
    async def main_():
        async with make() as c:
            c.sim.buffer = True  # the outage's messages reach the bot late, all at once
            stop = asyncio.Event()
            keeper = await _reconnecting(c, stop)
            c.sim.drop_connections()
            ids = [f"wx-late-{i}" for i in range(len(COMPLAINTS))]
            waiters = [c.app.wait_processed(i) for i in ids]
            for message_id, text_ in zip(ids, COMPLAINTS):
                await c.sim.push_message(sender="wxid_zhang", text=text_, room=ROOM, message_id=message_id)
            c.clock.advance(timedelta(minutes=15))  # the outage lasted a quarter of an hour
            await asyncio.wait_for(asyncio.gather(*waiters), 20)
            assert c.sent(room=ROOM) == []  # no burst of acknowledgements
            await c.wait(timedelta(seconds=70))  # the next minute's scan, once the backlog has settled
            notices = "".join(s.text for s in c.sent(to="wxid_wangfang"))
            assert [f"新工单#{i}" in notices for i in (1, 2, 3)] == [True] * 3  # the worker still gets each ticket
            [summary] = c.sent(room=ROOM)
            assert "断线" in summary.text and "3条" in summary.text and "#1 #2 #3" in summary.text
            assert summary.mentions == ["wxid_zhang"]
            await c.wait(timedelta(minutes=1))
            assert len(c.sent(room=ROOM)) == 1  # said once
            stop.set()
            await keeper
    asyncio.run(main_())
    assert len(stored_tickets()) == 3
    with new_session(engine) as session:
        states = [r.state for r in session.exec(select(OutboxMessage).where(OutboxMessage.room_id == ROOM))]
    assert sorted(states) == sorted([OutboxState.SUMMARISED] * 3 + [OutboxState.SENT])


def test_sends_while_disconnected_wait_for_the_link_without_using_up_attempts(make, engine):
    async def main_():
        async with make() as c:
            stop = asyncio.Event()
            keeper = await _reconnecting(c, stop)
            c.sim.drop_connections()
            await _wait_for(lambda: not c.transport.running)
            c.sim.delay = 0.3  # and the gateway is slow once it is back
            assert await c.app.flush_outbox() == 0
            await _wait_for(lambda: c.transport.running and c.transport.reconnects == 1)
            await c.post(ROOM, "wxid_zhang", COMPLAINTS[0])  # arrives after the reconnect
            await _wait_for(lambda: _acks(c) == 1)
            stop.set()
            await keeper
    asyncio.run(main_())
    with new_session(engine) as session:
        rows = session.exec(select(OutboxMessage)).all()
    assert rows and all(r.state == OutboxState.SENT and r.attempts == 1 for r in rows)


def test_unreachable_database_at_start_exits_4_with_the_password_masked(monkeypatch, capsys):
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_ENDPOINT", "127.0.0.1:1")
    monkeypatch.setenv("WECHATY_PUPPET_SERVICE_TOKEN", "insecure_test")
    monkeypatch.setenv("MULIN_DATABASE_URL", "postgresql+psycopg://mulin:s3cret@127.0.0.1:1/mulin")
    assert main(["run"]) == 4
    err = capsys.readouterr().err
    assert "数据库错误" in err and "mulin:***@127.0.0.1:1/mulin" in err and "s3cret" not in err


class DatabaseOutage:
    """Make the test database unreachable for new connections, then bring it back (SQLite or PostgreSQL)."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)

    def __enter__(self) -> "DatabaseOutage":
        if self.url.get_backend_name() == "sqlite":
            folder = Path(self.url.database).parent
            self._moved = (folder, folder.with_name(folder.name + "-away"))
            os.rename(*self._moved)  # the file is gone: no new connection can open it
        else:
            self._admin("ALTER DATABASE {db} ALLOW_CONNECTIONS false",
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}' "
                        "AND pid <> pg_backend_pid()")
        return self

    def restore(self) -> None:
        if self.url.get_backend_name() == "sqlite":
            os.rename(self._moved[1], self._moved[0])
        else:
            self._admin("ALTER DATABASE {db} ALLOW_CONNECTIONS true")

    def __exit__(self, *exc: object) -> None:
        pass

    def _admin(self, *statements: str) -> None:
        admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for statement in statements:
                conn.execute(text(statement.format(db=self.url.database)))
        admin.dispose()


def test_database_lost_mid_run_message_is_retried_not_dropped(make, engine, database_url, stored_tickets, caplog):
    caplog.set_level(logging.WARNING, logger="mulin.app")

    async def main_():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", COMPLAINTS[0])
            outage = DatabaseOutage(database_url).__enter__()
            engine.dispose()  # pooled connections die with the database
            try:
                done = c.app.wait_processed("wx-during-outage")
                await c.sim.push_message(sender="wxid_li", text=COMPLAINTS[1], room=ROOM, message_id="wx-during-outage")
                await _wait_for(lambda: "cannot store message wx-during-outage" in caplog.text)
                assert not done.done()
            finally:
                outage.restore()
            await asyncio.wait_for(done, 20)
            await c.wait(timedelta(seconds=5))  # the group's pacing interval
            assert _acks(c) == 2
    asyncio.run(main_())
    assert [t.text for t in stored_tickets()] == COMPLAINTS[:2]
    with new_session(engine) as session:
        rows = session.exec(select(IncomingMessage)).all()
    assert len(rows) == 2 and all(r.state == MessageState.PROCESSED for r in rows)
    assert re.search(r"retry \d+ in \d+ s", caplog.text)
