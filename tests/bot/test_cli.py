"""The operator commands, run in-process against a real SQLite file."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from bot.cli import main
from bot.clock import SHANGHAI
from storage import schema
from storage.db import make_engine, new_session
from storage.models import BindCode
from storage.tickets import create_ticket, transition
from sqlmodel import select

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/ops.db"
    monkeypatch.setenv("MULIN_DATABASE_URL", url)
    engine = make_engine(url)
    schema.build(engine)
    yield engine
    engine.dispose()


def test_tickets_lists_filters_and_masks(db, capsys):
    with new_session(db) as session:
        a = create_ticket(session=session, now=NOW, source_message_id="m1", text="A2积水 电话13812345678",
                          category="drainage", category_name="排水", reporter_id="wxid_zhang", reporter_name="张阿姨",
                          building="A2")
        create_ticket(session=session, now=NOW, source_message_id="m2", text="3号楼楼道灯不亮", category="lighting",
                      category_name="照明", reporter_id="wxid_li", reporter_name="李大爷", building="3号楼")
        transition(session=session, ticket=a, action="assigned", actor_id="mulin", now=NOW, assignee_staff_id="wangfang")
        session.commit()
    assert main(["tickets", "--json", "--status", "assigned"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["id"] for r in rows] == [1] and rows[0]["assignee_staff_id"] == "wangfang"
    assert "138****5678" in rows[0]["text"] and "13812345678" not in rows[0]["text"]
    assert main(["tickets"]) == 0
    out = capsys.readouterr().out
    assert "共 2 张工单" in out and "#2" in out and "照明" in out
    assert main(["tickets", "--status", "bogus"]) == 2


def test_staff_invite_prints_a_code_that_is_stored(db, capsys):
    assert main(["staff", "invite", "liuyang"]) == 0
    out = capsys.readouterr().out
    with new_session(db) as session:
        [code] = session.exec(select(BindCode)).all()
    assert f"绑定 {code.code}" in out and code.staff_id == "liuyang"
    assert (code.expires_at - code.created_at).total_seconds() == 24 * 3600


def test_staff_invite_unknown_person(db, capsys):
    assert main(["staff", "invite", "nobody"]) == 2
    assert "没有这位工作人员" in capsys.readouterr().err


def test_run_without_endpoint_exits_3(monkeypatch, capsys):
    monkeypatch.delenv("WECHATY_PUPPET_SERVICE_ENDPOINT", raising=False)
    assert main(["run"]) == 3
    assert "未配置微信网关地址" in capsys.readouterr().err


def test_demo_prints_the_story_and_writes_the_transcript(tmp_path, capsys):
    transcript = tmp_path / "t.jsonl"
    assert main(["demo", "--database", f"sqlite:///{tmp_path}/demo.db", "--transcript-jsonl", str(transcript)]) == 0
    out = capsys.readouterr().out
    assert "张阿姨：A2和百意中间路面存在积水" in out and "工单#1" in out
    records = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    send_keys = {"type", "at", "room", "to", "mentions", "text"}
    ticket_keys = {"type", "at", "ticket", "event", "status", "category", "urgent", "assignee", "reporter", "location"}
    assert all(set(r) == (send_keys if r["type"] == "send" else ticket_keys) for r in records)
    first = [r["event"] for r in records if r["type"] == "ticket" and r["ticket"] == 1]
    assert first[:2] == ["created", "assigned"] and "accepted" in first and "resolved" in first
    assert [r["at"] for r in records] == sorted(r["at"] for r in records)  # in order on the simulated clock
    groups = [r for r in records if r["type"] == "send" and r["room"]]
    assert groups and all("13812345678" not in r["text"] for r in groups)


def test_digest_prints_the_day_and_the_week_with_a_chart(db, capsys, tmp_path):
    with new_session(db) as session:
        for i, day in enumerate((23, 23, 22)):
            at = datetime(2026, 11, day, 10, 0, tzinfo=SHANGHAI)
            ticket = create_ticket(session=session, now=at, source_message_id=f"m{i}", text="A2门口积水",
                                   category="drainage", category_name="排水", reporter_id="wxid_r",
                                   reporter_name="居民", building="A2")
            transition(session=session, ticket=ticket, action="assigned", actor_id="mulin", now=at,
                       assignee_staff_id="wangfang", grid_id="g1")
        session.commit()
    assert main(["digest", "--date", "2026-11-24"]) == 0
    daily = capsys.readouterr().out
    assert "11月23日：新增2件" in daily and "在办共3件" in daily and "热点1处" in daily
    png = tmp_path / "week.png"
    assert main(["digest", "--date", "2026-11-30", "--weekly", "--png", str(png)]) == 0
    weekly = capsys.readouterr().out
    assert "11月23日 周一：新增2" in weekly and "11月24日 周二：新增0" in weekly
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["digest", "--date", "24/11"]) == 2
    street = ["digest", "--config", "examples/street.yaml", "--date", "2026-11-24", "--community"]
    assert main([*street, "dy"]) == 0
    assert "【东苑社区民情日报】" in (dy := capsys.readouterr().out) and "新增0件" in dy and "在办共0件" in dy
    assert main([*street, "kxl"]) == 0
    assert "【奎星楼社区民情日报】" in (kxl := capsys.readouterr().out) and "新增2件" in kxl and "在办共3件" in kxl
    assert main([*street, "nowhere"]) == 2 and "unknown community" in capsys.readouterr().err
