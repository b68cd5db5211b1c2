"""The outbox: replies are written with the state change that causes them and delivered afterwards.

A send is PENDING -> SENDING (committed before the gateway is called) -> SENT, so a row found in
SENDING at start-up is the one message that may have gone out just before a crash.
"""
from __future__ import annotations

import base64

from datetime import datetime
from typing import Sequence

from sqlalchemy import bindparam, func, update
from sqlmodel import Session, col, select

from core.types import Outgoing
from storage.attachments import blob_data
from storage.models import OutboxMessage, OutboxState

_SENDS = (OutboxState.SENDING, OutboxState.SENT)


def enqueue(*, session: Session, out: Outgoing, now: datetime, ticket_id: int | None = None, urgent: bool = False,
            in_reply_to: str | None = None, held: bool = False, account: str | None = None,
            photo: tuple[str, str] | None = None) -> OutboxMessage:
    """photo: (sha256, file name) of a stored photo to send as a picture; its bytes are read when it is sent."""
    row = OutboxMessage(account=account, attachment_sha256=photo[0] if photo else None, room_id=out.room_id, to_id=out.to_id, mentions=",".join(out.mentions), text=out.text,
                        ticket_id=ticket_id, urgent=urgent, in_reply_to=in_reply_to, created_at=now,
                        image_b64=base64.b64encode(out.image).decode() if out.image is not None else None,
                        image_name=photo[1] if photo else out.image_name if out.image is not None else None,
                        state=OutboxState.HELD if held else OutboxState.PENDING)
    session.add(row)
    return row


def answered_since(*, session: Session, room_id: str, contact_id: str, texts: Sequence[str], since: datetime) -> bool:
    """Did the bot answer this person in this group with one of these texts since then (any state: written counts)?"""
    query = select(OutboxMessage.id).where(OutboxMessage.room_id == room_id, OutboxMessage.mentions == contact_id,
                                           col(OutboxMessage.text).in_(list(texts)), OutboxMessage.created_at >= since)
    return session.exec(query.limit(1)).first() is not None


def held_by_room(*, session: Session) -> dict[str, list[OutboxMessage]]:
    """Held group acknowledgements, oldest first, per group."""
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.state == OutboxState.HELD)
                        .order_by(OutboxMessage.id))
    by_room: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        by_room.setdefault(row.room_id or "", []).append(row)
    return by_room


def last_held_at(*, session: Session) -> datetime | None:
    return session.exec(select(func.max(OutboxMessage.created_at)).where(OutboxMessage.state == OutboxState.HELD)).one()


def mark_summarised(*, session: Session, rows: list[OutboxMessage]) -> None:
    for row in rows:
        row.state = OutboxState.SUMMARISED
        session.add(row)


# Built once: the statements of every flush, run with their values as parameters.
_PENDING = select(OutboxMessage).where(OutboxMessage.state == OutboxState.PENDING).order_by(OutboxMessage.id)
_OF_ACCOUNT = col(OutboxMessage.account).is_(None) | (OutboxMessage.account == bindparam("account"))
_IN_ROOMS = col(OutboxMessage.room_id).is_(None) | col(OutboxMessage.room_id).in_(bindparam("rooms", expanding=True))
_PENDING_FOR = {(a, r): _PENDING.where(*([_OF_ACCOUNT] if a else []), *([_IN_ROOMS] if r else []))
                for a in (False, True) for r in (False, True)}
_SENT_AT = OutboxMessage.__table__.c.sent_at
_RECENT_SENDS = select(OutboxMessage.room_id, OutboxMessage.to_id, OutboxMessage.sent_at).where(
    col(OutboxMessage.state).in_(_SENDS), col(OutboxMessage.merged_into).is_(None),
    col(OutboxMessage.sent_at) > bindparam("since", type_=_SENT_AT.type))
_GROUP_SENDS = select(OutboxMessage.room_id, func.count()).where(
    col(OutboxMessage.state).in_(_SENDS), col(OutboxMessage.merged_into).is_(None),
    col(OutboxMessage.room_id).is_not(None), col(OutboxMessage.sent_at) >= bindparam("since", type_=_SENT_AT.type)
).group_by(OutboxMessage.room_id)
_CLAIM_HEAD = update(OutboxMessage).where(
    OutboxMessage.id == bindparam("head"), OutboxMessage.state == OutboxState.PENDING).values(
    state=OutboxState.SENDING, sent_at=bindparam("at", type_=_SENT_AT.type), claimed_by=bindparam("by"))
_CLAIM_REST = update(OutboxMessage).where(
    col(OutboxMessage.id).in_(bindparam("rest", expanding=True)), OutboxMessage.state == OutboxState.PENDING).values(
    state=OutboxState.SENDING, sent_at=bindparam("at", type_=_SENT_AT.type), merged_into=bindparam("head"),
    claimed_by=bindparam("by"))
_SENT = update(OutboxMessage).where(col(OutboxMessage.id).in_(bindparam("ids", expanding=True))).values(
    state=OutboxState.SENT, attempts=OutboxMessage.attempts + 1, gateway_message_id=bindparam("gateway_id"))


