"""`mulin status` from the database while the simulator cuts the gateway link and fails sends, and the
Prometheus endpoint scraped over HTTP."""
from __future__ import annotations

import asyncio
import io
import json
import re
import urllib.request
from datetime import timedelta
from pathlib import Path

from bot.backoff import Backoff
from bot.cli.main import main
from bot.cli.status import DEGRADED, DOWN, HEALTHY, status
from bot.metrics import Metrics
from bot.sim.harness import Community
from storage.db import new_session
from storage.models import Node

ROOM = "20001@chatroom"
CONFIG = str(Path(__file__).resolve().parents[2] / "config.yaml")


def _status(c: Community, database_url: str) -> tuple[int, dict]:
    out = io.StringIO()
    code = status(config=c.config, database_url=database_url, now=c.clock.now(), as_json=True, ack=False, out=out)
    report = json.loads(out.getvalue())
    assert report["code"] == code
    return code, report


async def _until(predicate, timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _link(engine) -> bool | None:
    with new_session(engine) as session:
        return session.get(Node, "(default)").link_up


def test_status_degrades_when_the_link_is_cut_and_recovers(make, engine, database_url):
    async def main_():
        async with make() as c:
            await c.post(ROOM, "wxid_zhang", "A2和百意中间路面存在积水")
            code, report = _status(c, database_url)
            assert (code, report["problems"]) == (HEALTHY, [])
            [account] = report["accounts"]
            assert account["gateway"] == "connected" and account["process"] == "up"
            assert account["last_received"] is not None and report["schema"]["current"] == report["schema"]["head"]
            assert report["last_scan"] is not None

            stop = asyncio.Event()
            keeper = asyncio.create_task(c.transport.keep_connected(stop, backoff=Backoff(initial=1.5, cap=2)))
            c.sim.drop_connections()
            await _until(lambda: _link(engine) is False)
            code, report = _status(c, database_url)
            assert code == DEGRADED and report["accounts"][0]["gateway"] == "disconnected"
            assert any("微信网关断开" in p for p in report["problems"])
            await _until(lambda: _link(engine) is True)
            code, report = _status(c, database_url)
            assert (code, report["accounts"][0]["reconnects"]) == (HEALTHY, 1)
            stop.set()
            await keeper

            # the process stops beating (killed): down
            c.clock.advance(timedelta(minutes=2))
            code, report = _status(c, database_url)
            assert code == DOWN and any("没有心跳" in p for p in report["problems"])
            await c.app.tick()  # it beats and scans again
            assert _status(c, database_url)[0] == HEALTHY
    asyncio.run(main_())


def test_status_degrades_while_a_send_fails_and_after_it_is_given_up_until_acknowledged(
        make, engine, database_url, monkeypatch, capsys):
    async def main_():
        async with make() as c:
            c.sim.fail_next_sends = 1
            await c.post(ROOM, "wxid_zhang", "A2和百意中间路面存在积水")
            code, report = _status(c, database_url)
            assert code == DEGRADED and report["outbox"]["retrying"] >= 1
            assert any("正在重试" in p for p in report["problems"])
            await c.drain()  # the retry goes through
            code, report = _status(c, database_url)
            assert (code, report["outbox"]["retrying"], report["outbox"]["pending"]) == (HEALTHY, 0, 0)

            c.sim.fail_next_sends = 100  # given up after sending.max_attempts
            await c.post(ROOM, "wxid_li", "A1楼道灯不亮了", after=timedelta(minutes=1))
            await c.drain()
            await c.app.tick()  # the process beats on (the drain moved the clock past the heartbeat timeout)
            code, report = _status(c, database_url)
            assert code == DEGRADED and report["outbox"]["failed_unreviewed"] >= 1
            c.sim.fail_next_sends = 0
            return c.clock.now()
    now = asyncio.run(main_())
    # the command line: --ack marks the failure as looked at; the exit code follows
    monkeypatch.setenv("MULIN_DATABASE_URL", database_url)
    monkeypatch.setattr("core.clock.SystemClock.now", lambda self: now)
    assert main(["status", "--config", CONFIG]) == DEGRADED
    assert "多次发送失败已放弃" in capsys.readouterr().out
    assert main(["status", "--config", CONFIG, "--ack"]) == HEALTHY
    assert "发送失败 2 条" in capsys.readouterr().out  # the group's acknowledgement and the worker's notice
    assert main(["status", "--config", CONFIG, "--json"]) == HEALTHY
    assert json.loads(capsys.readouterr().out)["status"] == "healthy"


def test_status_is_down_without_a_database_or_a_process(tmp_path, monkeypatch, capsys):
    config_path = CONFIG
    monkeypatch.setenv("MULIN_DATABASE_URL", "postgresql+psycopg://nobody:secret@127.0.0.1:1/none")
    assert main(["status", "--config", config_path]) == DOWN
    out = capsys.readouterr().out
    assert "停止" in out and "secret" not in out
    monkeypatch.setenv("MULIN_DATABASE_URL", f"sqlite:///{tmp_path}/none.db")
    assert main(["status", "--config", config_path, "--json"]) == DOWN
    assert "数据库文件不存在" in json.loads(capsys.readouterr().out)["problems"][0]
    assert not (tmp_path / "none.db").exists()  # looking did not create it
    (tmp_path / "empty.db").touch()
    monkeypatch.setenv("MULIN_DATABASE_URL", f"sqlite:///{tmp_path}/empty.db")
    assert main(["status", "--config", config_path, "--json"]) == DOWN
    assert "mulin db upgrade" in json.loads(capsys.readouterr().out)["problems"][0]


def _scrape(port: int) -> dict[str, float]:
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    return {m.group(1): float(m.group(2)) for m in re.finditer(r"^(\S+) (\S+)$", text, re.M)}


def test_metrics_endpoint_is_scraped(make, engine):
    async def main_():
        async with make() as c:
            metrics = Metrics(engine)
            c.app.metrics = metrics
            c.app.ticket_observers.append(metrics.on_ticket_event)
            port = metrics.serve("127.0.0.1", 0)
            try:
                before = _scrape(port)
                assert before["mulin_messages_received_total"] == 0
                c.sim.fail_next_sends = 1
                await c.post(ROOM, "wxid_zhang", "A2和百意中间路面存在积水")
                await c.post(ROOM, "wxid_li", "今天天气真不错")
                await c.drain()
                await c.app.tick()
                got = await asyncio.to_thread(_scrape, port)
                assert got["mulin_messages_received_total"] == 2
                assert got["mulin_tickets_filed_total"] == 1
                assert got['mulin_sends_total{outcome="failed"}'] == 1
                assert got['mulin_sends_total{outcome="sent"}'] >= 2  # the group reply and the worker's notice
                assert got['mulin_outbox_messages{state="pending"}'] == 0
                assert got['mulin_gateway_up{account="(default)"}'] == 1
                assert got["mulin_scan_duration_seconds_count"] >= 1
            finally:
                metrics.close()
    asyncio.run(main_())


def test_assess_one_of_two_accounts_stopped_is_degraded_both_down_and_late_work_degrades(street_config):
    from datetime import datetime, timezone

    from core.config import Account
    from bot.cli.status import assess
    from storage import health, schema
    from storage.models import Node

    now = datetime(2026, 12, 6, 8, 0, tzinfo=timezone.utc)
    config = street_config.model_copy(update={"accounts": (Account(name="north"), Account(name="south"))})

    def node(name: str, beat_ago: float, scan_ago: float = 10) -> Node:
        return Node(account=name, instance="i", started_at=now, heartbeat_at=now - timedelta(seconds=beat_ago),
                    link_up=True, link_since=now, reconnects=0, scan_at=now - timedelta(seconds=scan_ago),
                    scan_seconds=0.1)

    def code(*nodes: Node, **inbox) -> tuple[int, list[str]]:
        evidence = health.Evidence(nodes=list(nodes), inbox={"north": health.Inbox(**inbox)})
        report = assess(evidence=evidence, config=config, now=now, schema_at=schema.head())
        return report.code, report.problems

    assert code(node("north", 5), node("south", 5)) == (HEALTHY, [])
    degraded, problems = code(node("north", 5), node("south", 300))
    assert degraded == DEGRADED and problems == ["账号 south：进程没有心跳（最后一次 5分钟前）"]
    assert code(node("north", 300), node("south", 300))[0] == DOWN
    assert code(node("north", 5))[0] == DEGRADED  # south never started
    assert code(node("north", 5, scan_ago=600), node("south", 5))[0] == HEALTHY  # the scan runs in either process
    assert code(node("north", 5, scan_ago=600), node("south", 5, scan_ago=900))[0] == DEGRADED  # none for 10 min
    late, problems = code(node("north", 5), node("south", 5), received=1, oldest_waiting=now - timedelta(minutes=9))
    assert late == DEGRADED and "还没处理完" in problems[0]
    assert code(node("north", 5), node("south", 5), received=1, oldest_waiting=now - timedelta(minutes=1))[0] == HEALTHY
