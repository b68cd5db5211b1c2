"""Residents' privacy on a real database through real wechaty: retention windows on the fake clock, stable
pseudonyms, a person's export and erase (command line and private chat), with the KPIs unchanged."""
from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.cli.main import main
from bot.sim.harness import Community
from handlers.digest import Period
from storage import kpi
from storage.db import new_session
from storage.models import (IncomingMessage, MessageState, OutboxMessage, OutboxState, Ticket, TicketEvent,
                            TicketFollower)
from storage.privacy import PSEUDONYM_PREFIX

ROOM = "20001@chatroom"
ROOT = Path(__file__).resolve().parents[2]
CHATTER = ["今天天气真不错", "谢谢大家", "晚上一起去跳广场舞吧"]


def _messages(engine) -> dict[str, IncomingMessage]:
    with new_session(engine) as session:
        return {m.message_id: m for m in session.exec(select(IncomingMessage))}


def _kpis(engine, now):
    with new_session(engine) as session:
        return kpi.kpis(session=session, since=now - timedelta(days=5000), until=now, now=now)


async def _history(c: Community) -> dict[str, str]:
    """张阿姨 reports two problems and rates one; 李大爷 reports the same water and joins it; both chat."""
    ids = {}
    ids["water"] = await c.post(ROOM, "wxid_zhang", "A2和百意中间路面存在积水")
    ids["water_li"] = await c.post(ROOM, "wxid_li", "A2和百意中间路面积水了", after=timedelta(minutes=5))
    ids["light"] = await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，电话13812345678", after=timedelta(minutes=5))
    for n, text in enumerate(CHATTER):
        ids[f"chat{n}"] = await c.post(ROOM, "wxid_li" if n % 2 else "wxid_zhang", text, after=timedelta(minutes=1))
    for ticket_id in (1, 2):
        await c.dm("wxid_wangfang", f"接 {ticket_id}")
        await c.dm("wxid_wangfang", f"办结 {ticket_id} 已处理")
    await c.dm("wxid_zhang", "1")  # rates the latest resolved ticket (#2) 满意
    await c.drain()
    return ids


def test_retention_windows_on_the_fake_clock(make, engine):
    async def main_():
        async with make() as c:
            ids = await _history(c)
            with new_session(engine) as session:
                assert {t.id: t.reporter_id for t in session.exec(select(Ticket))} == {1: "wxid_zhang", 2: "wxid_zhang"}
                assert session.get(TicketFollower, (1, "wxid_li")) is not None
            start_kpis = _kpis(engine, c.clock.now())

            await c.wait(timedelta(days=2, hours=12))  # inside the 3 days: every text still there
            held = _messages(engine)
            assert [held[ids[f"chat{n}"]].text for n in range(3)] == CHATTER

            await c.wait(timedelta(days=1))  # past 3 days: chatter texts gone, the rows (ids, time, state) stay
            held = _messages(engine)
            for n in range(3):
                row = held[ids[f"chat{n}"]]
                assert (row.text, row.sender_name, row.state) == ("", "", MessageState.PROCESSED)
                assert row.purged_at is not None and row.fingerprint is not None and row.sent_at is not None
            assert held[ids["water"]].text == "A2和百意中间路面存在积水"  # complaints stay with their ticket
            assert held[ids["light"]].text.startswith("A1楼道灯不亮了")
            private = [m for m in held.values() if m.room_id is None and m.ticket_id is None]
            assert private and all(m.text == "" for m in private)  # 接/办结 commands are chatter too

            # a re-delivered old message is still recognised: nothing handled, nothing filed, nothing sent
            sent_before, rows_before = len(c.sent()), len(held)
            await c.sim.push_message(sender="wxid_zhang", text=CHATTER[0], room=ROOM, message_id=ids["chat0"])
            await c.sim.push_message(sender="wxid_zhang", text="A2和百意中间路面存在积水", room=ROOM,
                                     message_id=ids["water"])
            await asyncio.sleep(0.5)
            await c.drain()
            assert len(_messages(engine)) == rows_before and len(c.sent()) == sent_before

            with new_session(engine) as session:
                sent = list(session.exec(select(OutboxMessage).where(OutboxMessage.state == OutboxState.SENT)))
            assert sent and all(row.text for row in sent)  # sent texts stay 30 days
            await c.wait(timedelta(days=27))
            await c.app.tick()  # this minute's scan (the simulated clock runs scans only where work is due)
            with new_session(engine) as session:
                sent = list(session.exec(select(OutboxMessage).where(OutboxMessage.state == OutboxState.SENT)))
                cutoff = c.clock.now() - timedelta(days=30)
                old, recent = [r for r in sent if r.sent_at < cutoff], [r for r in sent if r.sent_at >= cutoff]
                assert old and all(row.text == "" and row.purged_at is not None for row in old)
                assert recent and all(row.text and row.purged_at is None for row in recent)  # daily digests
                assert all(t.reporter_id == "wxid_zhang" for t in session.exec(select(Ticket)))

            c.clock.advance(timedelta(days=3 * 366))  # 3 years after closing: pseudonyms
            await c.app.tick()
            with new_session(engine) as session:
                tickets = list(session.exec(select(Ticket).order_by(Ticket.id)))
                assert all(t.status.value == "closed" and t.pseudonymised_at is not None for t in tickets)
                zhang = tickets[0].reporter_id
                assert zhang.startswith(PSEUDONYM_PREFIX) and tickets[1].reporter_id == zhang  # stable per person
                assert {t.reporter_name for t in tickets} == {"居民"}
                [follower] = session.exec(select(TicketFollower))
                assert follower.contact_id.startswith(PSEUDONYM_PREFIX) and follower.contact_id != zhang
                assert "13812345678" not in tickets[1].text and "138****5678" in tickets[1].text
                actors = {e.actor_id for e in session.exec(select(TicketEvent))}
                assert not actors & {"wxid_zhang", "wxid_li"}
                assert tickets[1].rating == "satisfied"
                residents = select(IncomingMessage).where(IncomingMessage.sender_id.in_(["wxid_zhang", "wxid_li"]))
                assert all(m.text == "" for m in session.exec(residents))
            assert _kpis(engine, c.clock.now()) == start_kpis
    asyncio.run(main_())


