"""A whole community in one process: simulator + real python-wechaty over loopback gRPC + the app.

The demo plays a scenario through it; the end-to-end tests drive it step by step. The app does not
know it talks to a simulator: it only sees the wechaty transport.
"""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any, Callable, TextIO

from sqlalchemy.engine import Engine

from bot.app import App
from bot.clock import FakeClock, SHANGHAI
from bot.config import Config
from bot.pacing import PACING, RETRY
from bot.scenario import Scenario, Step
from bot.schedule import TICK, first_fire_at_or_after, jobs, next_fire
from bot.simulator import PuppetSimulator, Sent
from bot.wechaty_transport import WechatyTransport
from handlers.texts import place
from storage.models import Ticket, TicketEvent

STEP = timedelta(seconds=1)  # each scenario step advances the simulated clock by one second
MAX_SETTLE_ROUNDS = 10_000  # a pacing plan that never empties is a bug, not a long scenario


def ticket_record(event: TicketEvent, ticket: Ticket, assignee_wechat: str | None) -> dict[str, Any]:
    location = place(ticket) if (ticket.building or ticket.unit or ticket.room_no or ticket.location_raw) else None
    return {"type": "ticket", "at": event.at.astimezone(SHANGHAI).isoformat(), "ticket": ticket.id,
            "event": event.kind, "status": event.to_status, "category": ticket.category, "urgent": ticket.urgent,
            "assignee": assignee_wechat, "reporter": ticket.reporter_id, "location": location or None}


class Community:
    def __init__(self, *, config: Config, scenario: Scenario, engine: Engine, classifier) -> None:
        self.config = config
        self.scenario = scenario
        self.clock = FakeClock(scenario.start.astimezone(SHANGHAI))
        self.sim = PuppetSimulator(self_id=scenario.self_.id, self_name=scenario.self_.name, clock=self.clock)
        for person in scenario.contacts:
            self.sim.add_contact(person.id, person.name)
        for room in scenario.rooms:
            self.sim.add_room(room.id, room.topic, list(room.members))
        self.engine = engine
        self.classifier = classifier
        self.app = self._new_app()
        self.transport: WechatyTransport | None = None
        self.records: list[dict[str, Any]] = []
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.sim.on_sent.append(lambda sent: self._record(sent.as_record()))

    def _new_app(self) -> App:
        app = App(config=self.config, engine=self.engine, clock=self.clock, classifier=self.classifier)
        app.ticket_observers.append(self._on_ticket)
        return app

    def _record(self, record: dict[str, Any]) -> None:
        self.records.append(record)
        for listener in self.listeners:
            listener(record)

    def _on_ticket(self, event: TicketEvent, ticket: Ticket) -> None:
        staff = self.config.staff_by_id(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
        self._record(ticket_record(event, ticket, staff.wechat_id if staff else None))

    async def __aenter__(self) -> "Community":
        self._port = await self.sim.start()
        await self._start_bot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stop_bot()
        await self.sim.stop()

    async def _start_bot(self) -> None:
        self.app.prepare()
        self.transport = WechatyTransport(endpoint=f"127.0.0.1:{self._port}", token="simulator",
                                          on_message=self.app.on_message)
        self.app.sender = self.transport
        await self.transport.start()
        await self.app.start()

    async def _stop_bot(self) -> None:
        await self.app.stop()
        self.sim.end_streams()  # close the event stream first, or wechaty sleeps 60 s to reconnect
        if self.transport is not None:
            await self.transport.stop()
            self.transport = None

    # ---- what people do ----------------------------------------------------------------
    async def post(self, room: str, sender: str, text: str, *, message_id: str | None = None, kind: str = "text",
                   after: timedelta = STEP, settle: bool = True) -> str:
        """A group message `after` the previous moment; with `settle`, paced replies go out before the next step."""
        return await self._deliver(sender=sender, text=text, room=room, message_id=message_id, kind=kind,
                                   after=after, settle=settle)

    async def dm(self, sender: str, text: str, *, message_id: str | None = None, kind: str = "text",
                 after: timedelta = STEP, settle: bool = True) -> str:
        return await self._deliver(sender=sender, text=text, room=None, message_id=message_id, kind=kind,
                                   after=after, settle=settle)

    async def _deliver(self, *, after: timedelta, settle: bool, **kwargs: Any) -> str:
        await self.advance_to(self.clock.now() + after)
        message_id = kwargs.get("message_id") or self.sim.new_id("msg-in-")
        kwargs["message_id"] = message_id
        done = self.app.wait_processed(message_id)
        self._record({"type": "receive", "at": self.clock.now().isoformat(), "room": kwargs["room"],
                      "from": kwargs["sender"], "text": kwargs["text"], "kind": kwargs["kind"]})
        await self.sim.push_message(**kwargs)
        await asyncio.wait_for(done, 30)
        if settle:
            await self.settle()
        return message_id

    async def wait(self, delta: timedelta) -> None:
        """Advance the simulated clock, running each job at every fire time on the way where it has work,
        and sending waiting replies at the moments pacing lets them go."""
        target = self.clock.now() + delta
        scan, digest = jobs(self.config, SHANGHAI)
        while True:
            now = self.clock.now()
            due = self.app.next_due()
            fires = [next_fire(digest, now)]
            if due is not None:
                fires.append(first_fire_at_or_after(scan, max(due, now + TICK)))
            when = min(fires)
            if when > target:
                break
            await self.advance_to(when)
            await self.app.tick()
        await self.advance_to(target)
        await self.settle()

    async def wait_until(self, moment) -> None:  # noqa: ANN001
        await self.wait(moment - self.clock.now())

    async def offline(self, delta: timedelta) -> None:
        """The bot stops, time passes, and it starts again on the same database (a restart over night)."""
        await self._stop_bot()
        self.clock.advance(delta)
        self.app = self._new_app()
        await self._start_bot()

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
            due = self.app.next_send_due(reasons)
            if due is None or not wanted(due):
                return
            self.clock.set(max(due, self.clock.now()))
            await self.app.flush_outbox()
        raise RuntimeError(f"replies still waiting after {MAX_SETTLE_ROUNDS} rounds of sending")

    def rename(self, contact_id: str, name: str) -> None:
        self.sim.rename(contact_id, name)

    async def play(self, steps: tuple[Step, ...] | None = None) -> None:
        for step in self.scenario.steps if steps is None else steps:
            if step.room is not None:
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
        return [s for s in self.sim.sent if (room is None or s.room == room) and (to is None or s.to == to)]

    def ticket_events(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r["type"] == "ticket"]

    def write_transcript(self, out: TextIO) -> None:
        for record in self.records:
            if record["type"] in ("send", "ticket"):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
