"""抽查 over real HTTP (uvicorn, httpx) on SQLite and PostgreSQL: a secretary reads the drawn messages of her own
community's groups (masked), signs their labels, sees the miss estimate from the randomly drawn ones, and downloads
lines training accepts; others' groups, purged texts and grid workers are refused; erasure removes a signed reading."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlmodel import select

from classifier.train import group_records
from handlers.privacy import held_summary
from handlers.texts import mask
from storage.db import new_session
from storage.models import IncomingMessage, MessageReview, MessageState
from storage.privacy import erase_contact, export_contact, held, purge_chatter, purge_readings
from storage.tickets import create_ticket
from web.spotcheck import Estimate

KXL, DY = "奎星楼社区A1A2号居民群", "东苑小区居民群"
# (room topic, sender, stratum, text): stored rows #1 ... in this order
DRAWN = ((KXL, "wxid_zhang", "random", "今天天气真不错"),
         (KXL, "wxid_li", "near", "楼道里的灯又坏了，黑乎乎的，电话13812345678"),
         (DY, "wxid_dong", "random", "东苑门口的垃圾好几天没人收了"),
         (KXL, "wxid_li", "random", "家里停水了，一滴都没有"),
         (KXL, "wxid_zhang", None, "晚上一起去跳舞吧"))  # not drawn


@pytest.fixture
def drawn(console):
    now = console.clock.now()
    with new_session(console.engine) as session:
        for n, (topic, sender, sample, text) in enumerate(DRAWN):
            session.add(IncomingMessage(message_id=f"m{n}", room_id=f"{topic}@chatroom", room_topic=topic,
                                        sender_id=sender, sender_name="居民", text=text, sent_at=now, received_at=now,
                                        state=MessageState.PROCESSED, spot_check=sample))
        session.commit()
        rows = {m.text: m.id for m in session.exec(select(IncomingMessage))}
    console.rows = rows
    return console


def _cards(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<section class="card correction" id="m(\d+)"', html)]


def _form(client, **fields) -> dict:  # noqa: ANN001
    return {"csrf": re.search(r'name="csrf" value="([^"]+)"', client.get("/spotcheck").text).group(1), **fields}


def _reviews(console) -> dict[int, tuple]:  # noqa: ANN001
    with new_session(console.engine) as session:
        return {r.message_row_id: (r.sample, r.is_request, r.category, r.reviewer_name, r.text)
                for r in session.exec(select(MessageReview))}


def test_a_secretary_reads_her_groups_drawn_messages_and_signs_them(drawn, tmp_path):
    rows = drawn.rows
    li = drawn.logged_in("lishuji")
    page = li.get("/spotcheck")
    light, calm, water = rows[DRAWN[1][3]], rows[DRAWN[0][3]], rows[DRAWN[3][3]]
    assert page.status_code == 200 and _cards(page.text) == [calm, light, water]  # 东苑's and the undrawn are not
    assert "待看3条" in page.text and "138****5678" in page.text and "13812345678" not in page.text
    assert "含问题用词" in page.text and "随机抽取" in page.text and "随机抽取的已审" not in page.text
    assert 'href="/spotcheck"' in li.get("/tickets").text

    assert li.post(f"/spotcheck/{calm}", data=_form(li, request="0")).status_code == 303
    done = li.post(f"/spotcheck/{water}", data=_form(li, request="1", category="water"))
    assert done.status_code == 303 and "已审核，谢谢" in li.get(done.headers["location"]).text
    assert li.post(f"/spotcheck/{light}", data=_form(li, request="1", category="lighting")).status_code == 303
    assert _reviews(drawn) == {
        calm: ("random", False, None, "李书记", "今天天气真不错"),
        water: ("random", True, "water", "李书记", "家里停水了，一滴都没有"),
        light: ("near", True, "lighting", "李书记", "楼道里的灯又坏了，黑乎乎的，电话138****5678")}
    page = li.get("/spotcheck").text
    assert _cards(page) == [] and "已审3条" in page
    # the estimate rests on the random stratum only: 1 of the 2 randomly drawn lines read was a request
    assert "随机抽取的已审2条中，1条其实是诉求（约占机器人未登记消息的50.0%，估计在9.5%到90.5%之间；审过的还少，仅供参考）" in page
    assert "已审：是诉求 · 照明（李书记 " in li.get("/spotcheck?show=all").text
    # the street office reads 李书记's "no request" otherwise: the page shows both, the newest first
    drawn.advance(timedelta(minutes=5))
    wang = drawn.logged_in("jiedao")
    assert wang.post(f"/spotcheck/{calm}", data=_form(wang, request="1", category="other")).status_code == 303
    shown = li.get("/spotcheck?show=all").text
    assert re.search(r"已审：是诉求 · 其他（街道王主任 [\d: -]+审核）；此前：不是诉求（李书记 [\d: -]+审核）", shown)
    assert li.post(f"/spotcheck/{calm}", data=_form(li, request="0")).status_code == 303  # and back again
    assert re.search(r"已审：不是诉求（李书记 [\d: -]+审核）；此前：是诉求 · 其他（街道王主任 [\d: -]+审核）；"
                     r"不是诉求（李书记 ", li.get("/spotcheck?show=all").text)

    download = li.get("/corrections.jsonl")
    lines = [json.loads(line) for line in download.text.splitlines()]
    assert [(r["source"], r["expect_request"], r["expect_category"], r["why"]) for r in lines] == [
        (f"mulin:message#{calm}", False, None, "spot check, random"),
        (f"mulin:message#{light}", True, "lighting", "spot check, near"),
        (f"mulin:message#{water}", True, "water", "spot check, random")]
    saved = tmp_path / "spot.jsonl"
    saved.write_bytes(download.content)
    assert len(group_records([saved])) == 3
    # the other community's secretary sees none of it
    chen = drawn.logged_in("chenshuji")
    assert chen.get("/corrections.jsonl").text == "" and "抽查：随机抽取" not in chen.get("/dashboard").text
    # the dashboard's 助手识别 card carries the estimate for those who read
    assert "抽查：随机抽取的助手未登记群消息已审<b>2</b>条，其中<b>1</b>条其实是诉求（约50.0%，估计在9.5%到90.5%之间，审过的还少，仅供参考）" in li.get(
        "/dashboard").text
    assert "抽查：随机抽取" not in drawn.logged_in("wangfang").get("/dashboard").text


def test_others_groups_purged_texts_and_grid_workers_are_refused(drawn):
    rows = drawn.rows
    chen = drawn.logged_in("chenshuji")
    dong = rows[DRAWN[2][3]]
    assert _cards(chen.get("/spotcheck").text) == [dong]
    form = _form(chen, request="0")
    assert chen.post(f"/spotcheck/{rows[DRAWN[0][3]]}", data=form).status_code == 404  # 奎星楼's
    assert chen.post(f"/spotcheck/{rows[DRAWN[4][3]]}", data=form).status_code == 404  # not drawn
    assert chen.post(f"/spotcheck/{dong}", data={"request": "0"}).status_code == 403  # no form token
    refused = chen.post(f"/spotcheck/{dong}", data=_form(chen, request="0", urgent="1"))
    assert refused.status_code == 400 and "不是诉求的消息不能标为紧急" in refused.text
    assert re.search(r'name="urgent" value="1" checked', refused.text)  # the form comes back as sent
    wang = drawn.logged_in("wangfang")
    assert wang.get("/spotcheck").status_code == 403 and 'href="/spotcheck"' not in wang.get("/tickets").text
    assert _reviews(drawn) == {}

    # past keep_days the purge empties a drawn text; it is then no longer offered
    drawn.advance(timedelta(days=15))
    chen = drawn.logged_in("chenshuji")  # a new login: the last one has expired
    with new_session(drawn.engine) as session:
        now = drawn.clock.now()
        purge_chatter(session=session, before=now - timedelta(days=3), now=now, limit=100,
                      drawn_before=now - timedelta(days=14))
        session.commit()
    assert _cards(chen.get("/spotcheck").text) == []
    assert chen.post(f"/spotcheck/{dong}", data=_form(chen, request="0")).status_code == 404


def test_the_purge_keeps_a_drawn_text_for_keep_days_and_erasure_removes_its_reading(drawn):
    rows, now = drawn.rows, drawn.clock.now()
    li = drawn.logged_in("lishuji")
    water = rows[DRAWN[3][3]]
    assert li.post(f"/spotcheck/{water}", data=_form(li, request="1", category="water")).status_code == 303
    with new_session(drawn.engine) as session:
        later = now + timedelta(days=4)
        assert purge_chatter(session=session, before=later - timedelta(days=3), now=later, limit=100,
                             drawn_before=later - timedelta(days=14)) == 1  # the undrawn line only
        session.commit()
        kept = {m.text for m in session.exec(select(IncomingMessage)) if m.purged_at is None}
        assert kept == {text for _, _, sample, text in DRAWN if sample}
        exported = export_contact(session=session, contact_id="wxid_li", now=later)  # what a resident asks to see
        assert [(r["sample"], r["text"]) for r in exported["spot_check_readings"]] == [("random", "家里停水了，一滴都没有")]
        answer = held_summary(held(session=session, contact_id="wxid_li"), drawn.config)  # the answer to 我的信息
        assert "· 抽查看过的消息：1条（打码保存，用于改进识别）" in answer and "抽查抽中的14天后" in answer
        # the message then joins a ticket of his (a 登记 quoting it): erasure must still find the reading
        ticket = create_ticket(session=session, now=later, source_message_id="t1", text="家里停水了", category="water",
                               category_name="供水", reporter_id="wxid_li", reporter_name="李大爷")
        session.get(IncomingMessage, water).ticket_id = ticket.id
        session.commit()
        erase_contact(session=session, contact_id="wxid_li", actor_id="lishuji", now=later, mask=mask)
        session.commit()
    assert _reviews(drawn) == {}  # 李大爷's words are gone from the readings too


def test_a_reading_is_offered_only_while_listed_and_kept_only_ticket_years(drawn):
    rows = drawn.rows
    li = drawn.logged_in("lishuji")
    calm, water = rows[DRAWN[0][3]], rows[DRAWN[3][3]]
    form = _form(li, request="0")
    assert li.post(f"/spotcheck/{calm}", data=form).status_code == 303
    page = li.get("/spotcheck").text
    assert "1条其实是诉求" not in page and "0条其实是诉求（约占机器人未登记消息的0.0%，估计在0.0%到79.3%之间；审过的还少，仅供参考）" in page
    drawn.advance(timedelta(days=14, minutes=1))  # past keep_days, before any purge ran: no longer listed nor signable
    li = drawn.logged_in("lishuji")
    assert water not in _cards(li.get("/spotcheck").text)
    assert li.post(f"/spotcheck/{water}", data=_form(li, request="1", category="water")).status_code == 404
    with new_session(drawn.engine) as session:
        years = timedelta(days=3 * 365.25)  # privacy.ticket_years
        assert purge_readings(session=session, before=drawn.clock.now() - years, limit=10) == 0  # 14 days old: kept
        later = drawn.clock.now() + years
        assert purge_readings(session=session, before=later - years, limit=10) == 1
        session.commit()
    assert _reviews(drawn) == {}


def test_the_estimate_carries_wilsons_interval():
    """Published values of Wilson's 95 % score interval: 5 of 100 -> 2.15 %..11.18 %; none of 40 still allows 8.8 %."""
    low, high = Estimate(100, 5).interval
    assert (round(low, 4), round(high, 4)) == (0.0215, 0.1118)
    assert Estimate(40, 0).interval[0] == 0.0 and round(Estimate(40, 0).interval[1], 3) == 0.088
    assert Estimate(40, 40).interval[1] == 1.0 and Estimate(0, 0).interval is None
    assert Estimate(100, 5).between == "2.2%到11.2%" and not Estimate(100, 5).rough and Estimate(29, 1).rough
