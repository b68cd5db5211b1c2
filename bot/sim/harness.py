"""A whole community in one process: simulator + real python-wechaty over loopback gRPC + the app.

The demo plays a scenario through it; the end-to-end tests drive it step by step. The app does not
know it talks to a simulator: it only sees the wechaty transport.
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Callable, TextIO

from sqlalchemy.engine import Engine

from bot.app import App
from core.clock import FakeClock
from core.config import Config
from bot.pacing import PACING, RETRY
from bot.sim.scenario import Scenario, Step
from bot.schedule import TICK, first_fire_at_or_after, jobs, next_fire
from bot.sim.simulator import PuppetSimulator, Sent, SimWorld
from bot.wechat.transport import WechatyTransport
from handlers.texts import place
from storage.db import make_engine
from storage.models import Ticket, TicketEvent

STEP = timedelta(seconds=1)  # each scenario step advances the simulated clock by one second
MAX_SETTLE_ROUNDS = 10_000  # a pacing plan that never empties is a bug, not a long scenario


def ticket_record(event: TicketEvent, ticket: Ticket, assignee_wechat: str | None, tz: tzinfo) -> dict[str, Any]:
    location = place(ticket) if (ticket.building or ticket.unit or ticket.room_no or ticket.location_raw) else None
    return {"type": "ticket", "at": event.at.astimezone(tz).isoformat(), "ticket": ticket.id,
            "event": event.kind, "status": event.to_status, "category": ticket.category, "urgent": ticket.urgent,
            "assignee": assignee_wechat, "reporter": ticket.reporter_id, "location": location or None}


@dataclass
class Bot:
    """One bot account: its gateway in the simulated world, its app, and the wechaty link between them.
    With several accounts each has its own engine (connection pool), as separate processes would."""

    account: str | None
    sim: PuppetSimulator
    engine: Engine
    app: App
    transport: WechatyTransport | None = None
    alive: bool = True


class Community:
    """`accounts` (config `accounts:` names): one bot per account, all in every group, on one database."""

    def __init__(self, *, config: Config, scenario: Scenario, engine: Engine, classifier,
                 accounts: tuple[str, ...] = ()) -> None:
        self.config = config
        self.scenario = scenario
        self.clock = FakeClock(scenario.start.astimezone(config.tz))
        self.world = SimWorld(self.clock)
        self.engine = engine
        self.classifier = classifier
        self.records: list[dict[str, Any]] = []
        self._delivered: set[str] = set()  # message ids pushed so far
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.bots: list[Bot] = []
        for n, account in enumerate(accounts or (None,)):
            self_id = scenario.self_.id if n == 0 else f"{scenario.self_.id}_{account}"
            sim = PuppetSimulator(self_id=self_id, self_name=scenario.self_.name, world=self.world)
            bot_engine = engine if n == 0 else make_engine(engine.url.render_as_string(hide_password=False))
            self.bots.append(Bot(account, sim, bot_engine, self._new_app(account, bot_engine, observed=n == 0)))
        for person in scenario.contacts:
            self.world.add_contact(person.id, person.name)
        for room in scenario.rooms:
            self.world.add_room(room.id, room.topic, [*(b.sim.self_id for b in self.bots), *room.members])
        self.world.on_sent.append(lambda sent: self._record(sent.as_record()))

    def _new_app(self, account: str | None, engine: Engine, observed: bool) -> App:
        app = App(config=self.config, engine=engine, clock=self.clock, classifier=self.classifier, account=account)
        if observed:  # every app sees every ticket event in the shared database: one reports them
            app.ticket_observers.append(self._on_ticket)
        return app

    @property
    def app(self) -> App:
        return self.bots[0].app

    @property
    def sim(self) -> PuppetSimulator:
        return self.bots[0].sim

    @property
    def transport(self) -> WechatyTransport | None:
        return self.bots[0].transport

    def _alive(self) -> list[Bot]:
        return [bot for bot in self.bots if bot.alive]

    def _record(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        for listener in self.listeners:
            listener(record)

    def _on_ticket(self, event: TicketEvent, ticket: Ticket) -> None:
        staff = self.config.staff_by_id(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
        self._record(ticket_record(event, ticket, staff.wechat_id if staff else None, self.config.tz))

    async def __aenter__(self) -> "Community":
        for bot in self.bots:
            await bot.sim.start()
        for bot in self.bots:
            await self._start_bot(bot)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for bot in self._alive():
            await self._stop_bot(bot)
        for bot in self.bots:
            await bot.sim.stop()
            if bot.engine is not self.engine:
                bot.engine.dispose()

    async def _start_bot(self, bot: Bot) -> None:
        bot.app.prepare()
        bot.transport = WechatyTransport(endpoint=f"127.0.0.1:{bot.sim.port}", token="simulator",
                                         on_message=bot.app.on_message, tls=False, on_link=bot.app.link_changed)
        bot.app.sender = bot.transport
        await bot.transport.start()
        bot.app.link_changed(True, wechat_id=bot.transport.self_id)
        await bot.app.start()

    async def _stop_bot(self, bot: Bot) -> None:
        await bot.app.stop()
        bot.sim.end_streams()  # close the event stream first, or wechaty sleeps 60 s to reconnect
        if bot.transport is not None:
            await bot.transport.stop()
            bot.transport = None

    async def kill(self, account: str) -> None:
        """One account's process dies: it stops serving and its database connections close (its locks go);
        it never says goodbye in the database, so the others only learn it from its stale heartbeat."""
        bot = next(b for b in self.bots if b.account == account)
        await self._stop_bot(bot)
        bot.engine.dispose()
        bot.alive = False

    # ---- what people do ----------------------------------------------------------------
    async def post(self, room: str, sender: str, text: str, *, message_id: str | None = None, kind: str = "text",
                   after: timedelta = STEP, settle: bool = True, file: tuple[str, bytes] | None = None,
                   mentions: list[str] | None = None) -> str:
        """A group message `after` the previous moment; with `settle`, paced replies go out before the next step.
        mentions: the contact ids it @-mentions (the @-names themselves are part of `text`, as WeChat writes them)."""
        return await self._deliver(sender=sender, text=text, room=room, message_id=message_id, kind=kind,
                                   after=after, settle=settle, file=file, mentions=mentions)

    async def dm(self, sender: str, text: str, *, message_id: str | None = None, kind: str = "text",
                 after: timedelta = STEP, settle: bool = True, file: tuple[str, bytes] | None = None) -> str:
        return await self._deliver(sender=sender, text=text, room=None, message_id=message_id, kind=kind,
                                   after=after, settle=settle, file=file)

    async def photo(self, sender: str, name: str, data: bytes, *, room: str | None = None,
                    message_id: str | None = None, after: timedelta = STEP, settle: bool = True) -> str:
        """A picture posted in a room (or privately without one), served through the gateway's file RPCs."""
        return await self._deliver(sender=sender, text=name, room=room, message_id=message_id, kind="image",
                                   after=after, settle=settle, file=(name, data))

    async def _deliver(self, *, after: timedelta, settle: bool, **kwargs: Any) -> str:
        await self.advance_to(self.clock.now() + after)
        message_id = kwargs.get("message_id") or self.world.new_id("msg-in-")
        kwargs["message_id"] = message_id
        to = None if kwargs["room"] is not None else self._alive()[0].sim.self_id  # privately: the first account alive
        copies = self.world.copy_ids(message_id, room=kwargs["room"], to=to)
        # a redelivered id (a gateway resending): wechaty drops an id it has seen, the app one it has stored,
        # so nothing is handled and there is nothing to wait for
        redelivered = message_id in self._delivered
        self._delivered.add(message_id)
        done = [] if redelivered else [bot.app.wait_processed(copies[bot.sim.self_id]) for bot in self._alive()
                                       if bot.sim.self_id in copies]
        record = {"type": "receive", "at": self.clock.now().isoformat(), "room": kwargs["room"],
                  "from": kwargs["sender"], "text": kwargs["text"], "kind": kwargs["kind"]}
        if kwargs.get("file") is not None:
            record["file"] = kwargs["file"][0]
        self._record(record)
        await self.world.push_message(**kwargs, to=to)
        await asyncio.wait_for(asyncio.gather(*done), 30)
        if settle:
            await self.settle()
        return message_id

    async def wait(self, delta: timedelta) -> None:
        """Advance the simulated clock, running each job at every fire time on the way where it has work,
        and sending waiting replies at the moments pacing lets them go."""
        target = self.clock.now() + delta
        scan, digest = jobs(self.config, self.config.tz)
        while True:
            now = self.clock.now()
            due = self._alive()[0].app.next_due()  # one database: every app sees the same due work
            fires = [next_fire(digest, now)]
            if due is not None:
                fires.append(first_fire_at_or_after(scan, max(due, now + TICK)))
            when = min(fires)
            if when > target:
                break
            await self.advance_to(when)
            for bot in self._alive():
                await bot.app.tick()
        await self.advance_to(target)
        await self.settle()

    async def wait_until(self, moment) -> None:  # noqa: ANN001
        await self.wait(moment - self.clock.now())

    async def offline(self, delta: timedelta) -> None:
        """The bot stops, time passes, and it starts again on the same database (a restart over night)."""
        for bot in self._alive():
            await self._stop_bot(bot)
        self.clock.advance(delta)
        for n, bot in enumerate(self.bots):
            if bot.alive:
                bot.app = self._new_app(bot.account, bot.engine, observed=n == 0)
                await self._start_bot(bot)

    # ---- simulated time for the sender: the clock moves only here --------------------------
    async def advance_to(self, when: datetime) -> None:
        """Move the clock to `when`, stopping at each moment a waiting reply may go and sending it then."""
        await self._run_sends_until(lambda due: due <= when)
        self.clock.set(max(when, self.clock.now()))

    async def settle(self, reasons: frozenset[str] = PACING) -> None:
        """Let simulated time pass until no reply waits for pacing (`reasons`); quiet hours and caps still hold."""
        await self._run_sends_until(lambda due: True, reasons)

    async def drain(self) -> None:
        """Also retry failed sends; what is left then waits for quiet hours or a daily cap."""
        await self.settle(PACING | {RETRY})

    async def _run_sends_until(self, wanted: Callable[[datetime], bool], reasons: frozenset[str] | None = None) -> None:
        for _ in range(MAX_SETTLE_ROUNDS):
            dues = [(due, n) for n, bot in enumerate(self._alive())
                    if (due := bot.app.next_send_due(reasons)) is not None]
            if not dues or not wanted(min(dues)[0]):
                return
            due, n = min(dues)
            self.clock.set(max(due, self.clock.now()))
            await self._alive()[n].app.flush_outbox()
        raise RuntimeError(f"replies still waiting after {MAX_SETTLE_ROUNDS} rounds of sending")

    def rename(self, contact_id: str, name: str) -> None:
        self.world.contacts[contact_id].name = name

    async def play(self, steps: tuple[Step, ...] | None = None) -> None:
        for step in self.scenario.steps if steps is None else steps:
            if step.image is not None:
                name, data = step.file
                await self.photo(step.sender or step.dm, name, data, room=step.room, message_id=step.id)
            elif step.room is not None:
                await self.post(step.room, step.sender, step.text, message_id=step.id, kind=step.kind)
            elif step.dm is not None:
                await self.dm(step.dm, step.text, message_id=step.id, kind=step.kind)
            elif step.wait is not None:
                await self.wait(step.delay)
            elif step.offline is not None:
                await self.offline(step.offline_for)
            elif step.rename is not None:
                self.rename(step.rename, step.to)
        await self.drain()

    # ---- what tests look at ------------------------------------------------------------
    def sent(self, *, room: str | None = None, to: str | None = None) -> list[Sent]:
        return [s for s in self.world.sent if (room is None or s.room == room) and (to is None or s.to == to)]

    def ticket_events(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["type"] == "ticket"]

    def write_transcript(self, out: TextIO) -> None:
        for record in self.records:
            if record["type"] in ("send", "ticket"):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
