"""Issue 8 exports: tickets made through the real app, exported, then parsed as JSON and opened as a workbook."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.cli import main
from bot.clock import SHANGHAI
from bot.export_cli import export_open311, export_xlsx
from bot.harness import Community
from handlers.export_ledger import KPI_HEADERS, TICKET_HEADERS, TOTAL
from storage import kpi
from storage.db import new_session
from storage.models import Ticket
from storage.tickets import create_ticket, transition

ROOM = "20001@chatroom"
ROOM2 = "20002@chatroom"
PHONE = "13812345678"
ID_NUMBER = "370811198001011234"
WECHAT_IDS = ("wxid_zhang", "wxid_li", "wxid_wangfang", "wxid_zhaoqiang", "wxid_lishuji")
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=SHANGHAI)  # Thursday, after the story


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def story(play, engine):
    """Mon 23 Nov: three complaints; #1 resolved and rated, #2 reopened. Wed 25 Nov: #3 accepted, #4 filed."""
    async def run(c: Community):
        await c.post(ROOM, "wxid_zhang", f"A1楼道灯不亮了，有事打我电话{PHONE}")
        await c.post(ROOM2, "wxid_li", "3号楼电梯又停了，老人上不去楼")
        await c.post(ROOM, "wxid_li", f"A2门口下水道堵了，污水冒出来了，身份证{ID_NUMBER}")
        await c.dm("wxid_wangfang", "接 1")
        await c.dm("wxid_wangfang", f"办结 1 已换灯泡，已电话{PHONE}确认")
        await c.dm("wxid_zhang", "1")
        await c.dm("wxid_wangfang", "办结 3 已疏通")
        await c.dm("wxid_li", "4")
        await c.wait_until(at("2026-11-25T10:00:00"))
        await c.dm("wxid_zhaoqiang", "接 2")
        await c.post(ROOM, "wxid_zhang", "百意楼下垃圾三天没人清运了，味道很大")
    play(run)
    with new_session(engine) as session:
        tickets = {t.id: t for t in session.exec(select(Ticket))}
    assert [tickets[i].status.value for i in (1, 2, 3, 4)] == ["closed", "accepted", "assigned", "assigned"]
    assert tickets[3].reopen_count == 1
    return tickets


def open311(config, database_url: str, since: str | None = None) -> list[dict]:
    out = io.StringIO()
    assert export_open311(config=config, database_url=database_url, since=since, out_path=None, out=out) == 0
    return json.loads(out.getvalue())


def test_open311_fields_statuses_masking_and_times(story, config, database_url):
    requests = {r["service_request_id"]: r for r in open311(config, database_url)}
    assert sorted(requests) == ["1", "2", "3", "4"]
    first = requests["1"]
    assert first["status"] == "closed" and first["service_code"] == "lighting" and first["service_name"] == "照明"
    assert first["description"] == "A1楼道灯不亮了，有事打我电话138****5678"
    assert first["status_notes"] == "已换灯泡，已电话138****5678确认"
    assert first["agency_responsible"] == "第一网格 网格员王芳" and first["address"] == "奎星楼社区A1"
    assert first["rating"] == "satisfied" and first["urgent"] is False
    assert first["requested_datetime"] == story[1].created_at.astimezone(SHANGHAI).isoformat(timespec="seconds")
    assert first["requested_datetime"].startswith("2026-11-23T08:5") and first["requested_datetime"].endswith("+08:00")
    expected = datetime.fromisoformat(first["expected_datetime"])
    assert expected == story[1].resolve_due_at.replace(microsecond=0) and expected.date().isoformat() == "2026-11-30"
    # reopened: open again, and the note is the resident's answer rather than the old resolution
    assert requests["3"]["status"] == "open" and requests["3"]["status_notes"] == "居民回访：没解决"
    assert requests["3"]["reopen_count"] == 1 and "370811********1234" in requests["3"]["description"]
    assert requests["2"]["agency_responsible"] == "第二网格 网格员赵强" and requests["2"]["status"] == "open"
    text = json.dumps(list(requests.values()), ensure_ascii=False)
    assert PHONE not in text and ID_NUMBER not in text and not any(w in text for w in WECHAT_IDS)


def test_open311_since_takes_tickets_filed_or_changed_from_that_day(story, config, database_url):
    since = [r["service_request_id"] for r in open311(config, database_url, since="2026-11-25")]
    assert since == ["2", "4"]  # 2 was accepted on the 25th, 4 filed then; 1 and 3 last moved on the 23rd
    assert open311(config, database_url, since="2026-11-26") == []


def test_open311_of_an_empty_database_is_an_empty_list(engine, config, database_url):
    out = io.StringIO()
    assert export_open311(config=config, database_url=database_url, since=None, out_path=None, out=out) == 0
    assert json.loads(out.getvalue()) == []
