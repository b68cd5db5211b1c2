"""Issue 8: two communities of one street in one config; each secretary hears of, lists and acts on only
their own community's tickets, and street staff get the digest over both (through real wechaty)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.sim.harness import Community

SHANGHAI = ZoneInfo("Asia/Shanghai")  # community.timezone in config.yaml

KXL = "20001@chatroom"   # 奎星楼社区: grid g1, 李书记
DY = "20002@chatroom"    # 东苑社区: grid g2, 陈书记
STAFF_GROUP = "20009@chatroom"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def tagged(c: Community, who: str, tag: str) -> list:
    return [s for s in c.sent(to=who) if tag in s.text]


def ticket_numbers(sent: list) -> list[int]:
    return [int(re.search(r"工单#(\d+)", s.text).group(1)) for s in sent]


def test_a_breach_reaches_only_the_secretary_of_the_tickets_community(play, street_config):
    async def story(c: Community):
        await c.post(KXL, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")  # Fri 20 Nov 14:59: ticket 1
        await c.post(DY, "wxid_li", "3号楼电梯又停了，老人上不去楼")       # ticket 2
        await c.wait_until(at("2026-11-24T12:00:00"))
        mine = tagged(c, "wxid_lishuji", "超时督办")
        theirs = tagged(c, "wxid_chenshuji", "超时督办")
        assert ticket_numbers(mine) == [1] and ticket_numbers(theirs) == [2]
        assert not tagged(c, "wxid_jiedao", "超时督办")  # the default chain is the secretaries only
    play(story, "street.yaml", start=at("2026-11-20T14:59:00"), config_=street_config)


def test_secretary_commands_stay_in_their_community(play, street_config):
    async def story(c: Community):
        await c.post(KXL, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")   # ticket 1, 奎星楼
        await c.post(DY, "wxid_li", "3号楼电梯又停了，老人上不去楼")        # ticket 2, 东苑
        await c.dm("wxid_chenshuji", "待办")
        todo = c.sent(to="wxid_chenshuji")[-1].text
        assert "未办结工单1张" in todo and "#2 " in todo and "#1 " not in todo
        await c.dm("wxid_lishuji", "督办 2 请今天处理")
        assert "不是您负责的" in c.sent(to="wxid_lishuji")[-1].text
        assert not tagged(c, "wxid_zhaoqiang", "【督办】")
        await c.dm("wxid_chenshuji", "督办 2 请今天处理")
        assert len(tagged(c, "wxid_zhaoqiang", "【督办】工单#2")) == 1
        await c.dm("wxid_zhaoqiang", "退回 2 不属于本网格")  # back to the secretaries' queue: only 东苑's hears
        assert len(tagged(c, "wxid_chenshuji", "赵强退回")) == 1 and not tagged(c, "wxid_lishuji", "退回")
    play(story, "street.yaml", config_=street_config)


def test_each_secretary_gets_a_digest_of_their_community_and_the_street_one_of_all(play, street_config):
    def text(c: Community, who: str, tag: str, n: int) -> str:
        return tagged(c, who, tag)[n].text

    async def story(c: Community):
        await c.post(KXL, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")  # Monday 23 Nov
        await c.post(KXL, "wxid_li", "A2门口下水道堵了，污水冒出来了")
        await c.post(DY, "wxid_li", "3号楼电梯又停了，老人上不去楼")
        await c.dm("wxid_zhaoqiang", "接 3")
        await c.wait_until(at("2026-11-30T09:00:00"))
        kxl, dy, street = (text(c, who, "民情日报", 0) for who in ("wxid_lishuji", "wxid_chenshuji", "wxid_jiedao"))
        assert kxl.startswith("【奎星楼社区民情日报】") and "新增2件，接单0件" in kxl and "在办共2件" in kxl
        assert "第一网格2" in kxl and "第二网格" not in kxl
        assert dy.startswith("【东苑社区民情日报】") and "新增1件，接单1件" in dy and "按网格：第二网格1" in dy
        assert street.startswith("【奎星楼街道民情日报】") and "新增3件，接单1件" in street
        assert "按网格：第一网格2，第二网格1" in street
        # Tuesday the unaccepted tickets 1 and 2 breached: Wednesday's digests count them where they belong
        assert "新超时2件" in text(c, "wxid_lishuji", "民情日报", 1)
        assert "新超时0件" in text(c, "wxid_chenshuji", "民情日报", 1)
        assert "新超时2件" in text(c, "wxid_jiedao", "民情日报", 1)
        weekly = text(c, "wxid_lishuji", "周会审", 0).partition("【奎星楼社区周会审】")[2]  # may share a message
        assert "本周工单2件" in weekly and "王芳：2件" in weekly and "赵强" not in weekly
        assert "赵强：1件" in text(c, "wxid_chenshuji", "周会审", 0).partition("【东苑社区周会审】")[2]
    play(story, "street.yaml", config_=street_config)
