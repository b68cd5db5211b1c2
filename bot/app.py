"""Wiring: incoming messages are stored, dispatched one at a time, and replies go out through the outbox.

A message is written to the inbox the moment it arrives (retried with backoff while the database is
down), so after a crash nothing is only in memory: what was stored but not handled is handled on start.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Callable, Iterable, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlmodel import Session

from bot.backoff import Backoff
from core.config import Config
from bot.pacing import CAP, History, Pacer, Pending, Plan, Send
from core.workcalendar import WorkCalendar
from core.types import Disconnected, Fetcher, Incoming, Sender
from handlers.context import Ctx, Deps
from handlers.dispatcher import Dispatcher, build_dispatcher
from handlers import spotcheck
from handlers.intake import late_summary_due
from handlers.sweeps import SWEEPS
from storage import attachments, inbox, nodes, outbox, schema
from storage.db import new_session
from storage.locks import cluster_lock
from storage.models import Attachment, AttachmentState, OutboxMessage, Ticket, TicketEvent
from storage.staff import StaffDirectory, seed_bindings
from storage.tickets import events_after, next_due

if TYPE_CHECKING:
    from bot.metrics import Metrics

log = logging.getLogger("mulin.app")

TicketObserver = Callable[[TicketEvent, Ticket], None]
DISCONNECTED_RETRY = timedelta(seconds=2)  # how often waiting replies look for a restored gateway link
STORE_RETRY_CAP = 30.0  # seconds between tries to store a message while the database is unreachable


class Clock(Protocol):
    def now(self) -> datetime: ...  # noqa: E704

    async def sleep_until(self, when: datetime | None, wake: asyncio.Event) -> None: ...  # noqa: E704


class App:
    def __init__(self, *, config: Config, engine: Engine, clock: Clock, classifier, sender: Sender | None = None,
                 dispatcher: Dispatcher | None = None, account: str | None = None) -> None:
        self.config = config
        # one of several bot accounts on one database (config `accounts:`); None: the only one
        self.account = config.account(account)
        self.instance = uuid.uuid4().hex
        self.engine = engine
        self.clock = clock
        self.directory = StaffDirectory()
        self.calendar = WorkCalendar(tz=config.tz, holidays=config.calendar.holidays, workdays=config.calendar.workdays)
        self.deps = Deps(config=config, classifier=classifier, directory=self.directory, calendar=self.calendar)
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
        self.pacer = Pacer(config.sending, config.tz)
        self._plan: Plan | None = None  # what the last flush left waiting, and until when
        self._send_lock = asyncio.Lock()
        self._send_wake = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None
        self._cap_warned: set[tuple[str, datetime]] = set()
        self.resent_at_start = 0  # messages that were in flight when the last run stopped, sent again
        self._closing = False
        # room ids of the groups this account lists (None: it serves all), learned from their messages
        self._rooms: set[str] | None = None
        self.metrics: Metrics | None = None  # Prometheus counters, when `mulin run` serves them
        self._link_up: bool | None = None

    # ---- lifecycle -----------------------------------------------------------------------
    def prepare(self) -> None:
        """Check the schema is at head (a new empty SQLite file is created) and make the config's staff bindings
        true in the database. Raises schema.SchemaError when the schema is not this mulin's."""
        schema.check_or_create(self.engine)
        with new_session(self.engine) as session:
            pairs = [(s.id, s.wechat_id) for s in self.config.staff if s.wechat_id]
            seed_bindings(session=session, pairs=pairs, now=self.clock.now())
            self.directory.reload(session=session)
            last = events_after(session=session, last_id=0)
            self._last_event_id = last[-1].id if last else 0
            if self.account is not None and self.account.groups:
                self._rooms = inbox.room_ids_of(session=session, rooms=self.account.groups)
            self.heartbeat()
            self.resent_at_start = self._recover_in_flight(session, [self.account.name] if self.account else None)

    @property
    def account_name(self) -> str | None:
        return self.account.name if self.account else None

    def _recover_in_flight(self, session: Session, accounts: list[str] | None) -> int:
        """A row left SENDING may have reached WeChat before the crash; the gateway cannot tell, so send again."""
        rows = outbox.recover_in_flight(session=session, accounts=accounts)
        for row in rows:
            log.warning("outbox row %s to %s was being sent when %s stopped; sending it again "
                        "(it may arrive twice): %.40r", row.id, row.room_id or row.to_id,
                        f"the process of account {row.claimed_by}" if row.claimed_by else "mulin", row.text)
        self._outbox_dirty |= bool(rows)
        return sum(1 for row in rows if row.merged_into is None)

    @property
    def node(self) -> str:
        """This process's row in the `node` table."""
        return self.account.name if self.account else nodes.DEFAULT_NODE

    def heartbeat(self) -> None:
        """Tell the other processes on this database (and `mulin status`) that this account's process is alive."""
        with new_session(self.engine) as session:
            rival = nodes.beat(session=session, account=self.node, instance=self.instance, now=self.clock.now())
        if rival is not None and self.account is not None:
            log.error("another process (instance %s) beat for account %s less than %d s ago: run one process per "
                      "account (harmless right after a restart of a crashed one)", rival, self.account.name,
                      nodes.NODE_TIMEOUT.total_seconds())

    def link_changed(self, up: bool, wechat_id: str | None = None) -> None:
        """The transport's gateway link went up or down: recorded for `mulin status`; wechat_id, the account's own id
        once logged in, for the other accounts' processes to know a mention of this one (handlers.addressed)."""
        try:
            with new_session(self.engine) as session:
                nodes.link(session=session, account=self.node, up=up, now=self.clock.now(), wechat_id=wechat_id)
        except Exception:  # noqa: BLE001 - the database may be what is down; the log keeps the news
            log.exception("could not record the gateway link as %s", "up" if up else "down")
        if up and self._link_up is False and self.metrics is not None:
            self.metrics.reconnected()
        self._link_up = up

    def _take_over_dead(self, session: Session) -> int:
        """Unfinished messages and in-flight sends of accounts whose process stopped beating become ours."""
        if self.account is None:
            return 0
        dead = nodes.stale(session=session, now=self.clock.now(), but=self.account.name)
        if not dead:
            return 0
        taken = inbox.take_over(session=session, dead=dead, owner=self.account.name)
        if taken:
            log.warning("took over %d unfinished message(s) of stopped account(s) %s", taken, ", ".join(dead))
        self._recover_in_flight(session, dead)
        return taken

    async def start(self, *, catch_up: bool = True) -> None:
        """catch_up: run the sweeps now (after downtime: what fell due meanwhile, and the latest missed digest,
        once); `mulin run` runs them a moment later instead, so a restart answers waiting residents first."""
        self._worker = asyncio.create_task(self._work(), name="mulin-dispatch")
        self._sender = asyncio.create_task(self._send_loop(), name="mulin-send")
        await self.retry_unfinished()
        if catch_up:
            await self.tick()

    async def stop(self) -> None:
        self._closing = True
        self._send_wake.set()
        for task in (self._worker, self._sender):
            # Python 3.11's asyncio.wait_for (around each send) can swallow a cancel that arrives just as the
            # send completes; the loops then see `_closing`, and the cancel is repeated until the task ends
            while task is not None and not task.done():
                task.cancel()
                await asyncio.wait({task}, timeout=1)
        self._worker = self._sender = None

    # ---- intake ----------------------------------------------------------------------------
    async def on_message(self, msg: Incoming) -> None:
        """Called by the transport: store the message first, then handle it in arrival order."""
        msg = msg.without_nul()
        if self.served(msg) and await self._store(msg):
            if self.metrics is not None:
                self.metrics.messages.inc()
            self._enqueue(msg)
        elif msg.id not in self._queued:  # a replay of a queued message must not wake its waiter early
            self._resolve(msg.id)

    async def _store(self, msg: Incoming) -> bool:
        """Insert into the inbox, retrying with backoff while the database is down; False for a redelivery."""
        backoff = Backoff(cap=STORE_RETRY_CAP)
        while True:
            try:
                with new_session(self.engine) as session:
                    stored = inbox.record_incoming(session=session, msg=msg, now=self.clock.now(),
                                                   owner=self.account_name)
            except (OperationalError, InterfaceError) as exc:
                delay = backoff.next()
                log.warning("cannot store message %s (database unreachable: %s); retry %d in %.0f s",
                            msg.id, type(exc.orig).__name__, backoff.attempts, delay)
                await asyncio.sleep(delay)
                continue
            except Exception as exc:  # noqa: BLE001 - the database refused this message: park it, never drop it
                self._park_refused(msg, exc)
                return False
            if backoff.attempts:
                log.warning("stored message %s after %d failed tries", msg.id, backoff.attempts)
            if not stored:
                log.info("message %s already received (or another account's copy of it); not handled twice", msg.id)
            return stored

    def _park_refused(self, msg: Incoming, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        try:
            with new_session(self.engine) as session:
                inbox.record_parked(session=session, msg=msg, now=self.clock.now(), error=error,
                                    owner=self.account_name)
        except Exception:  # noqa: BLE001 - the log line is then the only record of it
            log.exception("message %s from %s could not be stored at all (%s): %r", msg.id, msg.sender_id, error,
                          msg.text[:500])
            return
        log.error("message %s refused by the database (%s); stored escaped and parked for an operator", msg.id, error)

    def _enqueue(self, msg: Incoming) -> None:
        self._queued.add(msg.id)
        self._queue.put_nowait(msg)

    def _resolve(self, message_id: str) -> None:
        waiter = self._waiters.pop(message_id, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def wait_processed(self, message_id: str) -> asyncio.Future[None]:
        """For the simulator and tests: resolves when the message is handled and what pacing allows now is sent."""
        return self._waiters.setdefault(message_id, asyncio.get_running_loop().create_future())

    async def _work(self) -> None:
        while not self._closing:
            msg = await self._queue.get()
            try:
                if msg.kind == "image":
                    await self.fetch_photo(msg)
                self.process(msg)
                if self._outbox_dirty:
                    await self.flush_outbox()
            except Exception:  # noqa: BLE001 - one bad message must not stop intake; it stays in the inbox
                log.exception("unexpected error around message %s", msg.id)
            finally:
                self._queued.discard(msg.id)
                self._resolve(msg.id)

    async def fetch_photo(self, msg: Incoming) -> None:
        """A picture is fetched from the gateway and recorded (storage.attachments) before its message is handled:
        stored when it is an image within photos.max_mb; else recorded as too large, not an image, failed, or a
        flood (more than photos.per_ticket from one person within twice the photo window: not fetched)."""
        policy = self.config.photos
        with new_session(self.engine) as session:
            if attachments.of_message(session=session, message_id=msg.id) is not None:
                return  # fetched before a crash or a retry
            since = msg.at - timedelta(minutes=2 * policy.window_minutes)
            flood = attachments.recent_count(session=session, sender_id=msg.sender_id, since=since) >= policy.per_ticket
        fetched, state, error = None, None, None
        if flood:
            state = AttachmentState.FLOOD
        elif not isinstance(self.sender, Fetcher):
            state, error = AttachmentState.FAILED, "no gateway to fetch it from"
        else:
            try:
                fetched = await self.sender.fetch_file(msg.id, policy.max_bytes)
            except Exception as exc:  # noqa: BLE001 - a picture the gateway cannot serve is recorded, not retried
                state, error = AttachmentState.FAILED, f"{type(exc).__name__}: {exc}"
        with new_session(self.engine) as session:
            row = attachments.record(session=session, message_id=msg.id, sender_id=msg.sender_id, room_id=msg.room_id,
                                     sent_at=msg.at, now=self.clock.now(), fetched=fetched, state=state, error=error)
            session.commit()
            self._log_photo(msg, row)

    def _log_photo(self, msg: Incoming, row: Attachment) -> None:
        who = f"photo {msg.id} from {msg.sender_id} in {msg.room_id or 'a private chat'}"
        limit = self.config.photos.max_mb
        if row.state == AttachmentState.STORED:
            log.info("%s stored: %d bytes, sha256 %s", who, row.size, row.sha256[:12])
        elif row.state == AttachmentState.TOO_LARGE:
            log.warning("%s is larger than photos.max_mb (%g MB; at least %d bytes): recorded as too large, "
                        "not fetched", who, limit, row.size)
        elif row.state == AttachmentState.NOT_IMAGE:
            log.warning("%s is not an image (%s): recorded, its bytes not kept", who, row.error)
        elif row.state == AttachmentState.FLOOD:
            log.warning("%s: more than %d pictures from this person within %g min, not fetched (a flood)", who,
                        self.config.photos.per_ticket, 2 * self.config.photos.window_minutes)
        else:
            log.warning("%s could not be fetched: %s", who, row.error)

    def served(self, msg: Incoming) -> bool:
        if msg.room_id is None:
            return True
        if (self.config.group_for(msg.room_id, msg.room_topic) is not None
                or self.config.is_staff_group(msg.room_id, msg.room_topic)) \
                and self.config.serves(self.account, msg.room_id, msg.room_topic):
            if self._rooms is not None:
                self._rooms.add(msg.room_id)
            return True
        if msg.room_id not in self._unserved_logged:
            self._unserved_logged.add(msg.room_id)
            log.info("ignoring group %s (%s): not in config.yaml groups", msg.room_id, msg.room_topic)
        return False

    def process(self, msg: Incoming) -> str | None:
        """Dispatch one stored message and commit its replies with it; returns the handler that took it."""
        now = self.clock.now()
        with new_session(self.engine) as session:
            stored = inbox.unfinished_entry(session=session, message_id=msg.id)
            if stored is None:
                return None  # handled before a crash, or parked
            try:
                staff_id = self.directory.staff_id_of(msg.sender_id)
                staff = self.config.staff_by_id(staff_id) if staff_id else None
                ctx = Ctx(deps=self.deps, session=session, msg=msg, now=now, staff=staff, account=self.account_name,
                          stored=stored)
                taken = self.dispatcher.handle(ctx)
                inbox.mark_processed(session=session, message_id=msg.id, ticket_id=ctx.ticket_id,
                                     spot_check=spotcheck.stratum(ctx, msg))
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
            self._take_over_dead(session)
            rows = inbox.unfinished(session=session, owners=[self.account.name] if self.account else None)
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
        """Run every sweep for the clock's `now` (the scheduler's jobs and the simulator's waits call this)."""
        now = self.clock.now()
        done = 0
        self.heartbeat()
        with new_session(self.engine) as session:
            self.directory.reload(session=session)  # staff bound through another process
            taken = self._take_over_dead(session)
        if taken:
            await self.retry_unfinished()
        # several processes, one database: one of them runs the sweeps at a time (each notice is claimed once)
        with cluster_lock(self.engine, "mulin-sweeps") as mine, new_session(self.engine) as session:
            started = time.monotonic()
            for sweep in SWEEPS if mine else ():
                ctx = Ctx(deps=self.deps, session=session, msg=None, now=now, staff=None)
                try:
                    done += sweep(ctx)
                    session.commit()
                except Exception:  # noqa: BLE001 - one failing sweep must not stop the others; retried next tick
                    session.rollback()
                    log.exception("sweep %s failed", sweep.__name__)
                self._outbox_dirty |= ctx.queued > 0
            if mine:
                self._scanned(now, time.monotonic() - started)
            if self.ticket_observers:
                self._emit_ticket_events(session)
        if self._outbox_dirty:
            await self.flush_outbox()
        return done

    def _scanned(self, at: datetime, seconds: float) -> None:
        with new_session(self.engine) as session:
            nodes.scanned(session=session, account=self.node, at=at, seconds=seconds)
        if self.metrics is not None:
            self.metrics.scan_seconds.observe(seconds)

    def next_due(self) -> datetime | None:
        """The earliest moment a sweep has work (digests follow their own trigger)."""
        with new_session(self.engine) as session:
            due = [d for d in (next_due(session=session), late_summary_due(session=session)) if d is not None]
        return min(due, default=None)

    def _emit_ticket_events(self, session) -> None:  # noqa: ANN001
        for event in events_after(session=session, last_id=self._last_event_id):
            self._last_event_id = event.id
            ticket = session.get(Ticket, event.ticket_id)
            for observer in self.ticket_observers:
                observer(event, ticket)

    # ---- delivery ------------------------------------------------------------------------
    async def flush_outbox(self) -> int:
        """Send every waiting reply that pacing allows now (several to one chat merged into one message).

        Order per chat is kept; a failed send holds back later ones to the same chat and backs off.
        Returns the number of WeChat messages sent.
        """
        if self.sender is None:
            return 0
        async with self._send_lock:
            self._outbox_dirty = False
            sent = 0
            with new_session(self.engine) as session:
                rows, waiting, history, plan = self._load_plan(session)
                while plan.batches:
                    done, failed, contended = [], {}, False
                    for batch in plan.batches:
                        at = self.clock.now()
                        result = await self._send(session, [rows[i] for i in batch.ids], at)
                        if result is None:  # another process claimed these rows first
                            contended = True
                        elif result[0]:
                            done.append((batch, at))
                        else:
                            failed[batch.ids[0]] = result[1]
                    sent += len(done)
                    if contended:  # what is left and the pacing history changed under us: read them again
                        rows, waiting, history, plan = self._load_plan(session)
                        continue
                    waiting, history = self.pacer.after_send(waiting, history, done, failed)
                    plan = self.pacer.plan(self.clock.now(), waiting, history)
            self._plan = plan
            self._warn_caps(plan)
        self._send_wake.set()
        return sent

    def _load_plan(self, session: Session) -> tuple[dict[int, OutboxMessage], list[Pending], History, Plan]:
        now = self.clock.now()
        rooms = sorted(self._rooms) if self._rooms is not None else None
        rows = {row.id: row for row in outbox.pending(session=session, account=self.account_name, rooms=rooms)}
        waiting = [_as_pending(row) for row in rows.values()]
        history = self._history(session, now)
        return rows, waiting, history, self.pacer.plan(now, waiting, history)

    async def _send(self, session: Session, rows: list[OutboxMessage], at: datetime) -> tuple[bool, datetime | None] | None:
        """Deliver one (possibly merged) message: (True, None), or (False, when to retry; None: given up);
        None when another process claimed the rows first."""
        ids = [row.id for row in rows]
        if not outbox.claim(session=session, ids=ids, now=at, by=self.account_name):  # committed first: a crash
            return None                                                                 # now leaves it SENDING
        try:
            gateway_id = await self.sender.send(outbox.outgoing(session=session, rows=rows))
        except Disconnected as exc:  # not an attempt: it waits for the reconnect
            retry_at = at + DISCONNECTED_RETRY
            outbox.release(session=session, ids=ids, retry_at=retry_at)
            self._count_send("disconnected")
            log.warning("not sending to %s: %s; next try at %s", rows[0].room_id or rows[0].to_id, exc,
                        retry_at.isoformat())
            return False, retry_at
        except Exception as exc:  # noqa: BLE001 - kept in the outbox and retried
            head = rows[0]
            attempts = head.attempts + 1
            retry_at = at + self.pacer.retry_delay(attempts) if attempts < self.config.sending.max_attempts else None
            outbox.mark_send_failed(session=session, ids=ids, error=repr(exc), retry_at=retry_at)
            self._count_send("failed")
            if retry_at is None:
                log.error("outbox row %s to %s FAILED after %s attempts, not sent: %r",
                          head.id, head.room_id or head.to_id, attempts, exc)
            else:
                log.warning("send to %s failed (attempt %s), retrying at %s: %r",
                            head.room_id or head.to_id, attempts, retry_at.isoformat(), exc)
            return False, retry_at
        outbox.mark_sent(session=session, ids=ids, gateway_message_id=gateway_id)
        self._count_send("sent")
        return True, None

    def _count_send(self, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.sends.labels(outcome).inc()

    def _history(self, session: Session, now: datetime) -> History:
        recent = tuple(Send(room or to, room is not None, at) for room, to, at in
                       outbox.recent_sends(session=session, since=self.pacer.recent_since(now)))
        return History(recent=recent, today=outbox.group_sends_since(session=session, since=self.pacer.day_start(now)))

    def _warn_caps(self, plan: Plan) -> None:
        for wait in plan.waits:
            if wait.reason == CAP and (wait.conversation, wait.until) not in self._cap_warned:
                self._cap_warned.add((wait.conversation, wait.until))
                log.warning("group %s reached its daily cap of %s messages; non-urgent ones wait until %s",
                            wait.conversation, self.config.sending.group_daily_cap, wait.until.isoformat())

    def next_send_due(self, reasons: Iterable[str] | None = None) -> datetime | None:
        """When something waiting may go (only waits for these reasons, if given); None: nothing waits."""
        return self._plan.next_due(reasons) if self._plan is not None else None

    async def _send_loop(self) -> None:
        """Sleeps on the app's clock until the next reply may go; new replies are flushed by whoever wrote them."""
        while not self._closing:
            self._send_wake.clear()
            due = self.next_send_due()
            if due is not None and due <= self.clock.now():
                try:
                    await self.flush_outbox()
                except Exception:  # noqa: BLE001 - e.g. the database is away; try again shortly
                    log.exception("sending failed")
                    await asyncio.sleep(1)
                continue
            await self.clock.sleep_until(due, self._send_wake)

    def parked(self) -> int:
        with new_session(self.engine) as session:
            return inbox.count_parked(session=session)


def _as_pending(row: OutboxMessage) -> Pending:
    return Pending(id=row.id, conversation=row.room_id or row.to_id or "", is_room=row.room_id is not None,
                   created_at=row.created_at, urgent=row.urgent, reply=row.in_reply_to is not None,
                   next_attempt_at=row.next_attempt_at,
                   alone=row.image_b64 is not None or row.attachment_sha256 is not None)
