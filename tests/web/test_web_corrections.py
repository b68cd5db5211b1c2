"""更正审核 over real HTTP (uvicorn, httpx) on SQLite and PostgreSQL: a secretary or the street office signs the labels
of the staff's corrections (a message filed by hand, a ticket voided), within their scope, and downloads the signed
lines that classifier.train accepts."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from classifier.train import UnreviewedLine, group_records
from storage.db import new_session
from storage.models import LabelReview, Ticket
from storage.tickets import transition

MISSED = (("g1", "A1", "lighting", "照明", False, "楼道里黑漆漆的，摔了一跤，电话13812345678"),)


@pytest.fixture
def corrected(console):
    """#4 (奎星楼, g1) and #2 (东苑, g2) voided by their workers, #5 (奎星楼, g1) filed by 王芳 by hand."""
    with new_session(console.engine) as session:
        for number, actor, note in ((4, "wxid_wangfang", "邻居之间说笑，不是诉求"), (2, "wxid_zhaoqiang", "是演习通知")):
            transition(session=session, ticket=session.get(Ticket, number), action="voided", actor_id=actor,
                       now=console.clock.now(), note=note)
        session.commit()
    console.advance(timedelta(minutes=5))
    assert console.seed(MISSED, created_by="wxid_wangfang") == [5]
    return console


