"""The operator commands, run in-process against a real SQLite file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from bot.cli.main import main
from storage import schema
from storage.db import make_engine, new_session
from storage.models import BindCode, StaffBinding
from storage.tickets import create_ticket, transition
from sqlmodel import select

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
ROOT = Path(__file__).resolve().parents[3]


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


@pytest.fixture
def unbound(tmp_path) -> str:
    """config.yaml with 刘洋 not bound in the file: he binds with a code."""
    text = (ROOT / "config.yaml").read_text(encoding="utf-8")
    assert text.count(", wechat_id: wxid_liuyang}") == 1
    path = tmp_path / "unbound.yaml"
    path.write_text(text.replace(", wechat_id: wxid_liuyang}", "}"), encoding="utf-8")
    return str(path)


def test_staff_invite_prints_a_code_that_is_stored(db, unbound, capsys):
    assert main(["staff", "invite", "liuyang", "--config", unbound]) == 0
    out = capsys.readouterr().out
    with new_session(db) as session:
        [code] = session.exec(select(BindCode)).all()
    assert f"绑定 {code.code}" in out and code.staff_id == "liuyang" and "已绑定" not in out
    assert (code.expires_at - code.created_at).total_seconds() == 24 * 3600


def test_staff_invite_for_a_worker_bound_in_the_config_says_so_and_makes_no_code(db, capsys):
    assert main(["staff", "invite", "wangfang"]) == 1
    err = capsys.readouterr().err
    assert "王芳 已在配置文件中绑定微信 wxid_wangfang" in err and "wechat_id" in err
    with new_session(db) as session:
        assert session.exec(select(BindCode)).all() == []


def test_staff_invite_for_a_worker_bound_by_an_earlier_code_says_so(db, unbound, capsys):
    with new_session(db) as session:
        session.add(StaffBinding(staff_id="liuyang", wechat_id="wxid_liuyang_old", bound_at=NOW))
        session.commit()
    assert main(["staff", "invite", "liuyang", "--config", unbound]) == 0
    out = capsys.readouterr().out
    assert "刘洋 已绑定微信 wxid_liuyang_old" in out and "绑定 " in out


def test_tickets_show_control_characters_instead_of_obeying_them(db, capsys):
    with new_session(db) as session:
        create_ticket(session=session, now=NOW, source_message_id="m1", text="A2积水\x1b[2J\x1b[31m\r#9 已办结\x07",
                      category="drainage", category_name="排水", reporter_id="wxid_zhang",
                      reporter_name="张\x1b]0;title\x07阿姨\u202e", building="A2")
        session.commit()
    assert main(["tickets"]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in "\x1b\r\x07\u202e")
    assert "A2积水\\x1b[2J\\x1b[31m\\r#9 已办结\\x07" in out and "张\\x1b]0;title\\x07阿姨\\u202e" in out


def test_tickets_into_a_closed_pipe_stop_quietly(db, tmp_path):
    """`mulin tickets | head -1`: more output than a pipe holds, the reader gone after one line."""
    with new_session(db) as session:
        for i in range(800):
            create_ticket(session=session, now=NOW, source_message_id=f"m{i}", text=f"{i}号楼楼道灯不亮了，晚上上楼看不见，老人孩子都不方便",
                          category="lighting", category_name="照明", reporter_id="wxid_r", reporter_name="居民")
        session.commit()
    env = {**os.environ, "MULIN_DATABASE_URL": str(db.url)}
    done = subprocess.run(f"{sys.executable} -m bot.cli tickets | head -n 1", shell=True, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("#1 ")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


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