def pending(*, session: Session, account: str | None = None, rooms: Sequence[str] | None = None) -> list[OutboxMessage]:
    """What waits to be sent; for one account of several: rows free for any account or pinned to it, and
    group messages only for the groups it serves (`rooms`, None: all)."""
    params: dict = {}
    if account is not None:
        params["account"] = account
    if rooms is not None:
        params["rooms"] = list(rooms)
    return list(session.exec(_PENDING_FOR[account is not None, rooms is not None], params=params))


def as_outgoing(*rows: OutboxMessage) -> Outgoing:
    """One WeChat message for one row, or for several rows of one chat merged: texts by line, mentions united."""
    mentions = dict.fromkeys(m for row in rows for m in row.mentions.split(",") if m)
    if rows[0].image_b64 is not None:  # pictures are never merged (pacing keeps them alone)
        return Outgoing(text=rows[0].text, room_id=rows[0].room_id, to_id=rows[0].to_id,
                        image=base64.b64decode(rows[0].image_b64), image_name=rows[0].image_name)
    return Outgoing(text="\n".join(row.text for row in rows), room_id=rows[0].room_id, to_id=rows[0].to_id,
                    mentions=tuple(mentions))


def outgoing(*, session: Session, rows: Sequence[OutboxMessage]) -> Outgoing:
    """as_outgoing, with a stored photo's bytes read from the one store every process shares."""
    head = rows[0]
    if head.attachment_sha256 is None:
        return as_outgoing(*rows)
    data = blob_data(session=session, sha256=head.attachment_sha256)
    if data is None:
        raise LookupError(f"photo {head.attachment_sha256} of outbox row {head.id} is not in attachment_blob")
    return Outgoing(text=head.text, room_id=head.room_id, to_id=head.to_id, image=data, image_name=head.image_name)


def recent_sends(*, session: Session, since: datetime) -> list[tuple[str | None, str | None, datetime]]:
    """(room_id, to_id, sent_at) of every WeChat message sent or being sent after `since`; merged ones once."""
    return [tuple(r) for r in session.exec(_RECENT_SENDS, params={"since": since})]


def group_sends_since(*, session: Session, since: datetime) -> dict[str, int]:
    """WeChat messages per group since `since` (for the daily cap)."""
    return {room: n for room, n in session.exec(_GROUP_SENDS, params={"since": since})}


def claim(*, session: Session, ids: Sequence[int], now: datetime, by: str | None = None) -> bool:
    """Committed before the gateway is called: after a crash this row is known to be possibly delivered.

    Only rows still PENDING are taken, all or none: False when another process claimed one of them first
    (several processes share one database), and then nothing changed."""
    head, rest = ids[0], list(ids[1:])
    connection = session.connection()
    taken = connection.execute(_CLAIM_HEAD, {"head": head, "at": now, "by": by}).rowcount
    if rest:
        taken += connection.execute(_CLAIM_REST, {"head": head, "rest": rest, "at": now, "by": by}).rowcount
    if taken != len(ids):
        session.rollback()
        return False
    session.commit()
    return True


def mark_sent(*, session: Session, ids: Sequence[int], gateway_message_id: str | None) -> None:
    session.connection().execute(_SENT, {"ids": list(ids), "gateway_id": gateway_message_id})
    session.commit()


def mark_send_failed(*, session: Session, ids: Sequence[int], error: str, retry_at: datetime | None) -> None:
    """The rows wait again; the first one backs off until `retry_at`, or is given up (FAILED) when None."""
    head, rest = ids[0], list(ids[1:])
    session.execute(update(OutboxMessage).where(OutboxMessage.id == head).values(
        state=OutboxState.PENDING if retry_at else OutboxState.FAILED, sent_at=None,
        attempts=OutboxMessage.attempts + 1, error=error[:2000], next_attempt_at=retry_at))
    if rest:
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(rest)).values(
            state=OutboxState.PENDING, sent_at=None, merged_into=None))
    session.commit()


def release(*, session: Session, ids: Sequence[int], retry_at: datetime) -> None:
    """Not sent at all (the gateway link is down): back to PENDING without using up an attempt."""
    session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(list(ids))).values(
        state=OutboxState.PENDING, sent_at=None, merged_into=None, next_attempt_at=retry_at))
    session.commit()


def recover_in_flight(*, session: Session, accounts: Sequence[str] | None = None) -> list[OutboxMessage]:
    """Rows left SENDING by a crash go back to PENDING (the gateway cannot tell us if they arrived): at
    start-up this account's own, later those of accounts whose process died (None: every row)."""
    where = [OutboxMessage.state == OutboxState.SENDING]
    if accounts is not None:
        where.append(col(OutboxMessage.claimed_by).in_(list(accounts)) | col(OutboxMessage.claimed_by).is_(None))
    rows = list(session.exec(select(OutboxMessage).where(*where).order_by(OutboxMessage.id)))
    if rows:
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_([r.id for r in rows])).values(
            state=OutboxState.PENDING, sent_at=None, merged_into=None, claimed_by=None,
            resent=OutboxMessage.resent + 1))
        session.commit()
    return rows


def count_resent(*, session: Session) -> int:
    """Rows that were in flight at a crash and sent again: each may have reached WeChat twice."""
    return session.exec(select(func.count()).where(OutboxMessage.resent > 0)).one()