def test_export_then_erase_on_the_command_line_keeps_kpis(make, engine, database_url, monkeypatch, tmp_path, capsys):
    async def main_():
        async with make() as c:
            await _history(c)
            return c.clock.now()
    now = asyncio.run(main_())
    monkeypatch.setenv("MULIN_DATABASE_URL", database_url)
    config = str(ROOT / "config.yaml")
    out = tmp_path / "zhang.json"
    assert main(["privacy", "export", "--contact", "wxid_zhang", "--config", config, "--out", str(out)]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["contact"] == "wxid_zhang"
    texts = [m["text"] for m in data["messages"]]
    assert "A2和百意中间路面存在积水" in texts and CHATTER[0] in texts and "1" in texts  # group and private
    assert [(t["id"], t["role"]) for t in data["tickets"]] == [(1, "reporter"), (2, "reporter")]
    assert data["ratings"] == [{"ticket_id": 2, "rating": "satisfied"}]
    assert any("已办结" in m["text"] for m in data["messages_to_you"])
    assert all(e["kind"] for t in data["tickets"] for e in t["events"])
    assert main(["privacy", "export", "--contact", "wxid_li", "--config", config]) == 0
    li = json.loads(capsys.readouterr().out)
    assert [(t["id"], t["role"], t["reporter_name"]) for t in li["tickets"]] == [(1, "follower", None)]
    assert CHATTER[1] in [m["text"] for m in li["messages"]]

    before = _kpis(engine, now)
    assert main(["privacy", "erase", "--contact", "wxid_zhang", "--config", config]) == 0
    assert "#1 #2" in capsys.readouterr().out
    assert _kpis(engine, now) == before
    with new_session(engine) as session:
        tickets = list(session.exec(select(Ticket).order_by(Ticket.id)))
        assert {t.reporter_id for t in tickets} == {tickets[0].reporter_id} and tickets[0].reporter_id != "wxid_zhang"
        assert [t.follower_count for t in tickets] == [1, 0] and tickets[1].rating == "satisfied"
        erased = list(session.exec(select(TicketEvent).where(TicketEvent.kind == "erased")))
        assert sorted(e.ticket_id for e in erased) == [1, 2] and {e.actor_id for e in erased} == {"operator"}
        assert session.exec(select(IncomingMessage).where(IncomingMessage.sender_id == "wxid_zhang")).first() is None
        assert session.get(TicketFollower, (1, "wxid_li")) is not None  # others keep theirs
    assert main(["privacy", "export", "--contact", "wxid_zhang", "--config", config]) == 0
    gone = json.loads(capsys.readouterr().out)
    assert gone["messages"] == [] and gone["tickets"] == [] and all(m["text"] is None for m in gone["messages_to_you"])
    # a bound staff member is refused, nothing changed
    assert main(["privacy", "erase", "--contact", "wxid_wangfang", "--config", config]) == 1
    assert "工作人员" in capsys.readouterr().err


def test_private_chat_show_request_and_secretary_confirmation(make, engine):
    async def main_():
        async with make() as c:
            await _history(c)
            now = c.clock.now()
            before = _kpis(engine, now)
            await c.dm("wxid_zhang", "我的信息")
            shown = c.sent(to="wxid_zhang")[-1].text
            assert "您反映的工单：#1 #2" in shown and "您的评价：1次" in shown and "删除我的信息" in shown
            await c.dm("wxid_li", "我的信息")
            assert "您附议的工单：#1" in c.sent(to="wxid_li")[-1].text

            await c.dm("wxid_zhang", "删除我的信息")
            assert "需社区书记确认" in c.sent(to="wxid_zhang")[-1].text
            [ask] = [s for s in c.sent(to="wxid_lishuji") if "信息删除申请" in s.text]
            assert "确认删除 wxid_zhang" in ask.text and "#1 #2" in ask.text and "张*" in ask.text
            await c.dm("wxid_zhang", "删除我的信息")  # asked twice: one request
            assert "正在等待" in c.sent(to="wxid_zhang")[-1].text
            assert len([s for s in c.sent(to="wxid_lishuji") if "信息删除申请" in s.text]) == 1

            await c.dm("wxid_wangfang", "确认删除 wxid_zhang")  # a grid worker may not
            assert "只有社区书记" in c.sent(to="wxid_wangfang")[-1].text
            await c.dm("wxid_lishuji", "确认删除 wxid_li")  # nobody asked for this one
            assert "没有 wxid_li 待确认" in c.sent(to="wxid_lishuji")[-1].text
            with new_session(engine) as session:
                assert {t.reporter_id for t in session.exec(select(Ticket))} == {"wxid_zhang"}

            await c.dm("wxid_lishuji", "确认删除 wxid_zhang")
            assert "已删除 wxid_zhang" in c.sent(to="wxid_lishuji")[-1].text
            assert "已按申请删除" in c.sent(to="wxid_zhang")[-1].text  # the resident is told
            assert _kpis(engine, now) == before
            with new_session(engine) as session:
                assert session.exec(select(IncomingMessage).where(
                    IncomingMessage.sender_id == "wxid_zhang", IncomingMessage.state != MessageState.RECEIVED)
                ).first() is None
                assert {t.reporter_id[:5] for t in session.exec(select(Ticket))} == {PSEUDONYM_PREFIX}
                erased = list(session.exec(select(TicketEvent).where(TicketEvent.kind == "erased")))
                assert {e.actor_id for e in erased} == {"lishuji"} and len(erased) == 2
            # the bot still serves the resident afterwards
            await c.post(ROOM, "wxid_zhang", "A2单元门坏了关不上", after=timedelta(minutes=2))
            with new_session(engine) as session:
                assert session.get(Ticket, 3).reporter_id == "wxid_zhang"
    asyncio.run(main_())


def test_notice_follows_the_config_and_the_readme_shows_the_default(capsys):
    assert main(["privacy", "notice", "--config", str(ROOT / "config.yaml")]) == 0
    text = capsys.readouterr().out.strip()
    assert "3天后删除" in text and "保存30天" in text and "3年后" in text and "我的信息" in text
    assert text in (ROOT / "README.md").read_text(encoding="utf-8")  # the README's notice is the one printed
    assert "抽出的一小部分保存14天" in text  # 抽查 keeps some chatter longer: the notice says so


def test_the_notice_names_the_spot_check_only_while_it_draws(config):
    from core.config import SpotCheck
    from handlers.privacy import notice

    off = notice(config.model_copy(update={"spot_check": SpotCheck(random_rate=0, near_rate=0)}))
    assert "3天后删除，只留时间等记录；" in off and "抽出" not in off
    near_only = notice(config.model_copy(update={"spot_check": SpotCheck(random_rate=0, near_rate=0.1, keep_days=7)}))
    assert "抽出的一小部分保存7天" in near_only
