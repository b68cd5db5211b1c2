"""Several bot accounts on one database: each complaint handled once, scheduled work once, a dead process taken over.

Two apps with their own engines (as two `mulin run --account` processes would have), two gateways in one
simulated WeChat world, both accounts in the same group, real python-wechaty for each.
"""
from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest
import yaml
from sqlmodel import select

from core.config import ConfigError, parse_config
from bot.sim.harness import Community
from bot.sim.scenario import parse_scenario
from core.types import Incoming
from storage import inbox, nodes
from storage.db import new_session
from storage.models import IncomingMessage, MessageState, Node, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

ROOT = Path(__file__).resolve().parents[2]
ROOM = "20001@chatroom"
RESIDENTS = [f"wxid_r{i}" for i in range(12)]
COMPLAINTS = ["A1楼道灯不亮", "A2单元门禁坏了刷不开", "A1门口的垃圾桶满了没人清", "A1三单元下水道堵了",
              "百意楼2单元楼道灯不亮", "A2路灯坏了"]
TICKET = re.compile(r"工单#(\d+)")


def two_account_config(**extra):
    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["accounts"] = [{"name": "north", "endpoint": "127.0.0.1:1"}, {"name": "south", "endpoint": "127.0.0.1:2"}]
    data.update(extra)
    return parse_config(yaml.safe_dump(data, allow_unicode=True), "two-accounts.yaml")


def cluster(config, engine, classifier, start: datetime) -> Community:
    scenario = parse_scenario({
        "start": start,
        "contacts": [{"id": r, "name": f"居民{i}"} for i, r in enumerate(RESIDENTS)]
        + [{"id": s.wechat_id, "name": s.name} for s in config.staff if s.wechat_id],
        "rooms": [{"id": ROOM, "topic": config.groups[0].room, "members": RESIDENTS + ["wxid_wangfang"]}],
    })
    return Community(config=config, scenario=scenario, engine=engine, classifier=classifier,
                     accounts=("north", "south"))


def tickets(engine) -> list[Ticket]:
    with new_session(engine) as session:
        return list(session.exec(select(Ticket).order_by(Ticket.id)))