def _cards(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<section class="card correction" id="c(\d+)"', html)]


def _form(client, **fields) -> dict:  # noqa: ANN001
    page = client.get("/corrections?show=all").text
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', page).group(1), **fields}


def _reviews(console) -> dict[int, tuple]:  # noqa: ANN001
    with new_session(console.engine) as session:
        return {r.ticket_id: (r.is_request, r.category, r.urgent, r.reviewer_name)
                for r in session.exec(select(LabelReview))}


def test_a_secretary_signs_the_corrections_of_their_community(corrected, tmp_path):
    li = corrected.logged_in("lishuji")
    page = li.get("/corrections")
    assert page.status_code == 200 and _cards(page.text) == [5, 4]  # newest first; 东苑's #2 is not theirs
    assert "待审2条" in page.text and "138****5678" in page.text and "13812345678" not in page.text
    assert "邻居之间说笑" in page.text and "机器人曾分为：排水" in page.text  # the staff's reason, the bot's category
    assert 'href="/corrections"' in li.get("/tickets").text  # the menu names the page for a secretary

    done = li.post("/corrections/5", data=_form(li, request="1", category="lighting", urgent="1"))
    assert done.status_code == 303 and "已审核" in li.get(done.headers["location"]).text
    assert _reviews(corrected) == {5: (True, "lighting", True, "李书记")}
    page = li.get("/corrections").text
    assert _cards(page) == [4] and "待审1条" in page and "已审1条" in page
    assert "已审：是诉求 · 照明 · 紧急（李书记" in li.get("/corrections?show=all").text

    # the select stays filled when 不是诉求 is chosen: a non-request keeps no category
    assert li.post("/corrections/4", data=_form(li, request="0", category="drainage")).status_code == 303
    corrected.advance(timedelta(minutes=1))
    # read again: the second reading replaces the first
    assert li.post("/corrections/5", data=_form(li, request="1", category="lighting")).status_code == 303
    assert _reviews(corrected) == {4: (False, None, False, "李书记"), 5: (True, "lighting", False, "李书记")}
    # the reading it replaced is kept on the row and shown under it; the same labels signed again add nothing
    card = li.get("/corrections?show=all").text.split('id="c5"', 1)[1].split("</section>", 1)[0]
    assert re.search(r"已审：是诉求 · 照明（李书记 \d\d-\d\d \d\d:\d\d审核）；此前：是诉求 · 照明 · 紧急（李书记 ", card)
    assert li.post("/corrections/5", data=_form(li, request="1", category="lighting")).status_code == 303
    assert li.get("/corrections?show=all").text.count("此前：") == 1

    download = li.get("/corrections.jsonl")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    lines = [json.loads(line) for line in download.text.splitlines()]
    assert [(r["source"], r["expect_request"], r["expect_category"], r["reviewed_by"]) for r in lines] == [
        ("mulin:ticket#4", False, None, "李书记"), ("mulin:ticket#5", True, "lighting", "李书记")]
    assert lines[1]["text"] == "楼道里黑漆漆的，摔了一跤，电话138****5678"
    saved = tmp_path / "2026-11.jsonl"
    saved.write_bytes(download.content)
    assert [(r["source"], r["_from_groups"]) for r in group_records([saved])] == [
        ("mulin:ticket#4", True), ("mulin:ticket#5", True)]


@pytest.mark.parametrize("fields, reason", [
    ({"request": "1"}, "是诉求时请选择一个分类"),
    ({"request": "1", "category": "no_such_code"}, "没有这个分类"),
    ({"request": "0", "urgent": "1"}, "不是诉求的消息不能标为紧急"),
    ({}, "请选择“是诉求”或“不是诉求”"),
])
def test_labels_labels_md_does_not_allow_are_refused_in_chinese_and_not_saved(corrected, fields, reason):
    li = corrected.logged_in("lishuji")
    refused = li.post("/corrections/4", data=_form(li, **fields))
    assert refused.status_code == 400 and reason in refused.text and "#4" in refused.text
    assert _reviews(corrected) == {}


def test_only_secretaries_and_the_street_review_and_only_within_their_scope(corrected):
    wang = corrected.logged_in("wangfang")  # the grid worker who made the corrections
    refused = wang.get("/corrections")
    assert refused.status_code == 403 and "更正审核由社区书记或街道负责" in refused.text and "说笑" not in refused.text
    assert 'href="/corrections"' not in wang.get("/tickets").text
    token = re.search(r'name="csrf" value="([^"]+)"', wang.get("/tickets").text).group(1)
    assert wang.post("/corrections/4", data={"csrf": token, "request": "0"}).status_code == 403
    assert wang.get("/corrections.jsonl").status_code == 403

    chen = corrected.logged_in("chenshuji")
    assert _cards(chen.get("/corrections").text) == [2]
    form = _form(chen, request="0")
    assert chen.post("/corrections/4", data=form).status_code == 404  # 奎星楼's: not theirs
    assert chen.post("/corrections/3", data=form).status_code == 404  # no correction: the bot's own ticket
    assert chen.post("/corrections/2", data={"request": "0"}).status_code == 403  # no form token
    assert _reviews(corrected) == {}
    assert _cards(corrected.logged_in("jiedao").get("/corrections").text) == [5, 4, 2]


def test_an_unsigned_line_never_reaches_the_download(corrected, tmp_path):
    """Before anyone signs, the page's download is empty; `mulin export corrections` without --reviewed gives the
    unsigned lines, which training refuses."""
    assert corrected.logged_in("jiedao").get("/corrections.jsonl").text == ""
    with new_session(corrected.engine) as session:
        from handlers.export.corrections import correction_lines

        lines = correction_lines(session=session, since=None)
    assert [r["reviewed_by"] for r in lines] == [None, None, None]
    unsigned = tmp_path / "unsigned.jsonl"
    unsigned.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    with pytest.raises(UnreviewedLine, match="unsigned.jsonl:1: no reviewed_by"):
        group_records([unsigned])


def test_the_dashboard_tells_how_well_the_bot_heard_by_the_staffs_corrections(corrected):
    """奎星楼: the bot filed #1 and #4, #4 was voided, #5 filed by hand; the street office sees 东苑's #2, #3 too."""
    corrected.advance(timedelta(minutes=1))
    li = corrected.logged_in("lishuji").get("/dashboard").text
    assert "助手登记<b>2</b>件，其中撤销<b>1</b>件（误登记率50%）；网格员代登记<b>1</b>件" in li
    assert "助手识别出50%" in li and 'href="/corrections"' in li
    street = corrected.logged_in("jiedao").get("/dashboard").text
    assert "助手登记<b>4</b>件，其中撤销<b>2</b>件（误登记率50%）；网格员代登记<b>1</b>件" in street
    assert "助手识别出67%" in street
    worker = corrected.logged_in("wangfang").get("/dashboard").text  # grid g1: the same tickets as 奎星楼
    assert "助手登记<b>2</b>件" in worker and "更正审核" not in worker


def test_ones_own_correction_is_read_by_someone_else(corrected):
    """李书记 voids #1 herself: her page shows it without a form and refuses her signature; the street signs it."""
    with new_session(corrected.engine) as session:
        transition(session=session, ticket=session.get(Ticket, 1), action="voided", actor_id="wxid_lishuji",
                   now=corrected.clock.now(), note="重复了")
        session.commit()
    li = corrected.logged_in("lishuji")
    page = li.get("/corrections").text
    card = page[page.index('id="c1"'):]
    assert "这条更正是您本人做的" in card[:card.index("</section>")] and 'action="/corrections/1' not in page
    refused = li.post("/corrections/1", data=_form(li, request="0"))
    assert refused.status_code == 403 and "这条更正是您本人做的" in refused.text
    street = corrected.logged_in("jiedao")
    assert street.post("/corrections/1", data=_form(street, request="0")).status_code == 303
    assert _reviews(corrected) == {1: (False, None, False, "街道王主任")}


def test_a_correction_made_anew_is_read_anew(corrected):
    """#4 signed, then restored (登记 again) and voided again: its old signature no longer speaks for it."""
    li = corrected.logged_in("lishuji")
    assert li.post("/corrections/4", data=_form(li, request="0")).status_code == 303
    with new_session(corrected.engine) as session:
        for action in ("restored", "voided"):
            transition(session=session, ticket=session.get(Ticket, 4), action=action, actor_id="wxid_wangfang",
                       now=corrected.clock.now(), note="再看了一下")
        session.commit()
    assert _reviews(corrected) == {} and 4 in _cards(li.get("/corrections").text)


def test_a_hand_filing_voided_later_is_no_miss_of_the_bot(corrected):
    with new_session(corrected.engine) as session:
        transition(session=session, ticket=session.get(Ticket, 5), action="voided", actor_id="wxid_wangfang",
                   now=corrected.clock.now(), note="看错了，是别的小区")
        session.commit()
    page = corrected.logged_in("lishuji").get("/corrections").text
    card = page[page.index('id="c5"'):]
    card = card[:card.index("</section>")]
    assert "代登记后又撤销" in card and "机器人曾分为" not in card and "看错了" in card


def test_a_refused_form_comes_back_as_sent_and_odd_addresses_are_no_error(corrected):
    li = corrected.logged_in("lishuji")
    refused = li.post("/corrections/4", data=_form(li, request="1", urgent="1")).text  # no category
    card = refused[refused.index('id="c4"'):]
    card = card[:card.index("</section>")]
    assert re.search(r'value="1" checked> 是诉求', card) and re.search(r'name="urgent" value="1" checked', card)
    form = _form(li, request="0")
    for number in ("99999999999999999999999", "9" * 5000, "-1", "4.0"):
        assert li.post(f"/corrections/{number}", data=form).status_code in (404, 405)
        assert li.get(f"/tickets/{number}").status_code == 404
    spoof = li.get("/corrections?done=系统升级，请拨打4001234567").text
    assert "系统升级" not in spoof and 'class="notice"' not in spoof


def test_two_people_signing_at_once_both_succeed_and_the_last_stands(corrected):
    from concurrent.futures import ThreadPoolExecutor

    li, street = corrected.logged_in("lishuji"), corrected.logged_in("jiedao")
    forms = [(li, _form(li, request="0")), (street, _form(street, request="0"))] * 4
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda cf: cf[0].post("/corrections/4", data=cf[1]).status_code, forms))
    assert codes == [303] * 8
    assert _reviews(corrected)[4][:3] == (False, None, False)


def test_numbers_typed_in_other_ways_are_masked_in_the_download(corrected):
    with new_session(corrected.engine) as session:
        session.get(Ticket, 4).text = "A2下水道堵了，电话+86 138 1234 5678，老身份证110101900307123"
        session.commit()
    li = corrected.logged_in("lishuji")
    li.post("/corrections/4", data=_form(li, request="0"))
    text = li.get("/corrections.jsonl").text
    assert "+86 138 **** 5678" in text and "110101******123" in text and "1234 5678" not in text
