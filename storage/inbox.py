"""Incoming messages, stored by WeChat message id before anything else happens (idempotent intake)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from bot.types import Incoming
from storage.models import IncomingMessage, MessageState

MAX_ATTEMPTS = 3


def record_incoming(*, session: Session, msg: Incoming, now: datetime) -> bool:
    """Store and commit the message; False when this message id was seen before (a redelivery)."""
    values = dict(message_id=msg.id, room_id=msg.room_id, room_topic=msg.room_topic, sender_id=msg.sender_id,
                  sender_name=msg.sender_name, kind=msg.kind, text=msg.text, sent_at=msg.at, received_at=now,
                  state=MessageState.RECEIVED, attempts=0)
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    statement = insert(IncomingMessage).values(**values).on_conflict_do_nothing(index_elements=["message_id"])
    inserted = session.execute(statement.returning(IncomingMessage.id)).first() is not None
    session.commit()
    return inserted


def is_unfinished(*, session: Session, message_id: str) -> bool:
    """Stored and still to be handled (not processed, not parked)."""
    state = session.exec(select(IncomingMessage.state).where(IncomingMessage.message_id == message_id)).first()
    return state in (MessageState.RECEIVED, MessageState.FAILED)


def mark_processed(*, session: Session, message_id: str, ticket_id: int | None = None) -> None:
    values: dict = {"state": MessageState.PROCESSED}
    if ticket_id is not None:
        values["ticket_id"] = ticket_id
    session.execute(update(IncomingMessage).where(IncomingMessage.message_id == message_id).values(**values))


def mark_failed(*, session: Session, message_id: str, error: str) -> IncomingMessage:
    """Count a failed attempt; after MAX_ATTEMPTS the message is parked for an operator."""
    row = session.exec(select(IncomingMessage).where(IncomingMessage.message_id == message_id)).one()
    row.attempts += 1
    row.error = error[:2000]
    row.state = MessageState.PARKED if row.attempts >= MAX_ATTEMPTS else MessageState.FAILED
    session.add(row)
    session.commit()
    return row


def unfinished(*, session: Session) -> list[IncomingMessage]:
    """Messages received but not processed (a crash or a failure): to retry on start."""
    states = (MessageState.RECEIVED, MessageState.FAILED)
    return list(session.exec(select(IncomingMessage).where(col(IncomingMessage.state).in_(states))
                             .order_by(IncomingMessage.id)))


def as_incoming(row: IncomingMessage) -> Incoming:
    return Incoming(id=row.message_id, sender_id=row.sender_id, sender_name=row.sender_name, text=row.text,
                    at=row.sent_at, room_id=row.room_id, room_topic=row.room_topic, kind=row.kind)


def count_parked(*, session: Session) -> int:
    return session.exec(select(func.count()).select_from(IncomingMessage)
                        .where(IncomingMessage.state == MessageState.PARKED)).one()


def room_id_for(*, session: Session, room: str) -> str | None:
    """A configured group (topic or id) as the room id last seen on a message from it."""
    query = select(IncomingMessage.room_id).where((IncomingMessage.room_topic == room) | (IncomingMessage.room_id == room))
    return session.exec(query.order_by(col(IncomingMessage.id).desc())).first()
