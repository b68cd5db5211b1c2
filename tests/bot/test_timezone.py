"""community.timezone drives every clock time: the digest hour, deadlines written in messages, `mulin tickets`."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.sim.harness import Community
from storage.db import new_session
from storage.models import Ticket

TOKYO = ZoneInfo("Asia/Tokyo")  # one hour ahead of Asia/Shanghai
ROOM = "20001@chatroom"


def local(sent) -> datetime:  # noqa: ANN001
    return datetime.fromisoformat(sent.at).astimezone(TOKYO)


def test_digest_and_deadlines_in_the_configured_zone(play, config, engine):
    tokyo = config.model_copy(update={"community": config.community.model_copy(update={"timezone": "Asia/Tokyo"})})

    async def story(c: Community):
        await c.post(ROOM, "wxid_zhang", "A1楼道灯不亮了，晚上上楼看不见")
        await c.wait_until(datetime(2026, 11, 24, 12, 0, tzinfo=TOKYO))
        digests = [s for s in c.sent(to="wxid_lishuji") if "民情日报" in s.text]
        assert [local(s) for s in digests] == [datetime(2026, 11, 24, 8, 0, tzinfo=TOKYO)]
        [reminder] = [s for s in c.sent(to="wxid_wangfang") if "【提醒】" in s.text]
        with new_session(engine) as session:
            due = session.get(Ticket, 1).accept_due_at.astimezone(TOKYO)
        assert f"请在{due.month}月{due.day}日 {due:%H:%M}前接单" in reminder.text
        assert "11月24日 09:00" in reminder.text  # one working day after Monday 09:00 in Tokyo
    play(story, start=datetime(2026, 11, 23, 9, 0, tzinfo=TOKYO), config_=tokyo)