def test_two_accounts_in_one_group_file_one_ticket_and_one_reply_per_complaint(engine, classifier):
    config = two_account_config()

    async def main():
        async with cluster(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            for resident, text in zip(RESIDENTS, COMPLAINTS):
                await c.post(ROOM, resident, text)
            await c.post(ROOM, RESIDENTS[-1], "好的谢谢大家")
            await c.drain()
            return [(s.by, s.text) for s in c.sent(room=ROOM)], c.bots
    sent, bots = asyncio.run(main())
    filed = tickets(engine)
    assert len(filed) == len(COMPLAINTS)
    assert sorted(t.text for t in filed) == sorted(COMPLAINTS)
    acks = Counter(int(n) for _, text in sent for n in TICKET.findall(text))
    assert acks == Counter({t.id: 1 for t in filed})  # each acknowledged in the group exactly once
    with new_session(engine) as session:
        rows = list(session.exec(select(IncomingMessage)))
    assert len(rows) == len(COMPLAINTS) + 1  # two copies of every message arrived; one of each is stored
    assert {r.owner for r in rows} <= {"north", "south"}
    assert all(r.state == MessageState.PROCESSED for r in rows)


def test_a_private_answer_comes_from_the_account_the_worker_wrote_to(engine, classifier):
    config = two_account_config()

    async def main():
        async with cluster(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            await c.post(ROOM, RESIDENTS[0], COMPLAINTS[0])
            await c.kill("north")  # the worker's private chat now reaches the account still alive
            await c.dm("wxid_wangfang", "接 1")
            await c.drain()
            south = c.bots[1].sim.self_id
            return south, [(s.by, s.text) for s in c.sent(to="wxid_wangfang")]
    south, to_worker = asyncio.run(main())
    answer = [by for by, text in to_worker if text.startswith("已接单#1")]
    assert answer == [south]
    assert tickets(engine)[0].status.value == "accepted"


def test_the_digest_goes_out_once_with_both_alive_and_once_after_one_is_killed(engine, classifier):
    config = two_account_config()

    async def main():
        async with cluster(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            await c.post(ROOM, RESIDENTS[0], COMPLAINTS[0])
            await c.wait_until(datetime(2026, 11, 24, 8, 30, tzinfo=SHANGHAI))  # both alive at Tuesday's digest
            await c.kill("north")
            await c.wait_until(datetime(2026, 11, 25, 8, 30, tzinfo=SHANGHAI))  # Wednesday: only south is left
            return [(s.by, s.at[:10]) for s in c.sent(to="wxid_lishuji") if "民情日报" in s.text], c.bots[1].sim.self_id
    digests, south = asyncio.run(main())
    assert [day for _, day in digests] == ["2026-11-24", "2026-11-25"]
    assert digests[1][0] == south


def test_messages_a_dead_process_stored_but_did_not_handle_are_taken_over(engine, classifier):
    config = two_account_config()
    start = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    with new_session(engine) as session:  # north stored a complaint, then died before handling it
        nodes.beat(session=session, account="north", instance="dead", now=start - timedelta(minutes=5))
        inbox.record_incoming(session=session, owner="north", now=start - timedelta(minutes=5), msg=Incoming(
            id="msg-lost-1", sender_id=RESIDENTS[3], sender_name="居民3", text="A2路灯坏了",
            at=start - timedelta(minutes=5), room_id=ROOM, room_topic=config.groups[0].room))

    async def main():
        scenario = parse_scenario({"start": start, "contacts": [{"id": r, "name": r} for r in RESIDENTS]
                                   + [{"id": s.wechat_id, "name": s.name} for s in config.staff if s.wechat_id],
                                   "rooms": [{"id": ROOM, "topic": config.groups[0].room, "members": RESIDENTS}]})
        c = Community(config=config, scenario=scenario, engine=engine, classifier=classifier, accounts=("south",))
        async with c:
            await c.wait(timedelta(minutes=2))
            await c.drain()
            return c.sent(room=ROOM)
    sent = asyncio.run(main())
    [ticket] = tickets(engine)
    assert ticket.text == "A2路灯坏了"
    assert any(f"工单#{ticket.id}" in s.text for s in sent)
    with new_session(engine) as session:
        row = session.exec(select(IncomingMessage)).one()
        assert (row.owner, row.state) == ("south", MessageState.PROCESSED)
        assert {n.account for n in session.exec(select(Node))} == {"north", "south"}


def test_a_heartbeat_from_a_second_process_on_the_same_account_is_reported(engine):
    now = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
    with new_session(engine) as session:
        assert nodes.beat(session=session, account="north", instance="a", now=now) is None
        assert nodes.beat(session=session, account="north", instance="b", now=now + timedelta(seconds=5)) == "a"
        assert nodes.beat(session=session, account="north", instance="a", now=now + nodes.NODE_TIMEOUT * 3) is None
        assert nodes.stale(session=session, now=now + nodes.NODE_TIMEOUT * 5) == ["north"]


@pytest.mark.parametrize("accounts, problem", [
    ([{"name": "a"}, {"name": "a"}], "accounts.name 重复"),
    ([{"name": "a", "groups": ["没有这个群"]}], "不在 groups 或 staff_groups 中"),
    ([{"name": "a", "groups": ["奎星楼社区A1A2号居民群"]}], "没有任何账号服务"),
    ([{"name": "a", "gateway": "x"}], "未知的键"),
])
def test_bad_accounts_are_refused_at_load_with_the_reason(accounts, problem):
    with pytest.raises(ConfigError, match=problem):
        two_account_config(accounts=accounts)


def test_one_account_serves_only_the_groups_it_lists():
    config = two_account_config(accounts=[
        {"name": "a", "groups": ["奎星楼社区A1A2号居民群", "奎星楼社区网格员工作群"]},
        {"name": "b", "groups": ["奎星楼社区1-6号楼居民群", "东苑小区居民群"]}])
    a, b = config.account("a"), config.account("b")
    assert config.serves(a, "x@chatroom", "奎星楼社区A1A2号居民群")
    assert not config.serves(b, "x@chatroom", "奎星楼社区A1A2号居民群")
    with pytest.raises(ConfigError, match="没有名为 'c' 的账号"):
        config.account("c")


def test_mulin_run_needs_an_existing_account_when_several_are_configured(tmp_path, monkeypatch, capsys):
    from bot.cli.main import main

    data = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
    data["accounts"] = [{"name": "north", "endpoint": "127.0.0.1:1", "token": "insecure_north"},
                        {"name": "south", "endpoint": "127.0.0.1:1", "token": "insecure_south"}]
    path = tmp_path / "street.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    monkeypatch.setenv("MULIN_DATABASE_URL", f"sqlite:///{tmp_path}/m.db")
    assert main(["run", "--config", str(path)]) == 2
    assert "--account" in capsys.readouterr().err
    assert main(["run", "--config", str(path), "--account", "west"]) == 2
    assert "没有名为 'west' 的账号" in capsys.readouterr().err
    assert main(["run", "--config", str(path), "--account", "north"]) == 3  # its own gateway, which is not there
    assert "127.0.0.1:1" in capsys.readouterr().err


def test_replies_in_a_group_go_out_through_the_account_that_lists_it(engine, classifier):
    config = two_account_config(accounts=[
        {"name": "north", "groups": ["奎星楼社区1-6号楼居民群", "东苑小区居民群"]},
        {"name": "south", "groups": ["奎星楼社区A1A2号居民群", "奎星楼社区网格员工作群"]}])

    async def main():
        async with cluster(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            for resident, text in zip(RESIDENTS, COMPLAINTS[:3]):
                await c.post(ROOM, resident, text)
            await c.drain()
            return {s.by for s in c.sent(room=ROOM)}, c.bots[1].sim.self_id
    senders, south = asyncio.run(main())
    assert senders == {south}  # north sits in the group too, but does not serve it
    assert len(tickets(engine)) == 3


def test_a_mention_of_either_account_asks_the_bot_whichever_copy_is_stored(engine, classifier):
    """Both accounts receive every message and one copy is stored; each account's own id is in its node row, so a
    resident's @ of the account whose copy was not stored still asks the bot."""
    config = two_account_config()

    async def main():
        async with cluster(config, engine, classifier, datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)) as c:
            for n, bot in enumerate(c.bots):
                await c.post(ROOM, RESIDENTS[n], "@睦邻助手\u2005A1停车场好多油渍啊" if n == 0 else
                             "@睦邻助手\u2005A2停车场好多油渍啊", mentions=[bot.sim.self_id])
                await c.post(ROOM, RESIDENTS[n + 2], "@睦邻助手\u2005你好", mentions=[bot.sim.self_id])
            await c.post(ROOM, RESIDENTS[5], "A2停车场好多油渍啊")  # told to the group: a vent, not filed
            await c.drain()
            return [s.text for s in c.sent(room=ROOM)]
    sent = asyncio.run(main())
    filed = tickets(engine)
    assert sorted((t.category, t.building) for t in filed) == [("parking", "A1"), ("parking", "A2")]
    assert sum("没看出要登记的问题" in text for text in sent) == 2
