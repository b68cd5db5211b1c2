"""Incoming messages, stored by WeChat message id before anything else happens (idempotent intake)."""
from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, func, select

from core.types import Incoming
from storage.db import dialect_insert
from storage.models import IncomingMessage, MessageState

MAX_ATTEMPTS = 3


def fingerprint(msg: Incoming) -> str | None:
    """The same group message as seen by every bot account in the group (each gets its own message id)."""
    if msg.room_id is None:
        return None
    key = "\x1f".join((msg.room_id, msg.sender_id, msg.at.isoformat(), msg.kind, msg.text))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


# Built once: the statements of every message's path, run through the session's connection with their
# values as parameters (building and caching a statement per message cost more than the database did).
_INSERT: dict = {}  # dialect -> the insert that skips a message seen before (by id or fingerprint)
_STATE = select(IncomingMessage.state, IncomingMessage.id, IncomingMessage.received_at, IncomingMessage.sender_id,
                IncomingMessage.room_id, IncomingMessage.sent_at).where(
    IncomingMessage.message_id == bindparam("b_message_id")).with_for_update()
_PROCESSED = update(IncomingMessage).where(IncomingMessage.message_id == bindparam("b_message_id")).values(
    state=MessageState.PROCESSED)
_PROCESSED_TICKET = _PROCESSED.values(ticket_id=bindparam("b_ticket_id"))
_PROCESSED_DRAWN = _PROCESSED.values(spot_check=bindparam("b_spot_check"))


def _insert(dialect: str):
    if dialect not in _INSERT:
        _INSERT[dialect] = dialect_insert(dialect)(IncomingMessage).on_conflict_do_nothing().returning(
            IncomingMessage.id)
    return _INSERT[dialect]


def record_incoming(*, session: Session, msg: Incoming, now: datetime, owner: str | None = None) -> bool:
    """Store and commit the message; False when it was seen before (a redelivery, or another account's copy)."""
    values = dict(message_id=msg.id, fingerprint=fingerprint(msg), owner=owner, room_id=msg.room_id, room_topic=msg.room_topic, sender_id=msg.sender_id,
                  sender_name=msg.sender_name, kind=msg.kind, text=msg.text, addressed=msg.addressed,
                  mentions=",".join(msg.mentions), sent_at=msg.at,
                  received_at=now, state=MessageState.RECEIVED, attempts=0)
    connection = session.connection()
    inserted = connection.execute(_insert(connection.dialect.name), values).first() is not None
    session.commit()
    return inserted


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _escaped(text: str) -> str:
    """Control characters as visible \\xNN, so a row the database refused once can still be written."""
    return _CONTROL_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def record_parked(*, session: Session, msg: Incoming, now: datetime, error: str, owner: str | None = None) -> bool:
    """The database refused the message as it came (not a lost connection): keep it, escaped and parked for an
    operator, instead of losing it. False when a row with its id is already there."""
    values = dict(message_id=msg.id, fingerprint=None, owner=owner, room_id=msg.room_id,
                  room_topic=_escaped(msg.room_topic) if msg.room_topic else msg.room_topic, sender_id=msg.sender_id,
                  sender_name=_escaped(msg.sender_name), kind=msg.kind, text=_escaped(msg.text), addressed=msg.addressed,
                  mentions=",".join(msg.mentions), sent_at=msg.at, received_at=now, state=MessageState.PARKED, attempts=1, error=error[:2000])
    statement = dialect_insert(session.get_bind().dialect.name)(IncomingMessage).values(**values).on_conflict_do_nothing()
    inserted = session.execute(statement.returning(IncomingMessage.id)).first() is not None
    session.commit()
    return inserted


class Stored(NamedTuple):
    """Where a message sits in the inbox: what its handling reads again (its earlier fragments follow from it)."""
    id: int
    received_at: datetime
    sender_id: str
    room_id: str | None
    sent_at: datetime


def unfinished_entry(*, session: Session, message_id: str) -> Stored | None:
    """The message's inbox row when it is stored and still to be handled (not processed, not parked), else None.
    The row stays locked until the handling commits, so a second process that took the message over waits and
    then finds it processed."""
    row = session.connection().execute(_STATE, {"b_message_id": message_id}).first()
    if row is None or row.state not in (MessageState.RECEIVED, MessageState.FAILED):
        return None
    return Stored(row.id, row.received_at, row.sender_id, row.room_id, row.sent_at)


