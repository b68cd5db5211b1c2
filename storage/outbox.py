"""The outbox: replies are written with the state change that causes them and delivered afterwards."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, select

from bot.types import Outgoing
from storage.models import OutboxMessage, OutboxState

MAX_SEND_ATTEMPTS = 5


def enqueue(*, session: Session, out: Outgoing, now: datetime, ticket_id: int | None = None,
            held: bool = False) -> OutboxMessage:
    row = OutboxMessage(room_id=out.room_id, to_id=out.to_id, mentions=",".join(out.mentions), text=out.text,
                        ticket_id=ticket_id, created_at=now, state=OutboxState.HELD if held else OutboxState.PENDING)
    session.add(row)
    return row


def held_by_room(*, session: Session) -> dict[str, list[OutboxMessage]]:
    """Held group acknowledgements, oldest first, per group."""
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.state == OutboxState.HELD)
                        .order_by(OutboxMessage.id))
    by_room: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        by_room.setdefault(row.room_id or "", []).append(row)
    return by_room


def mark_merged(*, session: Session, rows: list[OutboxMessage]) -> None:
    for row in rows:
        row.state = OutboxState.MERGED
        session.add(row)


def pending(*, session: Session, limit: int = 100) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.state == OutboxState.PENDING).order_by(OutboxMessage.id)
    return list(session.exec(query.limit(limit)))


def as_outgoing(row: OutboxMessage) -> Outgoing:
    mentions = tuple(m for m in row.mentions.split(",") if m)
    return Outgoing(text=row.text, room_id=row.room_id, to_id=row.to_id, mentions=mentions)


def mark_sent(*, session: Session, row: OutboxMessage, now: datetime, gateway_message_id: str | None) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
        state=OutboxState.SENT, sent_at=now, attempts=row.attempts + 1, gateway_message_id=gateway_message_id))
    session.commit()


def mark_send_failed(*, session: Session, row: OutboxMessage, error: str) -> None:
    row.attempts += 1
    row.error = error[:2000]
    if row.attempts >= MAX_SEND_ATTEMPTS:
        row.state = OutboxState.FAILED
    session.add(row)
    session.commit()
