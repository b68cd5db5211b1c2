"""Wiring: incoming messages are stored, dispatched one at a time, and replies go out through the outbox.

A message is written to the inbox the moment it arrives (retried with backoff while the database is
down), so after a crash nothing is only in memory: what was stored but not handled is handled on start.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.backoff import Backoff
from bot.config import Config
from bot.types import Disconnected, Incoming, Sender
from handlers.context import Ctx, Deps
from handlers.dispatcher import Dispatcher, build_dispatcher
from handlers.sweeps import SWEEPS
from storage import inbox, outbox
from storage.db import init_db, new_session
from storage.models import Ticket, TicketEvent
from storage.staff import StaffDirectory, seed_bindings
from storage.tickets import events_after

log = logging.getLogger("mulin.app")

TicketObserver = Callable[[TicketEvent, Ticket], None]
STORE_RETRY_CAP = 30.0  # seconds between tries to store a message while the database is unreachable


class Clock(Protocol):
    def now(self): ...  # noqa: ANN201,E704


class App:
    def __init__(self, *, config: Config, engine: Engine, clock: Clock, classifier, sender: Sender | None = None,
                 dispatcher: Dispatcher | None = None) -> None:
        self.config = config
        self.engine = engine
        self.clock = clock
        self.directory = StaffDirectory()
        self.deps = Deps(config=config, classifier=classifier, directory=self.directory)
        self.dispatcher = dispatcher or build_dispatcher()
        self.sender = sender
        self.ticket_observers: list[TicketObserver] = []
        self._queue: asyncio.Queue[Incoming] = asyncio.Queue()
        self._queued: set[str] = set()  # stored message ids waiting in the queue or being handled
        self._worker: asyncio.Task[None] | None = None
        self._waiters: dict[str, asyncio.Future[None]] = {}
        self._last_event_id = 0
        self._unserved_logged: set[str] = set()
        self._outbox_dirty = True  # something may be pending: set by new replies and by failed sends

    # ---- lifecycle -----------------------------------------------------------------------
    def prepare(self) -> None:
        """Create tables and make the config's staff bindings true in the database."""
        init_db(self.engine)
        with new_session(self.engine) as session:
            pairs = [(s.id, s.wechat_id) for s in self.config.staff if s.wechat_id]
            seed_bindings(session=session, pairs=pairs, now=self.clock.now())
            self.directory.reload(session=session)
            last = events_after(session=session, last_id=0)
            self._last_event_id = last[-1].id if last else 0

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="mulin-dispatch")
        await self.retry_unfinished()

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except asyncio.CancelledError:
                pass
            self._worker = None

    # ---- intake ----------------------------------------------------------------------------
    async def on_message(self, msg: Incoming) -> None:
        """Called by the transport: store the message first, then handle it in arrival order."""
        if self.served(msg) and await self._store(msg):
            self._enqueue(msg)
        elif msg.id not in self._queued:  # a replay of a queued message must not wake its waiter early
            self._resolve(msg.id)

    async def _store(self, msg: Incoming) -> bool:
        """Insert into the inbox, retrying with backoff while the database is down; False for a redelivery."""
        backoff = Backoff(cap=STORE_RETRY_CAP)
        while True:
            try:
                with new_session(self.engine) as session:
                    stored = inbox.record_incoming(session=session, msg=msg, now=self.clock.now())
            except (OperationalError, InterfaceError) as exc:
                delay = backoff.next()
                log.warning("cannot store message %s (database unreachable: %s); retry %d in %.0f s",
                            msg.id, type(exc.orig).__name__, backoff.attempts, delay)
                await asyncio.sleep(delay)
                continue
            if backoff.attempts:
                log.warning("stored message %s after %d failed tries", msg.id, backoff.attempts)
            if not stored:
                log.info("message %s already received; not handled twice", msg.id)
            return stored

    def _enqueue(self, msg: Incoming) -> None:
        self._queued.add(msg.id)
        self._queue.put_nowait(msg)

    def _resolve(self, message_id: str) -> None:
        waiter = self._waiters.pop(message_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def wait_processed(self, message_id: str) -> asyncio.Future[None]:
        """For the simulator and tests: resolves when the message is handled and its replies sent."""
        return self._waiters.setdefault(message_id, asyncio.get_running_loop().create_future())

    async def _work(self) -> None:
        while True:
            msg = await self._queue.get()
            try:
                self.process(msg)
                if self._outbox_dirty:
                    await self.flush_outbox()
            except Exception:  # noqa: BLE001 - one bad message must not stop intake; it stays in the inbox
                log.exception("unexpected error around message %s", msg.id)
            finally:
                self._queued.discard(msg.id)
                self._resolve(msg.id)

    def served(self, msg: Incoming) -> bool:
        if msg.room_id is None or self.config.group_for(msg.room_id, msg.room_topic) is not None \
                or self.config.is_staff_group(msg.room_id, msg.room_topic):
            return True
        if msg.room_id not in self._unserved_logged:
            self._unserved_logged.add(msg.room_id)
            log.info("ignoring group %s (%s): not in config.yaml groups", msg.room_id, msg.room_topic)
        return False

    def process(self, msg: Incoming) -> str | None:
        """Dispatch one stored message and commit its replies with it; returns the handler that took it."""
        now = self.clock.now()
        with new_session(self.engine) as session:
            if not inbox.is_unfinished(session=session, message_id=msg.id):
                return None  # handled before a crash, or parked
            try:
                staff_id = self.directory.staff_id_of(msg.sender_id)
                staff = self.config.staff_by_id(staff_id) if staff_id else None
                ctx = Ctx(deps=self.deps, session=session, msg=msg, now=now, staff=staff)
                taken = self.dispatcher.dispatch(ctx)
                inbox.mark_processed(session=session, message_id=msg.id, ticket_id=ctx.ticket_id)
                session.commit()
                self._outbox_dirty |= ctx.queued > 0
            except Exception as exc:  # noqa: BLE001 - recorded, retried, then parked; never dropped
                session.rollback()
                row = inbox.mark_failed(session=session, message_id=msg.id, error=repr(exc))
                log.exception("message %s failed (attempt %s, %s)", msg.id, row.attempts, row.state.value)
                return None
            if self.ticket_observers:
                self._emit_ticket_events(session)
        return taken

    async def retry_unfinished(self) -> None:
        """After a crash or failure: handle what was stored but not processed, oldest first, in the queue."""
        with new_session(self.engine) as session:
            rows = inbox.unfinished(session=session)
        waiting = []
        for row in rows:
            if row.message_id in self._queued:
                continue  # already on its way
            log.info("retrying message %s (state %s)", row.message_id, row.state.value)
            waiting.append(self.wait_processed(row.message_id))
            self._enqueue(inbox.as_incoming(row))
        if waiting:
            await asyncio.gather(*waiting)
        await self.flush_outbox()

    async def tick(self) -> int:
        """Run every sweep for the clock's `now` (the scheduler and the simulator's waits call this)."""
        now = self.clock.now()
        done = 0
        with new_session(self.engine) as session:
            for sweep in SWEEPS:
                ctx = Ctx(deps=self.deps, session=session, msg=None, now=now, staff=None)
                try:
                    done += sweep(ctx)
                    session.commit()
                except Exception:  # noqa: BLE001 - one failing sweep must not stop the others; retried next tick
                    session.rollback()
                    log.exception("sweep %s failed", sweep.__name__)
                self._outbox_dirty |= ctx.queued > 0
            if self.ticket_observers:
                self._emit_ticket_events(session)
        if self._outbox_dirty:
            await self.flush_outbox()
        return done

    def _emit_ticket_events(self, session) -> None:  # noqa: ANN001
        for event in events_after(session=session, last_id=self._last_event_id):
            self._last_event_id = event.id
            ticket = session.get(Ticket, event.ticket_id)
            for observer in self.ticket_observers:
                observer(event, ticket)

    # ---- delivery ------------------------------------------------------------------------
    async def flush_outbox(self) -> int:
        """Deliver pending replies in order; a failed send holds back later ones to the same chat."""
        if self.sender is None:
            return 0
        sent = 0
        blocked: set[str] = set()
        self._outbox_dirty = False
        with new_session(self.engine) as session:
            for row in outbox.pending(session=session):
                conversation = row.room_id or row.to_id or ""
                if conversation in blocked:
                    continue
                try:
                    gateway_id = await self.sender.send(outbox.as_outgoing(row))
                except Disconnected as exc:  # not an attempt: everything waits for the reconnect
                    log.warning("not sending: %s", exc)
                    self._outbox_dirty = True
                    break
                except Exception as exc:  # noqa: BLE001 - kept in the outbox and retried
                    log.warning("send to %s failed: %r", conversation, exc)
                    outbox.mark_send_failed(session=session, row=row, error=repr(exc))
                    blocked.add(conversation)
                    self._outbox_dirty = True
                    continue
                outbox.mark_sent(session=session, row=row, now=self.clock.now(), gateway_message_id=gateway_id)
                sent += 1
        return sent

    def parked(self) -> int:
        with new_session(self.engine) as session:
            return inbox.count_parked(session=session)
