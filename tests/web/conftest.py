"""The web console as it runs: a real uvicorn server on a loopback port, on the test's real database, with a fake
clock the test moves. Tickets are filed through the same functions intake uses (create, then assign by grid)."""
from __future__ import annotations

import re
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterator

import httpx
import pytest
import uvicorn
from sqlalchemy.engine import Engine
from sqlmodel import select

from core.clock import FakeClock
from core.config import Config, parse_config
from core.workcalendar import WorkCalendar
from handlers.assignment import assign
from handlers.context import Ctx, Deps
from handlers.routing import Route
from storage.db import new_session
from storage.models import OutboxMessage, Ticket
from storage.staff import StaffDirectory, seed_bindings
from storage.tickets import create_ticket
from storage.weblogin import new_link_token
from web.app import build_app

START = datetime.fromisoformat("2026-11-23T09:00:00+08:00")  # a Monday
STREET_KEY = "street-key-0123456789abcdef"
DONGYUAN_KEY = "dongyuan-key-0123456789abcdef"

# (grid, building, category, category name, urgent, text): one ticket each, filed in this order (#1 ...)
SEED = (("g1", "A1", "lighting", "照明", False, "A1楼道灯不亮了，有事打我电话13812345678"),
        ("g2", "3号楼", "elevator", "电梯", True, "3号楼电梯困人了，快来"),
        ("g3", "东苑", "sanitation", "环境卫生", False, "东苑垃圾三天没人清了"),
        ("g1", "A2", "drainage", "排水", False, "A2下水道堵了，污水流了一地"))


WEB_SECTION = f"""
web:
  public_url: "https://mulin.example.org"
  api_keys:
    - {{name: street, key: {STREET_KEY}}}
    - {{name: dongyuan, key: {DONGYUAN_KEY}, community: dy}}
"""


@pytest.fixture(scope="session")
def web_config(street_config_text) -> Config:
    """The street config (g1/A1A2 is 奎星楼 with 李书记, g2 and g3 东苑 with 陈书记, 街道王主任 sees all) with two api
    keys, one for 东苑 only, and a public address."""
    head, web, _ = street_config_text.partition("\nweb:\n")  # config.yaml's own (empty) web: section ends the file
    assert web, "config.yaml has no web: section"
    return parse_config(head + WEB_SECTION, "web test config")


def seed_tickets(engine: Engine, config: Config, now: datetime, rows=SEED,  # noqa: ANN001
                 created_by: str | None = None) -> list[int]:
    """File and route tickets as intake does: created, then assigned to the grid's worker (deadlines set);
    `created_by`: filed by that staff member's WeChat id (登记 of a message the bot missed), as staff_filing does."""
    ids = []
    with new_session(engine) as session:
        seed_bindings(session=session, pairs=[(s.id, s.wechat_id) for s in config.staff if s.wechat_id], now=now)
        directory = StaffDirectory()
        directory.reload(session=session)
        calendar = WorkCalendar(tz=config.tz, holidays=config.calendar.holidays, workdays=config.calendar.workdays)
        ctx = Ctx(deps=Deps(config=config, classifier=None, directory=directory, calendar=calendar), session=session,
                  msg=None, now=now, staff=None)
        start = len(session.exec(select(Ticket.id)).all())
        for n, (grid_id, building, category, name, urgent, text) in enumerate(rows, start=start):
            ticket = create_ticket(session=session, now=now, source_message_id=f"seed-{n}", text=text, category=category,
                                   category_name=name, reporter_id=f"wxid_resident{n}", reporter_name=f"居民{n}",
                                   urgent=urgent, building=building, room_id="20001@chatroom",
                                   room_topic="奎星楼社区A1A2号居民群", created_by=created_by,
                                   note="代为登记（机器人未识别为诉求）" if created_by else None)
            grid = config.grid_by_id(grid_id)
            worker = config.staff_by_id(grid.worker)
            assign(ctx, ticket, Route(grid, worker, directory.wechat_id_of(worker.id)), actor_id="mulin", note="按楼栋派单")
            ids.append(ticket.id)
        session.commit()
    return ids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:  # noqa: ANN001
    """uvicorn on a loopback port in a thread; its base URL while the block runs."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           lifespan="off", proxy_headers=True, forwarded_allow_ips="127.0.0.1"))
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Console:
    base: str
    clock: FakeClock
    engine: Engine
    config: Config

    def browser(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, follow_redirects=False, timeout=30)

    def link(self, staff_id: str) -> str:
        with new_session(self.engine) as session:
            return new_link_token(session=session, staff_id=staff_id, now=self.clock.now())

    def logged_in(self, staff_id: str) -> httpx.Client:
        client = self.browser()
        response = client.get(f"/login/link/{self.link(staff_id)}")
        assert response.status_code == 303, response.text
        return client

    def outbox_to(self, wechat_id: str) -> list[str]:
        with new_session(self.engine) as session:
            return [r.text for r in session.exec(select(OutboxMessage).where(OutboxMessage.to_id == wechat_id)
                                                 .order_by(OutboxMessage.id))]

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)

    def seed(self, rows, created_by: str | None = None) -> list[int]:  # noqa: ANN001
        return seed_tickets(self.engine, self.config, self.clock.now(), rows, created_by)

    @staticmethod
    def token(html: str) -> str:
        """The form token a page carries."""
        return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


@pytest.fixture
def console(engine, web_config) -> Iterator[Console]:
    clock = FakeClock(START)
    seed_tickets(engine, web_config, clock.now())
    with serving(build_app(config=web_config, engine=engine, clock=clock)) as base:
        yield Console(base, clock, engine, web_config)


@dataclass
class Parts:
    """The pieces for a test that runs its own clock (the simulator's): seed tickets, make login links, serve."""

    engine: Engine
    config: Config

    def seed(self, now: datetime) -> list[int]:
        return seed_tickets(self.engine, self.config, now)

    def link(self, staff_id: str, now: datetime) -> str:
        with new_session(self.engine) as session:
            return new_link_token(session=session, staff_id=staff_id, now=now)

    def serving(self, clock) -> "contextmanager":  # noqa: ANN001
        return serving(build_app(config=self.config, engine=self.engine, clock=clock))


@pytest.fixture
def parts(engine, web_config) -> Parts:
    return Parts(engine, web_config)
