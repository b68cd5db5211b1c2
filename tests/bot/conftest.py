"""One fixture builds the whole app on a real database with the simulator and real wechaty."""
from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Callable

import pytest
from sqlmodel import select

from bot.sim.harness import Community
from bot.sim.scenario import load_scenario
from storage.db import new_session
from storage.models import Ticket

SCENARIOS = Path(__file__).resolve().parents[1] / "data" / "scenarios"


@pytest.fixture
def make(config, engine, classifier) -> Callable[..., Community]:
    def factory(name: str = "basic.yaml", *, start: datetime | None = None, config_=None) -> Community:
        scenario = load_scenario(SCENARIOS / name)
        if start is not None:
            scenario = scenario.model_copy(update={"start": start})
        return Community(config=config_ or config, scenario=scenario, engine=engine, classifier=classifier)
    return factory


@pytest.fixture
def play(make) -> Callable[[Callable[[Community], Awaitable[None]]], None]:
    """Run one story against a started community (simulator + wechaty + app), then shut it down."""
    def runner(story: Callable[[Community], Awaitable[None]], name: str = "basic.yaml", *,
               start: datetime | None = None, config_=None) -> None:
        async def main() -> None:
            async with make(name, start=start, config_=config_) as community:
                await story(community)
        asyncio.run(main())
    return runner


@pytest.fixture
def stored_tickets(engine) -> Callable[[], list[Ticket]]:
    def read() -> list[Ticket]:
        with new_session(engine) as session:
            return list(session.exec(select(Ticket).order_by(Ticket.id)))
    return read


@pytest.fixture(scope="session")
def street_config():
    """config.yaml split into two communities: g1 (the A1A2 group) is 奎星楼 with 李书记, g2 and g3 are 东苑
    with 陈书记; a street officer 王主任 of 奎星楼街道 gets the digest over both (scenario street.yaml)."""
    from core.config import parse_config

    text = (Path(__file__).resolve().parents[2] / "config.yaml").read_text(encoding="utf-8")
    for old, new in (
            ("  name: 奎星楼社区\n", "  name: 奎星楼街道\n"),
            ("community:\n", "communities: [{id: kxl, name: 奎星楼社区}, {id: dy, name: 东苑社区}]\ncommunity:\n"),
            ("role: secretary, wechat_id: wxid_lishuji}", "role: secretary, community: kxl, wechat_id: wxid_lishuji}\n"
             "  - {id: chenshuji, name: 陈书记, role: secretary, community: dy, wechat_id: wxid_chenshuji}\n"
             "  - {id: jiedao, name: 街道王主任, role: street, wechat_id: wxid_jiedao}"),
            ("    worker: wangfang\n", "    worker: wangfang\n    community: kxl\n"),
            ("    worker: zhaoqiang\n", "    worker: zhaoqiang\n    community: dy\n"),
            ("    worker: liuyang\n", "    worker: liuyang\n    community: dy\n"),
            ("  to_staff_groups: false", "  street: true\n  to_staff_groups: false")):
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return parse_config(text, "street config")
