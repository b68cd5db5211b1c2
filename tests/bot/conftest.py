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