def mark_processed(*, session: Session, message_id: str, ticket_id: int | None = None,
                   spot_check: str | None = None) -> None:
    """Done with; `spot_check`: the stratum a message that filed nothing was drawn in for 抽查 (handlers.spotcheck)."""
    if spot_check is not None:
        session.connection().execute(_PROCESSED_DRAWN, {"b_message_id": message_id, "b_spot_check": spot_check})
    elif ticket_id is None:
        session.connection().execute(_PROCESSED, {"b_message_id": message_id})
    else:
        session.connection().execute(_PROCESSED_TICKET, {"b_message_id": message_id, "b_ticket_id": ticket_id})


def mark_failed(*, session: Session, message_id: str, error: str) -> IncomingMessage:
    """Count a failed attempt; after MAX_ATTEMPTS the message is parked for an operator."""
    row = session.exec(select(IncomingMessage).where(IncomingMessage.message_id == message_id)).one()
    row.attempts += 1
    row.error = error[:2000]
    row.state = MessageState.PARKED if row.attempts >= MAX_ATTEMPTS else MessageState.FAILED
    session.add(row)
    session.commit()
    return row


_UNFINISHED = (MessageState.RECEIVED, MessageState.FAILED)


def unfinished(*, session: Session, owners: list[str] | None = None) -> list[IncomingMessage]:
    """Messages received but not processed (a crash or a failure): to retry. With `owners`, only those
    stored by these accounts (or by nobody in particular)."""
    query = select(IncomingMessage).where(col(IncomingMessage.state).in_(_UNFINISHED))
    if owners is not None:
        query = query.where(col(IncomingMessage.owner).in_(owners) | col(IncomingMessage.owner).is_(None))
    return list(session.exec(query.order_by(IncomingMessage.id)))


def take_over(*, session: Session, dead: list[str], owner: str) -> int:
    """Unfinished messages of processes that died become this account's to handle; returns how many."""
    if not dead:
        return 0
    result = session.execute(update(IncomingMessage).where(
        col(IncomingMessage.owner).in_(dead), col(IncomingMessage.state).in_(_UNFINISHED)).values(owner=owner))
    session.commit()
    return result.rowcount


def as_incoming(row: IncomingMessage) -> Incoming:
    return Incoming(id=row.message_id, sender_id=row.sender_id, sender_name=row.sender_name, text=row.text,
                    at=row.sent_at, room_id=row.room_id, room_topic=row.room_topic, kind=row.kind,
                    addressed=bool(row.addressed), mentions=tuple(m for m in (row.mentions or "").split(",") if m))


def count_parked(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(IncomingMessage)
                        .where(IncomingMessage.state == MessageState.PARKED)).one()


def room_ids_of(*, session: Session, rooms: tuple[str, ...]) -> set[str]:
    """The room ids seen on messages from these groups (topics or ids), in one query."""
    query = select(IncomingMessage.room_id).where(
        col(IncomingMessage.room_topic).in_(rooms) | col(IncomingMessage.room_id).in_(rooms)).distinct()
    return {room_id for room_id in session.exec(query) if room_id is not None}


def room_id_for(*, session: Session, room: str) -> str | None:
    """A configured group (topic or id) as the room id last seen on a message from it."""
    query = select(IncomingMessage.room_id).where((IncomingMessage.room_topic == room) | (IncomingMessage.room_id == room))
    return session.exec(query.order_by(col(IncomingMessage.id).desc())).first()


def recent_ticket_of(*, session: Session, sender_id: str, room_id: str | None, since: datetime,
                     until: datetime) -> int | None:
    """The ticket that this person's latest message in this chat between `since` and `until` filed or joined."""
    room = col(IncomingMessage.room_id).is_(None) if room_id is None else IncomingMessage.room_id == room_id
    return session.exec(select(IncomingMessage.ticket_id).where(
        IncomingMessage.sender_id == sender_id, room, col(IncomingMessage.ticket_id).is_not(None),
        col(IncomingMessage.sent_at) >= since, col(IncomingMessage.sent_at) <= until)
        .order_by(col(IncomingMessage.sent_at).desc(), col(IncomingMessage.id).desc())).first()
