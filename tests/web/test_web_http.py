"""The console over real HTTP (uvicorn, httpx) on SQLite and PostgreSQL: login, scope, the pages, CSRF, downloads."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

from openpyxl import load_workbook
from sqlmodel import select

from handlers.export.open311 import service_requests
from storage.db import new_session
from storage.export import latest_notes
from storage.models import OutboxMessage, Ticket, TicketEvent

LOGIN_PAGE = "/login"


def _numbers(html: str) -> list[int]:
    return sorted({int(n) for n in re.findall(r'href="/tickets/(\d+)"', html)})


def test_nothing_without_login_and_no_ticket_text_leaks(console):
    client = console.browser()
    for path in ("/tickets", "/tickets/1", "/dashboard", "/tickets.xlsx", "/tickets.open311.json", "/tickets?q=A1"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(LOGIN_PAGE), path
        assert "楼道灯" not in response.text and "电梯" not in response.text
    page = client.get("/login")
    assert page.status_code == 200 and "楼道灯" not in page.text and "工号" in page.text


def test_a_link_logs_in_once_within_ten_minutes(console):
    token = console.link("wangfang")
    client = console.browser()
    first = client.get(f"/login/link/{token}")
    assert first.status_code == 303 and first.headers["location"] == "/tickets"
    cookie = first.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie and "max-age=28800" in cookie
    assert client.get("/tickets").status_code == 200
    again = console.browser().get(f"/login/link/{token}")
    assert again.status_code == 400 and "已用过或已过期" in again.text
    late = console.link("wangfang")
    console.advance(timedelta(minutes=10, seconds=1))
    assert console.browser().get(f"/login/link/{late}").status_code == 400


def test_the_session_cookie_is_secure_over_https(console):
    client = console.browser()
    response = client.get(f"/login/link/{console.link('lishuji')}", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 303 and "secure" in response.headers["set-cookie"].lower()


def test_a_grid_worker_sees_only_their_grids(console):
    client = console.logged_in("wangfang")  # grid g1: tickets 1 and 4
    assert _numbers(client.get("/tickets").text) == [1, 4]
    assert client.get("/tickets/1").status_code == 200
    for other in (2, 3, 999):
        response = client.get(f"/tickets/{other}")
        assert response.status_code == 404 and "电梯" not in response.text and "东苑垃圾" not in response.text
    assert _numbers(client.get("/tickets?q=电梯").text) == []
    book = load_workbook(io.BytesIO(client.get("/tickets.xlsx").content))
    assert [row[0] for row in book["工单台账"].iter_rows(min_row=2, values_only=True)] == [1, 4]
    assert [row[0] for row in book["网格KPI"].iter_rows(min_row=2, values_only=True)] == ["第一网格", "合计"]
    assert [r["service_request_id"] for r in client.get("/tickets.open311.json").json()] == ["1", "4"]
    console.advance(timedelta(minutes=1))
    dashboard = client.get("/dashboard").text
    assert "第二网格" not in dashboard and "<b>2</b>今日新增" in dashboard and "<b>2</b>近30天新增" in dashboard


def test_a_secretary_sees_their_community_and_the_street_everything(console):
    assert _numbers(console.logged_in("lishuji").get("/tickets").text) == [1, 4]
    chen = console.logged_in("chenshuji")
    assert _numbers(chen.get("/tickets").text) == [2, 3]
    assert chen.get("/tickets/1").status_code == 404
    assert _numbers(console.logged_in("jiedao").get("/tickets").text) == [1, 2, 3, 4]


def test_the_ledger_filters_pages_and_masks(console):
    client = console.logged_in("jiedao")
    page = client.get("/tickets").text
    assert "138****5678" in page and "13812345678" not in page
    assert _numbers(client.get("/tickets?urgent=1").text) == [2]
    assert _numbers(client.get("/tickets?grid=g1").text) == [1, 4]
    assert _numbers(client.get("/tickets?category=drainage").text) == [4]
    assert _numbers(client.get("/tickets?q=垃圾").text) == [3]
    assert _numbers(client.get("/tickets?q=%234").text) == [4]
    assert _numbers(client.get("/tickets?status=assigned").text) == [1, 2, 3, 4]
    assert _numbers(client.get("/tickets?status=closed").text) == []
    assert _numbers(client.get("/tickets?end=2026-11-22").text) == []
    assert _numbers(client.get("/tickets?start=2026-11-23&end=2026-11-23").text) == [1, 2, 3, 4]
    bad = client.get("/tickets?start=yesterday&status=nonsense")
    assert bad.status_code == 200 and "开始日期应为" in bad.text and _numbers(bad.text) == [1, 2, 3, 4]
    assert _numbers(client.get("/tickets?overdue=1").text) == []
    console.advance(timedelta(days=2))  # the urgent lift ticket (1 h to accept) and the 1-working-day accepts
    client = console.logged_in("jiedao")  # the session before lasted 8 hours
    overdue = client.get("/tickets?overdue=1").text
    assert _numbers(overdue) == [1, 2, 3, 4] and "超时" in overdue
    console.seed([("g3", "东苑", "sanitation", "环境卫生", False, f"东苑第{n}号垃圾桶满了") for n in range(55)])
    first = client.get("/tickets?grid=g3&sort=created").text
    assert "第1/2页" in first and len(_numbers(first)) == 50 and _numbers(first)[0] == 3
    second = client.get("/tickets?grid=g3&sort=created&page=2").text
    assert len(_numbers(second)) == 6 and _numbers(second)[-1] == 59


def test_a_ticket_page_shows_the_whole_case(console):
    page = console.logged_in("lishuji").get("/tickets/1").text
    for expected in ("A1楼道灯不亮了", "138****5678", "居民0", "登记", "指派", "按楼栋派单", "王芳", "办结期限"):
        assert expected in page, expected
    assert "13812345678" not in page


def test_a_post_without_its_form_token_is_refused(console):
    client = console.logged_in("lishuji")
    token = console.token(client.get("/tickets/1").text)
    for data in ({"note": "请今天处理"}, {"note": "请今天处理", "csrf": "forged"}):
        response = client.post("/tickets/1/supervise", data=data)
        assert response.status_code == 403 and "请求无效" in response.text
    other = console.logged_in("jiedao")  # another session's token is no good either
    assert other.post("/tickets/1/supervise", data={"note": "x", "csrf": token}).status_code == 403
    assert console.browser().post("/login", data={"staff_id": "lishuji"}).status_code == 403
    assert client.post("/logout", data={}).status_code == 403
    with new_session(console.engine) as session:
        assert not session.exec(select(TicketEvent).where(TicketEvent.kind == "supervised")).all()
        assert not session.exec(select(OutboxMessage).where(OutboxMessage.text.contains("验证码"))).all()


def test_logout_ends_the_session(console):
    client = console.logged_in("lishuji")
    cookie = client.cookies.get("mulin_session")
    response = client.post("/logout", data={"csrf": console.token(client.get("/tickets").text)})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert client.get("/tickets").status_code == 303
    stolen = console.browser()
    stolen.cookies.set("mulin_session", cookie)
    assert stolen.get("/tickets").status_code == 303


def test_a_session_lasts_eight_hours(console):
    client = console.logged_in("lishuji")
    console.advance(timedelta(hours=7, minutes=59))
    assert client.get("/tickets").status_code == 200
    console.advance(timedelta(minutes=2))
    assert client.get("/tickets").status_code == 303


def _ask_code(console, staff_id: str):  # noqa: ANN001,ANN202
    client = console.browser()
    token = console.token(client.get("/login").text)
    response = client.post("/login", data={"staff_id": staff_id, "csrf": token})
    assert response.status_code == 303 and "/login/code" in response.headers["location"]
    return client, token


def _code_of(console, wechat_id: str) -> str:  # noqa: ANN001
    return re.search(r"验证码：(\d{6})", console.outbox_to(wechat_id)[-1]).group(1)


def test_login_by_a_code_sent_through_the_outbox(console):
    client, token = _ask_code(console, "lishuji")
    code = _code_of(console, "wxid_lishuji")
    with new_session(console.engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.to_id == "wxid_lishuji")).one()
        assert row.urgent and row.state.value == "pending"  # the bot process sends it, even in quiet hours
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    refused = client.post("/login/code", data={"staff": "lishuji", "code": wrong, "csrf": token})
    assert refused.status_code == 400 and "还可以再试4次" in refused.text
    done = client.post("/login/code", data={"staff": "lishuji", "code": code, "csrf": token})
    assert done.status_code == 303 and client.get("/tickets").status_code == 200
    again = console.browser()
    again.cookies.set("mulin_login", token)
    assert again.post("/login/code", data={"staff": "lishuji", "code": code, "csrf": token}).status_code == 400


def test_unknown_staff_get_the_same_answer_and_no_message(console):
    _, _ = _ask_code(console, "nobody")
    with new_session(console.engine) as session:
        assert not session.exec(select(OutboxMessage).where(OutboxMessage.text.contains("验证码"))).all()


def test_a_code_expires_after_five_minutes_and_codes_wait_a_minute(console):
    client, token = _ask_code(console, "wangfang")
    code = _code_of(console, "wxid_wangfang")
    _ask_code(console, "wangfang")  # within a minute: no second message
    assert len([t for t in console.outbox_to("wxid_wangfang") if "验证码" in t]) == 1
    console.advance(timedelta(minutes=5, seconds=1))
    assert client.post("/login/code", data={"staff": "wangfang", "code": code, "csrf": token}).status_code == 400


def test_five_wrong_codes_lock_the_staff_id_for_fifteen_minutes(console):
    client, token = _ask_code(console, "wangfang")
    code = _code_of(console, "wxid_wangfang")
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert client.post("/login/code", data={"staff": "wangfang", "code": wrong, "csrf": token}).status_code == 400
    locked = client.post("/login/code", data={"staff": "wangfang", "code": code, "csrf": token})
    assert locked.status_code == 400 and "锁定15分钟" in locked.text
    console.advance(timedelta(minutes=15, seconds=1))
    client, token = _ask_code(console, "wangfang")
    fresh = _code_of(console, "wxid_wangfang")
    assert client.post("/login/code", data={"staff": "wangfang", "code": fresh, "csrf": token}).status_code == 303


def test_secretary_actions_go_through_the_chat_commands(console):
    client = console.logged_in("lishuji")
    token = console.token(client.get("/tickets/1").text)
    done = client.post("/tickets/1/supervise", data={"note": "请今天处理", "csrf": token})
    assert done.status_code == 303
    assert done.headers["location"] == "/tickets/1?done=supervise"
    assert "已督办，网格员会在微信里收到。" in client.get(done.headers["location"]).text
    assert "请拨打" not in client.get("/tickets/1?done=系统升级请拨打4001234567").text  # a link cannot write the notice
    assert any("【督办】工单#1" in text and "请今天处理" in text for text in console.outbox_to("wxid_wangfang"))
    with new_session(console.engine) as session:
        before = session.get(Ticket, 4).resolve_due_at
    assert client.post("/tickets/4/extend", data={"days": "3", "note": "等配件", "csrf": token}).status_code == 303
    assert client.post("/tickets/1/assign", data={"worker": "zhaoqiang", "csrf": token}).status_code == 303
    with new_session(console.engine) as session:
        assert session.get(Ticket, 4).resolve_due_at > before and session.get(Ticket, 4).extension_days == 3
        assert session.get(Ticket, 1).assignee_staff_id == "zhaoqiang"
        kinds = [e.kind for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == 1))]
        assert kinds == ["created", "assigned", "supervised", "assigned"]
    assert any("工单#1" in text for text in console.outbox_to("wxid_zhaoqiang"))
    too_long = client.post("/tickets/4/extend", data={"days": "9", "note": "再等等", "csrf": token})
    assert too_long.status_code == 400 and "不能超过10个工作日" in too_long.text
    assert client.post("/tickets/4/assign", data={"worker": "lishuji", "csrf": token}).status_code == 400
    worker = console.logged_in("wangfang")
    page = worker.get("/tickets/4").text
    assert "书记操作" not in page
    assert worker.post("/tickets/4/supervise", data={"note": "x", "csrf": console.token(page)}).status_code == 403
    chen = console.logged_in("chenshuji")  # another community's secretary: the ticket does not exist for them
    assert chen.post("/tickets/4/supervise", data={"note": "x", "csrf": console.token(chen.get("/tickets").text)}).status_code == 404


def test_open311_needs_a_key_and_gives_the_export_fields(console):
    anonymous = console.browser()
    for path in ("/open311/v2/services.json", "/open311/v2/requests.json", "/open311/v2/requests/1.json"):
        for query in ("", "?api_key=wrong"):
            response = anonymous.get(path + query)
            assert response.status_code == 401 and response.json()[0]["code"] == 401, path
            assert "楼道灯" not in response.text and "service_request_id" not in response.text
    key = "?api_key=street-key-0123456789abcdef"
    services = anonymous.get("/open311/v2/services.json" + key).json()
    assert {"service_code": "lighting", "service_name": "照明"}.items() <= next(
        s for s in services if s["service_code"] == "lighting").items()
    requests = anonymous.get("/open311/v2/requests.json" + key).json()
    with new_session(console.engine) as session:
        expected = service_requests(list(session.exec(select(Ticket).order_by(Ticket.id))), config=console.config,
                                    tz=console.config.tz, notes=latest_notes(session=session, since=None))
    assert sorted(requests, key=lambda r: int(r["service_request_id"])) == json.loads(json.dumps(expected))
    assert "138****5678" in json.dumps(requests, ensure_ascii=False)
    one = anonymous.get("/open311/v2/requests/2.json" + key).json()
    assert [r["service_request_id"] for r in one] == ["2"] and one[0]["urgent"] is True
    assert anonymous.get("/open311/v2/requests/99.json" + key).status_code == 404

    def ids(query: str) -> list[str]:
        return sorted(r["service_request_id"] for r in anonymous.get(f"/open311/v2/requests.json{key}&{query}").json())
    assert ids("service_code=drainage,lighting") == ["1", "4"]
    assert ids("service_request_id=3,4") == ["3", "4"]
    assert ids("status=open") == ["1", "2", "3", "4"] and ids("status=closed") == []
    assert ids("start_date=2026-11-24T00:00:00%2B08:00") == []
    assert ids("end_date=2026-11-23T23:59:59%2B08:00") == ["1", "2", "3", "4"]
    assert anonymous.get(f"/open311/v2/requests.json{key}&start_date=soon").status_code == 400
    limited = "?api_key=dongyuan-key-0123456789abcdef"
    assert sorted(r["service_request_id"] for r in anonymous.get("/open311/v2/requests.json" + limited).json()) == ["2", "3"]
    assert anonymous.get("/open311/v2/requests/1.json" + limited).status_code == 404


def test_login_goes_back_only_to_a_page_of_this_site(console):
    for target, landing in (("/tickets/4", "/tickets/4"), ("//evil.example", "/tickets"), ("/\\evil.example", "/tickets"),
                            ("https://evil.example", "/tickets")):
        console.advance(timedelta(minutes=2))  # a new code may be asked for after a minute
        client, token = _ask_code(console, "lishuji")
        done = client.post("/login/code", data={"staff": "lishuji", "code": _code_of(console, "wxid_lishuji"),
                                                "csrf": token, "next": target})
        assert done.status_code == 303 and done.headers["location"] == landing, target


def test_open311_without_dates_gives_every_ticket_however_old(console):
    console.advance(timedelta(days=200))
    found = console.browser().get("/open311/v2/requests.json?api_key=street-key-0123456789abcdef").json()
    assert [r["service_request_id"] for r in found] == ["4", "3", "2", "1"]  # newest first (same time: by number)
