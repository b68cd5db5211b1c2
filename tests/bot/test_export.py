"""Issue 8 exports: tickets made through the real app, exported, then parsed as JSON and opened as a workbook."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from bot.cli.main import main
from bot.cli.export import export_open311, export_xlsx
from bot.sim.harness import Community
from handlers.export.ledger import KPI_HEADERS, TICKET_HEADERS, TOTAL
from storage import kpi
from storage.db import new_session
from storage.export import save_review
from storage.models import Ticket
from storage.tickets import create_ticket, transition

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

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



def test_open311_address_names_the_street_and_the_tickets_community(story, street_config, database_url):
    requests = {r["service_request_id"]: r for r in open311(street_config, database_url)}
    assert requests["1"]["address"] == "奎星楼街道奎星楼社区A1" and requests["2"]["address"] == "奎星楼街道东苑社区3号楼"

def test_open311_since_takes_tickets_filed_or_changed_from_that_day(story, config, database_url):
    since = [r["service_request_id"] for r in open311(config, database_url, since="2026-11-25")]
    assert since == ["2", "4"]  # 2 was accepted on the 25th, 4 filed then; 1 and 3 last moved on the 23rd
    assert open311(config, database_url, since="2026-11-26") == []


def test_open311_of_an_empty_database_is_an_empty_list(engine, config, database_url):
    out = io.StringIO()
    assert export_open311(config=config, database_url=database_url, since=None, out_path=None, out=out) == 0
    assert json.loads(out.getvalue()) == []


def every_value(book) -> str:
    return "\n".join(str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for v in row)


def test_xlsx_ledger_rows_masking_and_datetimes(story, config, database_url, tmp_path):
    path = tmp_path / "ledger.xlsx"
    assert export_xlsx(config=config, database_url=database_url, since=None, out_path=str(path), now=NOW,
                       out=io.StringIO()) == 0
    book = load_workbook(path)
    assert book.sheetnames == ["工单台账", "网格KPI", "说明"]
    sheet = book["工单台账"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == TICKET_HEADERS and len(rows) == 5 and sheet.freeze_panes == "A2"
    first = dict(zip(TICKET_HEADERS, rows[1]))
    assert first["工单号"] == 1 and first["反映人"] == "张**" and first["网格员"] == "王芳" and first["满意度"] == "满意"
    assert first["来源群"] == "奎星楼社区A1A2号居民群" and first["是否超期"] == "否" and first["重办次数"] == 0
    assert first["诉求内容"] == "A1楼道灯不亮了，有事打我电话138****5678"
    assert first["受理时间"] == story[1].created_at.astimezone(SHANGHAI).replace(tzinfo=None)
    assert first["办理时限"] == story[1].resolve_due_at.astimezone(SHANGHAI).replace(tzinfo=None)
    created = sheet.cell(row=2, column=TICKET_HEADERS.index("受理时间") + 1)
    assert created.is_date and created.number_format == "yyyy-mm-dd hh:mm"
    reopened = dict(zip(TICKET_HEADERS, rows[3]))
    assert reopened["重办次数"] == 1 and reopened["办理结果"] is None and reopened["办结时间"] is None
    assert sheet.column_dimensions["D"].width > sheet.column_dimensions["A"].width
    text = every_value(book)
    assert PHONE not in text and ID_NUMBER not in text and not any(w in text for w in WECHAT_IDS)
    assert "张阿姨" not in text and "李大爷" not in text


def test_xlsx_kpi_sheet_equals_storage_kpi(story, config, database_url, engine, tmp_path):
    path = tmp_path / "ledger.xlsx"
    assert export_xlsx(config=config, database_url=database_url, since="2026-11-23", out_path=str(path), now=NOW,
                       out=io.StringIO()) == 0
    rows = list(load_workbook(path)["网格KPI"].iter_rows(values_only=True))
    assert rows[0] == KPI_HEADERS
    by_name = {row[0]: row for row in rows[1:]}
    assert list(by_name) == ["第一网格", "第二网格", "第三网格", TOTAL]
    with new_session(engine) as session:
        since = at("2026-11-23T00:00:00")
        grids = kpi.kpis_by_grid(session=session, since=since, until=NOW, now=NOW)
        total = kpi.kpis(session=session, since=since, until=NOW, now=NOW)
    expected = {"第一网格": grids["g1"], "第二网格": grids["g2"], "第三网格": kpi.Kpis(), TOTAL: total}
    for name, numbers in expected.items():
        row = by_name[name]
        assert row[2] == numbers.tickets
        assert list(row[3:]) == [pytest.approx(v) if v is not None else "—" for v in numbers.rates().values()]
    assert by_name["第一网格"][2] == 3 and by_name[TOTAL][2] == 4 and by_name["第一网格"][1] == "王芳"
    notes = dict(list(load_workbook(path)["说明"].iter_rows(values_only=True))[1:])
    assert notes["KPI统计区间"].startswith("2026-11-23 00:00 至 2026-11-26 09:00")
    assert notes["生成时间"] == datetime(2026, 11, 26, 9, 0) and notes["满意率"] == kpi.KPI_DEFINITIONS["满意率"]


def test_xlsx_kpis_default_to_the_digest_window(story, config, database_url, tmp_path):
    path = tmp_path / "ledger.xlsx"
    later = at("2026-11-24T12:00:00") + timedelta(days=config.digest.kpi_days)  # Monday's three fall out
    assert export_xlsx(config=config, database_url=database_url, since=None, out_path=str(path), now=later,
                       out=io.StringIO()) == 0
    book = load_workbook(path)
    totals = {row[0]: row[2] for row in book["网格KPI"].iter_rows(values_only=True)}
    assert totals[TOTAL] == 1 and book["工单台账"].max_row == 5


def test_cli_writes_both_exports(engine, database_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("MULIN_DATABASE_URL", database_url)
    with new_session(engine) as session:
        old = create_ticket(session=session, now=at("2026-11-20T10:00:00"), source_message_id="m1", text="3号楼楼道灯不亮",
                            category="lighting", category_name="照明", reporter_id="wxid_li", reporter_name="李大爷",
                            building="3号楼", room_topic="奎星楼社区1-6号楼居民群")
        new = create_ticket(session=session, now=at("2026-11-23T09:00:00"), source_message_id="m2",
                            text=f"A2积水 电话{PHONE}", category="drainage", category_name="排水",
                            reporter_id="wxid_zhang", reporter_name="张阿姨", building="A2")
        transition(session=session, ticket=new, action="assigned", actor_id="mulin", now=at("2026-11-23T09:00:01"),
                   assignee_staff_id="wangfang", grid_id="g1", note="按楼栋派单")
        session.commit()
        old_id, new_id = old.id, new.id
    assert main(["export", "open311", "--since", "2026-11-21"]) == 0
    [request] = json.loads(capsys.readouterr().out)
    assert request["service_request_id"] == str(new_id) and request["status_notes"] == "按楼栋派单"
    assert request["description"] == "A2积水 电话138****5678" and request["expected_datetime"] is None
    target = tmp_path / "open311.json"
    assert main(["export", "open311", "--out", str(target)]) == 0
    assert [r["service_request_id"] for r in json.loads(target.read_text(encoding="utf-8"))] == [str(old_id), str(new_id)]
    ledger = tmp_path / "台账.xlsx"
    assert main(["export", "xlsx", "--out", str(ledger)]) == 0
    assert f"台账已写入 {ledger}（2 张工单）" in capsys.readouterr().out
    rows = list(load_workbook(ledger)["工单台账"].iter_rows(values_only=True))
    assert [(r[0], r[6], r[7]) for r in rows[1:]] == [(old_id, "李**", "奎星楼社区1-6号楼居民群"), (new_id, "张**", "私聊")]
    assert main(["export", "xlsx", "--since", "23/11/2026"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


HOSTILE = ["=HYPERLINK(\"http://evil.example/x\",\"点击查看详情\") A1楼道灯不亮", "  =1+2 A2积水", "+cmd|' /C calc'!A0 门坏了",
           "-2+3 百意楼垃圾", "@SUM(1+1) 路灯坏了", "A1电梯停了\x07\x1b[31m红色\x1b[0m", "\t=2*3 A2下水道堵了"]


def test_xlsx_writes_control_characters_and_formulas_as_plain_text(engine, database_url, monkeypatch, tmp_path):
    import zipfile

    monkeypatch.setenv("MULIN_DATABASE_URL", database_url)
    with new_session(engine) as session:
        for n, text in enumerate(HOSTILE):
            create_ticket(session=session, now=at("2026-11-23T09:00:00") + timedelta(minutes=n), source_message_id=f"m{n}",
                          text=text, category="lighting", category_name="照明", reporter_id=f"wxid_{n}",
                          reporter_name="=张\x1b阿姨", building="A1")
        session.commit()
    ledger = tmp_path / "台账.xlsx"
    assert main(["export", "xlsx", "--out", str(ledger)]) == 0
    with zipfile.ZipFile(ledger) as archive:
        assert not any("<f>" in archive.read(name).decode("utf-8") for name in archive.namelist()
                       if name.startswith("xl/worksheets/"))
    sheet = load_workbook(ledger)["工单台账"]
    column = TICKET_HEADERS.index("诉求内容") + 1
    cells = [sheet.cell(row=r, column=column) for r in range(2, 2 + len(HOSTILE))]
    assert all(c.data_type == "s" for c in cells)
    assert [c.value for c in cells[:5]] == HOSTILE[:5]  # written as the resident wrote it, never evaluated
    assert cells[5].value == "A1电梯停了红色"  # the bell and the colour codes are dropped
    assert all(c.quotePrefix for c in cells[:5] + cells[6:])
    names = {sheet.cell(row=r, column=TICKET_HEADERS.index("反映人") + 1).value for r in range(2, 2 + len(HOSTILE))}
    assert names == {"=****"}


def test_corrections_are_the_staffs_filings_and_voids_as_labelled_lines(engine, config, database_url, monkeypatch,
                                                                       capsys, tmp_path):
    """A staff member filed one message by hand and voided one ticket; the classifier's own ticket is no correction."""
    monkeypatch.setenv("MULIN_DATABASE_URL", database_url)
    when = at("2026-11-23T09:00:00")
    with new_session(engine) as session:
        filed = create_ticket(session=session, now=when, source_message_id="m1", text=f"停车场好多油渍啊 {PHONE}",
                              category="parking", category_name="停车与充电", reporter_id="wxid_zhang",
                              reporter_name="张阿姨", created_by="wxid_wangfang", note="王芳代为登记（机器人未识别为诉求）")
        chatter = create_ticket(session=session, now=when, source_message_id="m2", text="爪机也快停电了",
                                category="power", category_name="供电", reporter_id="wxid_li", reporter_name="李大爷")
        create_ticket(session=session, now=when, source_message_id="m3", text="A2积水", category="drainage",
                      category_name="排水", reporter_id="wxid_li", reporter_name="李大爷")
        transition(session=session, ticket=chatter, action="voided", actor_id="wxid_wangfang",
                   now=when + timedelta(minutes=5), note="说的是手机没电")
        session.commit()
        filed_id, chatter_id = filed.id, chatter.id
    assert main(["export", "corrections"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["source"], r["expect_request"], r["expect_category"]) for r in lines] == [
        (f"mulin:ticket#{filed_id}", True, "parking"), (f"mulin:ticket#{chatter_id}", False, None)]
    assert lines[0]["text"] == "停车场好多油渍啊 138****5678" and lines[1]["why"] == "staff voided"
    # the lines train once a person has read them (classifier.train, tests/data/classifier/groups), never before
    from classifier.train import UnreviewedLine, group_records

    exported = tmp_path / "fixes.jsonl"
    exported.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    with pytest.raises(UnreviewedLine, match="fixes.jsonl:1: no reviewed_by"):
        group_records([exported])
    exported.write_text("".join(json.dumps({**r, "reviewed_by": "李书记"}, ensure_ascii=False) + "\n" for r in lines),
                        encoding="utf-8")
    assert [(r["source"], r["expect_request"]) for r in group_records([exported])] == [
        (f"mulin:ticket#{filed_id}", True), (f"mulin:ticket#{chatter_id}", False)]
    # a secretary signs one line on the console's 更正审核 page, correcting its category: --reviewed gives it alone,
    # with the signed labels and name, and training takes it as it is
    with new_session(engine) as session:
        save_review(session=session, ticket_id=filed_id, is_request=True, category="sanitation", urgent=False,
                    reviewer_id="lishuji", reviewer_name="李书记", now=when + timedelta(days=1))
        session.commit()
    assert main(["export", "corrections", "--reviewed"]) == 0
    signed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["source"], r["expect_category"], r["reviewed_by"]) for r in signed] == [
        (f"mulin:ticket#{filed_id}", "sanitation", "李书记")]
    exported.write_text(json.dumps(signed[0], ensure_ascii=False) + "\n", encoding="utf-8")
    assert [r["expect_category"] for r in group_records([exported])] == ["sanitation"]
    assert main(["export", "corrections"]) == 0
    assert [json.loads(line)["reviewed_by"] for line in capsys.readouterr().out.splitlines()] == ["李书记", None]
    ledger = tmp_path / "台账.xlsx"
    assert main(["export", "xlsx", "--out", str(ledger)]) == 0
    rows = {r[0]: r for r in load_workbook(ledger)["工单台账"].iter_rows(values_only=True)}
    result = TICKET_HEADERS.index("办理结果")
    assert rows[chatter_id][result] == "已撤销（不是诉求）" and rows[filed_id][result] in ("", None)
    requests = {r["service_request_id"]: r for r in open311(config, database_url)}
    # the staff's reason ("说的是手机没电") is for the secretaries; the street office sees that it was no request
    assert (requests[str(chatter_id)]["status"], requests[str(chatter_id)]["status_notes"]) == ("closed", "已撤销（不是诉求）")
