"""Notices (reminders, escalations, digests) claimed once by a unique key, so none is sent twice."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage.models import Notice


def claim(*, session: Session, key: str, kind: str, target: str, scheduled_at: datetime, now: datetime,
          period_start: datetime | None = None, period_end: datetime | None = None, late: bool = False) -> bool:
    """True if this notice was not sent before; it is recorded in the caller's transaction with its messages.

    Two processes racing for the same key: one commit fails on the unique key, rolls back its messages
    with it, and the sweep finds the key taken on its next run.
    """
    if session.exec(select(Notice.id).where(Notice.key == key)).first() is not None:
        return False
    session.add(Notice(key=key, kind=kind, target=target, scheduled_at=scheduled_at, sent_at=now,
                       period_start=period_start, period_end=period_end, late=late))
    session.flush()
    return True


def last(*, session: Session, kind: str, target: str | None = None) -> Notice | None:
    query = select(Notice).where(Notice.kind == kind)
    if target is not None:
        query = query.where(Notice.target == target)
    return session.exec(query.order_by(col(Notice.scheduled_at).desc(), col(Notice.id).desc())).first()


def first_start(*, session: Session, now: datetime) -> datetime:
    """When this database first served: digests missed before that are not owed to anyone."""
    row = session.exec(select(Notice).where(Notice.key == "started")).first()
    if row is None:
        row = Notice(key="started", kind="started", target="mulin", scheduled_at=now, sent_at=now)
        session.add(row)
        session.flush()
    return row.scheduled_at
