"""The database's evidence of health: heartbeats and gateway links, queue depths, the last scan and digest.

Read by `mulin status` and by the Prometheus collector of `mulin run`; none of it counts processed messages,
so a scrape stays cheap however large the inbox grows.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from storage.models import IncomingMessage, MessageState, Node, Notice, OutboxMessage, OutboxState
from storage.nodes import DEFAULT_NODE

INBOX_WAITING = (MessageState.RECEIVED, MessageState.FAILED, MessageState.PARKED)
OUTBOX_WAITING = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.HELD, OutboxState.FAILED)


@dataclass
class Inbox:
    """Per account (the owner of the stored messages; a one-account deployment's are under DEFAULT_NODE)."""

    received: int = 0            # stored, not handled yet
    failed: int = 0              # failed once or twice, to be retried
    parked: int = 0              # kept failing: waits for an operator
    parked_unreviewed: int = 0
    oldest_waiting: datetime | None = None  # received_at of the oldest received or failed message
    last_received: datetime | None = None


@dataclass
class Outbox:
    pending: int = 0
    sending: int = 0
    held: int = 0
    failed: int = 0
    failed_unreviewed: int = 0
    retrying: int = 0            # pending after a failed attempt: a send is failing right now
    oldest_pending: datetime | None = None


@dataclass
class Evidence:
    nodes: list[Node]
    inbox: dict[str, Inbox] = field(default_factory=dict)
    outbox: Outbox = field(default_factory=Outbox)
    last_digest: datetime | None = None


def _owner(owner: str | None) -> str:
    return owner or DEFAULT_NODE


def gather(*, session: Session) -> Evidence:
    evidence = Evidence(nodes=list(session.exec(select(Node).order_by(Node.account))))
    waiting = select(IncomingMessage.owner, IncomingMessage.state, func.count(), func.min(IncomingMessage.received_at),
                     func.count(IncomingMessage.reviewed_at)).where(
        col(IncomingMessage.state).in_(INBOX_WAITING)).group_by(IncomingMessage.owner, IncomingMessage.state)
    for owner, state, n, oldest, reviewed in session.exec(waiting):
        inbox = evidence.inbox.setdefault(_owner(owner), Inbox())
        setattr(inbox, MessageState(state).value, getattr(inbox, MessageState(state).value) + n)
        if state == MessageState.PARKED:
            inbox.parked_unreviewed += n - reviewed
        elif inbox.oldest_waiting is None or oldest < inbox.oldest_waiting:
            inbox.oldest_waiting = oldest
    last = select(IncomingMessage.owner, func.max(IncomingMessage.received_at)).group_by(IncomingMessage.owner)
    for owner, at in session.exec(last):
        evidence.inbox.setdefault(_owner(owner), Inbox()).last_received = at
    out = evidence.outbox
    queued = select(OutboxMessage.state, func.count(), func.count(OutboxMessage.reviewed_at)).where(
        col(OutboxMessage.state).in_(OUTBOX_WAITING)).group_by(OutboxMessage.state)
    for state, n, reviewed in session.exec(queued):
        setattr(out, OutboxState(state).value, n)
        if state == OutboxState.FAILED:
            out.failed_unreviewed = n - reviewed
    out.retrying = session.exec(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.state == OutboxState.PENDING, OutboxMessage.attempts > 0)).one()
    out.oldest_pending = session.exec(select(func.min(OutboxMessage.created_at)).where(
        OutboxMessage.state == OutboxState.PENDING)).one()
    evidence.last_digest = session.exec(select(func.max(Notice.sent_at)).where(
        col(Notice.kind).in_(("digest", "weekly")))).one()
    return evidence


def review(*, session: Session, now: datetime) -> tuple[int, int]:
    """An operator has looked at the parked messages and failed sends: they no longer count against health, and
    their texts fall under the retention windows. Returns (messages, sends) marked."""
    parked = session.execute(update(IncomingMessage).where(
        IncomingMessage.state == MessageState.PARKED, col(IncomingMessage.reviewed_at).is_(None))
        .values(reviewed_at=now)).rowcount
    failed = session.execute(update(OutboxMessage).where(
        OutboxMessage.state == OutboxState.FAILED, col(OutboxMessage.reviewed_at).is_(None))
        .values(reviewed_at=now)).rowcount
    session.commit()
    return parked, failed
