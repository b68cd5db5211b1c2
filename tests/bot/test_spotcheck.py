"""抽查 through real wechaty and the simulator on a real database: which messages are drawn (residents' text in a
residents' group that filed nothing), in which stratum, the same way every time, and how long their text outlives
the chatter purge."""
from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from core.config import SpotCheck
from handlers.spotcheck import drawn
from storage.db import new_session
from storage.models import IncomingMessage

ROOM, STAFF_ROOM, UNSERVED = "20001@chatroom", "20009@chatroom", "29999@chatroom"


def _rows(engine) -> dict[str, IncomingMessage]:  # noqa: ANN001
    with new_session(engine) as session:
        return {m.message_id: m for m in session.exec(select(IncomingMessage))}


def _story(make, config, policy: SpotCheck, engine):  # noqa: ANN001
    """Residents' chatter and a complaint in the A1A2 group, a staff member's line there, a line in the staff group
    and a private message; returns the message ids and the rows after 4 days and after 15."""
    async def main() -> tuple[dict, dict, dict]:
        async with make(config_=config.model_copy(update={"spot_check": policy})) as c:
            ids = {
                "filed": await c.post(ROOM, "wxid_zhang", "A2和百意中间路面存在积水"),
                "story": await c.post(ROOM, "wxid_li", "昨天停电了一晚上，今天早上就来电了"),
                "chat": await c.post(ROOM, "wxid_zhang", "今天天气真不错"),
                "staff": await c.post(ROOM, "wxid_wangfang", "大家晚上好，明天上午停水检修"),
                "staff_room": await c.post(STAFF_ROOM, "wxid_lishuji", "今天天气真不错"),
                "unserved": await c.post(UNSERVED, "wxid_zhang", "今天天气真不错"),
                "private": await c.dm("wxid_li", "今天天气真不错"),
            }
            await c.drain()
            await c.wait(timedelta(days=4))
            after_4 = _rows(engine)
            await c.wait(timedelta(days=11))
            await c.app.tick()
            return ids, after_4, _rows(engine)
    return asyncio.run(main())


def test_every_unfiled_resident_line_is_drawn_at_rate_one_and_kept_until_keep_days(make, config, engine):
    ids, after_4, after_15 = _story(make, config, SpotCheck(random_rate=1, near_rate=0, keep_days=14), engine)
    assert {k: after_4[v].spot_check for k, v in ids.items() if v in after_4} == {
        "filed": None, "story": "random", "chat": "random", "staff": None, "staff_room": None, "private": None}
    assert ids["unserved"] not in after_4  # a group the bot does not serve is not even stored
    # past the 3 days of chatter: the drawn lines keep their text, the others are emptied
    assert after_4[ids["chat"]].text == "今天天气真不错" and after_4[ids["story"]].text.startswith("昨天停电")
    assert after_4[ids["staff"]].text == "" and after_4[ids["private"]].text == ""
    # past keep_days they go like any chatter
    assert after_15[ids["chat"]].text == "" and after_15[ids["chat"]].purged_at is not None
    assert after_15[ids["filed"]].text == "A2和百意中间路面存在积水"  # a complaint stays with its ticket


def test_near_draws_only_lines_with_the_words_of_a_problem(make, config, engine):
    ids, after_4, _ = _story(make, config, SpotCheck(random_rate=0, near_rate=1, keep_days=14), engine)
    drawn_ = {k for k, v in ids.items() if v in after_4 and after_4[v].spot_check}
    assert drawn_ == {"story"}  # an outage told as past: not filed, but the rules' words of a problem are in it
    assert after_4[ids["story"]].spot_check == "near" and after_4[ids["chat"]].text == ""


def test_a_quote_reply_and_another_bot_accounts_message_are_never_drawn(make, config, engine):
    """A quote reply holds someone else's words; a sibling bot account's reply repeats residents' words: neither is a
    resident's own line to read."""
    from datetime import datetime, timezone

    from storage.models import Node

    async def main() -> dict:
        async with make(config_=config.model_copy(update={"spot_check": SpotCheck(random_rate=1, near_rate=1)})) as c:
            with new_session(engine) as session:  # 路人's id is another bot account on this database
                at = datetime(2026, 11, 23, tzinfo=timezone.utc)
                session.add(Node(account="south", instance="x", started_at=at, heartbeat_at=at, wechat_id="wxid_stranger"))
                session.commit()
            ids = {
                "own": await c.post(ROOM, "wxid_li", "今天天气真不错"),
                "quote": await c.post(ROOM, "wxid_li", "「张阿姨：我家电话13812345678，昨天停电了」\n- - - - - - - - - - - - - - -\n哈哈"),
                "bot": await c.post(ROOM, "wxid_stranger", "您反映的问题已登记，昨天停电的事网格员会跟进"),
            }
            await c.drain()
            rows = _rows(engine)
            return {k: rows[v].spot_check for k, v in ids.items()}
    assert asyncio.run(main()) == {"own": "random", "quote": None, "bot": None}


def test_with_both_rates_zero_nothing_is_drawn(make, config, engine):
    ids, after_4, _ = _story(make, config, SpotCheck(random_rate=0, near_rate=0), engine)
    assert not any(m.spot_check for m in after_4.values())
    assert after_4[ids["story"]].text == ""


def test_the_draw_takes_its_share_and_the_same_keys_each_time():
    keys = [f"key{n}" for n in range(20000)]
    picked = [k for k in keys if drawn(k, 0.05)]
    assert 900 < len(picked) < 1100  # 5 % of 20,000, within a few standard deviations (sd ≈ 31)
    assert picked == [k for k in keys if drawn(k, 0.05)]
    assert set(k for k in keys if drawn(k, 0.02)) <= set(picked)  # a lower rate takes a subset
    assert not any(drawn(k, 0) for k in keys) and all(drawn(k, 1) for k in keys)
