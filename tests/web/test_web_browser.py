"""The console in a real browser: Debian's Chromium driven by Playwright, at phone width (390 px, as WeChat's browser)
and on a desktop, against the real server, database, bot and simulator (the login code and the 督办 arrive in WeChat).

`make test` installs Chromium with apt when it is missing and it can (root); elsewhere these tests skip and say why.
MULIN_SCREENSHOTS=DIR keeps the pages' screenshots there (the README's come from this test).
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from bot.sim.harness import Community
from bot.sim.scenario import load_scenario
from core.config import SpotCheck
from storage.db import new_session
from storage.models import LabelReview, MessageReview

CHROMIUM = os.environ.get("MULIN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "basic.yaml"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN"}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason=f"no Chromium at {CHROMIUM}: `make test` installs Debian's chromium with apt when run as root "
           "(apt-get install chromium fonts-wqy-microhei); set MULIN_CHROMIUM to use another")


async def _no_sideways_scroll(page) -> None:  # noqa: ANN001
    width = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url}: the page is {width[0]} px wide in a {width[1]} px window"


async def _shown_numbers(page) -> list[int]:  # noqa: ANN001
    links = await page.locator("table.ledger a[href^='/tickets/']").all_inner_texts()
    return sorted(int(text.lstrip("#")) for text in links)


def test_the_console_in_chromium_at_phone_and_desktop_width(engine, web_config, classifier, tmp_path, parts):
    from playwright.async_api import async_playwright

    shots = Path(os.environ.get("MULIN_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    async def story() -> None:
        drawing = web_config.model_copy(update={"spot_check": SpotCheck(random_rate=1, near_rate=0)})  # every line
        async with Community(config=drawing, scenario=load_scenario(SCENARIO), engine=engine,
                             classifier=classifier) as community, async_playwright() as playwright:
            parts.seed(community.clock.now())
            await community.app.flush_outbox()
            await community.settle()  # the new-ticket messages go out first
            with parts.serving(community.clock) as base:
                browser = await playwright.chromium.launch(executable_path=CHROMIUM)
                try:
                    await phone_secretary(community, browser, base, shots)
                    link = lambda staff: parts.link(staff, community.clock.now())  # noqa: E731
                    await desktop_worker(community, browser, base, shots, link)
                    await phone_review(browser, base, shots, link)
                    await phone_spotcheck(community, browser, base, shots, link)
                finally:
                    await browser.close()

    async def phone_secretary(community, browser, base, shots) -> None:  # noqa: ANN001
        page = await (await browser.new_context(base_url=base, **PHONE)).new_page()
        await page.goto("/tickets")
        assert page.url.endswith("/login?next=/tickets")
        await _no_sideways_scroll(page)
        await page.fill("input[name=staff_id]", "lishuji")
        await page.click("text=获取验证码")
        await page.wait_for_url(re.compile(r"/login/code"))
        await community.app.flush_outbox()  # what `mulin run` does every 10 s
        await community.settle()
        code = re.search(r"验证码：(\d{6})", community.sent(to="wxid_lishuji")[-1].text).group(1)
        await page.fill("input[name=code]", code)
        await page.click("button:has-text('登录')")
        await page.wait_for_url(re.compile(r"/tickets$"))
        assert await _shown_numbers(page) == [1, 4]  # 李书记 supervises 奎星楼 (grid g1) only
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(shots / "tickets-390.png"), full_page=True)

        await page.select_option("select[name=category]", "drainage")
        await page.click("button:has-text('筛选')")
        await page.wait_for_url(re.compile(r"category=drainage"))
        assert await _shown_numbers(page) == [4]

        await page.goto("/tickets/1")
        timeline = await page.locator("ol.timeline").inner_text()
        assert "登记" in timeline and "指派" in timeline and "按楼栋派单" in timeline
        assert "138****5678" in await page.locator(".text").inner_text()
        await page.fill("form[action$='/supervise'] input[name=note]", "请今天下班前处理，并回复居民")
        await page.click("button:has-text('督办')")
        await page.wait_for_url(re.compile(r"/tickets/1\?done="))
        assert "已督办" in await page.locator(".notice").inner_text()
        assert "督办" in await page.locator("ol.timeline").inner_text()
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(shots / "ticket-390.png"), full_page=True)
        await community.app.flush_outbox()
        await community.settle()
        assert any("【督办】工单#1" in s.text and "请今天下班前处理" in s.text for s in community.sent(to="wxid_wangfang"))

        await page.goto("/dashboard")
        assert "响应率" in await page.content()
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(shots / "dashboard-390.png"), full_page=True)

        await page.click("button:has-text('退出')")
        await page.wait_for_url(re.compile(r"/login$"))
        await page.goto("/tickets/1")
        assert "/login" in page.url and "楼道灯" not in await page.content()

    async def desktop_worker(community, browser, base, shots, link) -> None:  # noqa: ANN001
        page = await (await browser.new_context(base_url=base, **DESKTOP)).new_page()
        await page.goto(f"/login/link/{link('wangfang')}")
        await page.wait_for_url(re.compile(r"/tickets$"))
        assert await _shown_numbers(page) == [1, 4]  # 王芳's grid g1
        await page.screenshot(path=str(shots / "tickets-desktop.png"), full_page=True)
        response = await page.goto("/tickets/2")  # grid g2's lift
        assert response.status == 404 and "电梯" not in await page.content()
        await page.goto("/tickets/1")
        assert await page.locator("text=书记操作").count() == 0
        await page.screenshot(path=str(shots / "ticket-desktop.png"), full_page=True)
        await page.goto("/dashboard")
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(shots / "dashboard-desktop.png"), full_page=True)
        # a form whose token was tampered with is refused, and the session stays
        await page.evaluate("document.querySelector('form.logout input[name=csrf]').value = 'forged'")
        await page.click("button:has-text('退出')")
        assert "请求无效" in await page.content()
        await page.goto("/tickets")
        assert await _shown_numbers(page) == [1, 4]
        # 王芳 voids #4 in chat (撤销: it was no request); its page says so, and the reason stands in its trail
        await community.dm("wxid_wangfang", "撤销 4 邻居之间说笑，不是诉求")
        await community.app.flush_outbox()
        await community.settle()
        await page.goto("/tickets/4")
        assert await page.locator("span.status").inner_text() == "已撤销"
        voided = await page.locator("ol.timeline li.ev-voided").inner_text()
        assert "王芳 → 已撤销" in voided and "邻居之间说笑" in voided, voided
        await _no_sideways_scroll(page)

    async def phone_review(browser, base, shots, link) -> None:  # noqa: ANN001
        """李书记 reads 王芳's 撤销 of #4 on 更正审核 and signs it: no request, as 王芳 said."""
        page = await (await browser.new_context(base_url=base, **PHONE)).new_page()
        await page.goto(f"/login/link/{link('lishuji')}")
        await page.click("nav >> text=更正审核")
        await page.wait_for_url(re.compile(r"/corrections$"))
        card = page.locator("section.correction#c4")
        assert "邻居之间说笑" in await card.inner_text() and "撤销" in await card.inner_text()
        assert await card.locator("input[name=request][value='0']").is_checked()
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(shots / "corrections-390.png"), full_page=True)
        await card.locator("button:has-text('确认')").click()
        await page.wait_for_url(re.compile(r"/corrections\?done="))
        assert "已审核 #4" in await page.locator(".notice").inner_text()
        assert await page.locator("section.correction").count() == 0 and "没有待审核的更正" in await page.content()
        await page.click("text=显示全部（含已审）")
        assert "已审：不是诉求（李书记" in await page.locator("section.correction#c4").inner_text()

    async def phone_spotcheck(community, browser, base, shots, link) -> None:  # noqa: ANN001
        """张阿姨 tells of last night's outage in the A1A2 group (no ticket: it is over); the line is drawn, and 李书记
        reads it on 抽查 on her phone and signs it: no request."""
        await community.post("20001@chatroom", "wxid_zhang", "昨天停电了一晚上，今天早上就来电了")
        await community.drain()
        page = await (await browser.new_context(base_url=base, **PHONE)).new_page()
        await page.goto(f"/login/link/{link('lishuji')}")
        await page.click("nav >> text=抽查")
        await page.wait_for_url(re.compile(r"/spotcheck$"))
        card = page.locator("section.correction", has_text="昨天停电了一晚上")
        assert "随机抽取" in await card.inner_text()
        await _no_sideways_scroll(page)
        await page.screenshot(path=str(shots / "spotcheck-390.png"), full_page=True)
        await card.locator("input[name=request][value='0']").check()
        await card.locator("button:has-text('确认')").click()
        await page.wait_for_url(re.compile(r"/spotcheck\?done=1"))
        assert "已审核，谢谢" in await page.locator("p.notice[role=status]").inner_text()
        assert "随机抽取的已审" in await page.content()
        assert await page.locator("section.correction", has_text="昨天停电了一晚上").count() == 0

    asyncio.run(story())
    with new_session(engine) as session:
        read = session.exec(select(MessageReview)).all()
    assert [(r.text, r.is_request, r.reviewer_name) for r in read if "昨天停电" in r.text] == [
        ("昨天停电了一晚上，今天早上就来电了", False, "李书记")]
    with new_session(engine) as session:
        signed = session.get(LabelReview, 4)
    assert (signed.is_request, signed.category, signed.reviewer_name) == (False, None, "李书记")
