"""What mulin holds about a person and for how long: the retention purge, stable pseudonyms, export and erase.

Texts are removed by overwriting them with "" and stamping `purged_at`; the rows stay, so idempotency (message id,
fingerprint, time, state), ticket counts and KPIs are unchanged. `mask` (phone and ID numbers) is passed in by
the caller: the masking rules live with the texts in handlers/.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import and_, delete, or_, update
from sqlmodel import Session, col, select

from storage.attachments import expire_unlinked
from storage.db import dialect_insert
from storage.models import (Attachment, BindAttempt, BindCode, EraseRequest, IncomingMessage, MessageReview,
                            MessageState, OutboxMessage, OutboxState, Setting, StaffBinding, Ticket, TicketEvent,
                            TicketFollower, TicketStatus)

Mask = Callable[[str], str]
PSEUDONYM_PREFIX = "anon_"
PSEUDONYM_NAME = "居民"
SALT_KEY = "pseudonym_salt"
ERASED = "erased"  # the ticket_event kind of an erase: the ticket and its counts stay, the person does not
_UNSENT = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.HELD)  # still to go out: never erased under it


# ---- pseudonyms ----------------------------------------------------------------------------
def _salt(session: Session) -> str:
    """A random salt made once per database, so a pseudonym cannot be recomputed from a WeChat id elsewhere."""
    row = session.get(Setting, SALT_KEY)
    if row is None:
        insert = dialect_insert(session.get_bind().dialect.name)
        session.execute(insert(Setting).values(key=SALT_KEY, value=secrets.token_hex(16)).on_conflict_do_nothing())
        row = session.get(Setting, SALT_KEY)
    return row.value


def pseudonym(*, session: Session, contact_id: str) -> str:
    """The same contact gets the same pseudonym on every ticket, so history stays countable per person."""
    if contact_id.startswith(PSEUDONYM_PREFIX):
        return contact_id
    digest = hashlib.sha256(f"{_salt(session)}\x1f{contact_id}".encode("utf-8")).hexdigest()
    return PSEUDONYM_PREFIX + digest[:16]


def _replace_mentions(mentions: str, contacts: dict[str, str]) -> str:
    return ",".join(contacts.get(m, m) for m in mentions.split(",")) if mentions else mentions


def _pseudonymise(session: Session, ticket: Ticket, contacts: dict[str, str], mask: Mask, now: datetime) -> None:
    """Replace these contacts (id -> pseudonym) on one ticket: reporter, followers, events, its messages."""
    if ticket.reporter_id in contacts:
        ticket.reporter_id, ticket.reporter_name = contacts[ticket.reporter_id], PSEUDONYM_NAME
    ticket.text = mask(ticket.text)
    ticket.resolution_note = mask(ticket.resolution_note) if ticket.resolution_note else ticket.resolution_note
    ticket.location_raw = mask(ticket.location_raw) if ticket.location_raw else ticket.location_raw
    session.add(ticket)
    for old, new in contacts.items():
        session.execute(update(TicketFollower).where(TicketFollower.ticket_id == ticket.id,
                                                     TicketFollower.contact_id == old).values(contact_id=new))
        session.execute(update(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.actor_id == old)
                        .values(actor_id=new))
        # the complaint's words stay on the ticket; its message rows keep only what idempotency needs
        session.execute(update(IncomingMessage).where(IncomingMessage.ticket_id == ticket.id,
                                                      IncomingMessage.sender_id == old)
                        .values(sender_id=new, sender_name="", text="", purged_at=now))
    for event in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                        col(TicketEvent.note).is_not(None))):
        if mask(event.note) != event.note:
            event.note = mask(event.note)
            session.add(event)
    for row in session.exec(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id,
                                                        col(OutboxMessage.state).not_in(_UNSENT))):
        _rewrite_sent(session, row, contacts, now, clear=True)


def _rewrite_sent(session: Session, row: OutboxMessage, contacts: dict[str, str], now: datetime, *,
                  clear: bool) -> None:
    """A sent message names the contacts (to, @) by pseudonym; `clear`: its text goes too."""
    row.to_id = contacts.get(row.to_id, row.to_id) if row.to_id else row.to_id
    row.mentions = _replace_mentions(row.mentions, contacts)
    if clear:
        row.text, row.image_b64, row.purged_at = "", None, row.purged_at or now
    session.add(row)


# ---- retention -------------------------------------------------------------------------------
def purge_chatter(*, session: Session, before: datetime, now: datetime, limit: int,
                  drawn_before: datetime | None = None) -> int:
    """Texts of messages that filed or joined no ticket, received before `before`; parked ones only once an
    operator has looked; one drawn for 抽查 only once received before `drawn_before` (None: as any other). Returns
    how many rows were emptied (at most `limit`)."""
    done = or_(IncomingMessage.state == MessageState.PROCESSED,
               and_(IncomingMessage.state == MessageState.PARKED, col(IncomingMessage.reviewed_at).is_not(None)))
    due = IncomingMessage.received_at < before
    if drawn_before is not None:
        due = and_(due, or_(col(IncomingMessage.spot_check).is_(None), IncomingMessage.received_at < drawn_before))
    ids = list(session.exec(select(IncomingMessage.id).where(
        col(IncomingMessage.purged_at).is_(None), col(IncomingMessage.ticket_id).is_(None), done,
        due).order_by(IncomingMessage.id).limit(limit)))
    if ids:
        session.execute(update(IncomingMessage).where(col(IncomingMessage.id).in_(ids))
                        .values(text="", sender_name="", purged_at=now))
    return len(ids)


def purge_readings(*, session: Session, before: datetime, limit: int) -> int:
    """Signed 抽查 readings (masked text and labels) signed before `before`: kept as long as a closed ticket's words."""
    ids = list(session.exec(select(MessageReview.message_row_id).where(MessageReview.reviewed_at < before)
                            .order_by(MessageReview.message_row_id).limit(limit)))
    if ids:
        session.execute(delete(MessageReview).where(col(MessageReview.message_row_id).in_(ids)))
    return len(ids)


def purge_sent(*, session: Session, before: datetime, now: datetime, limit: int) -> int:
    """Texts (and pictures) of messages delivered before `before`; failed ones only once an operator has looked."""
    sent = and_(OutboxMessage.state == OutboxState.SENT, OutboxMessage.sent_at < before)
    summarised = and_(OutboxMessage.state == OutboxState.SUMMARISED, OutboxMessage.created_at < before)
    reviewed = and_(OutboxMessage.state == OutboxState.FAILED, col(OutboxMessage.reviewed_at).is_not(None),
                    OutboxMessage.created_at < before)
    ids = list(session.exec(select(OutboxMessage.id).where(
        col(OutboxMessage.purged_at).is_(None), or_(sent, summarised, reviewed))
        .order_by(OutboxMessage.id).limit(limit)))
    if ids:
        session.execute(update(OutboxMessage).where(col(OutboxMessage.id).in_(ids))
                        .values(text="", image_b64=None, purged_at=now))
    return len(ids)


def pseudonymise_closed(*, session: Session, before: datetime, now: datetime, limit: int, mask: Mask) -> int:
    """Tickets closed before `before`: reporter and followers become stable pseudonyms."""
    tickets = list(session.exec(select(Ticket).where(
        Ticket.status == TicketStatus.CLOSED, Ticket.closed_at < before, col(Ticket.pseudonymised_at).is_(None))
        .order_by(Ticket.id).limit(limit)))
    for ticket in tickets:
        people = [ticket.reporter_id, *(f.contact_id for f in session.exec(
            select(TicketFollower).where(TicketFollower.ticket_id == ticket.id)))]
        contacts = {p: pseudonym(session=session, contact_id=p) for p in people
                    if not p.startswith(PSEUDONYM_PREFIX)}
        _pseudonymise(session, ticket, contacts, mask, now)
        ticket.pseudonymised_at = now
        session.add(ticket)
    return len(tickets)


# ---- a person's rights -----------------------------------------------------------------------
def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _ticket_ids_of(session: Session, contact_id: str) -> tuple[list[int], list[int]]:
    reported = list(session.exec(select(Ticket.id).where(Ticket.reporter_id == contact_id).order_by(Ticket.id)))
    followed = list(session.exec(select(TicketFollower.ticket_id).where(TicketFollower.contact_id == contact_id)
                                 .order_by(TicketFollower.ticket_id)))
    return reported, followed


@dataclass(frozen=True)
class Held:
    """What is held about one contact, in short (the private-chat answer to 我的信息)."""

    messages: int          # messages whose text is still stored
    purged_messages: int   # messages of which only id and time remain
    reported: list[int]
    followed: list[int]
    ratings: int
    readings: int = 0      # messages drawn for 抽查 and read: their masked text is kept with the labels


def held(*, session: Session, contact_id: str) -> Held:
    rows = list(session.exec(select(IncomingMessage.purged_at).where(IncomingMessage.sender_id == contact_id)))
    reported, followed = _ticket_ids_of(session, contact_id)
    ratings = len(list(session.exec(select(Ticket.id).where(
        Ticket.reporter_id == contact_id, col(Ticket.rating).in_(("satisfied", "basically", "dissatisfied"))))))
    readings = len(list(session.exec(select(MessageReview.message_row_id).join(
        IncomingMessage, col(IncomingMessage.id) == MessageReview.message_row_id).where(
        IncomingMessage.sender_id == contact_id))))
    return Held(messages=sum(1 for r in rows if r is None), purged_messages=sum(1 for r in rows if r is not None),
                reported=reported, followed=followed, ratings=ratings, readings=readings)


def export_contact(*, session: Session, contact_id: str, now: datetime) -> dict[str, Any]:
    """Everything stored about one WeChat contact, as JSON-ready data."""
    messages = [{"message_id": m.message_id, "room_id": m.room_id, "room_topic": m.room_topic, "kind": m.kind,
                 "sent_at": _iso(m.sent_at), "received_at": _iso(m.received_at), "state": m.state.value,
                 "ticket_id": m.ticket_id, "sender_name": m.sender_name, "text": m.text if m.purged_at is None else None,
                 "text_removed_at": _iso(m.purged_at)}
                for m in session.exec(select(IncomingMessage).where(IncomingMessage.sender_id == contact_id)
                                       .order_by(IncomingMessage.id))]
    mentioned = col(OutboxMessage.mentions).contains(contact_id, autoescape=True)
    sent = [{"id": o.id, "room_id": o.room_id, "to_id": o.to_id, "ticket_id": o.ticket_id, "state": o.state.value,
             "created_at": _iso(o.created_at), "sent_at": _iso(o.sent_at),
             "text": o.text if o.purged_at is None else None, "text_removed_at": _iso(o.purged_at)}
            for o in session.exec(select(OutboxMessage).where((OutboxMessage.to_id == contact_id) | mentioned)
                                  .order_by(OutboxMessage.id))]
    reported, followed = _ticket_ids_of(session, contact_id)
    tickets = []
    for ticket_id in sorted(set(reported) | set(followed)):
        t = session.get(Ticket, ticket_id)
        events = [{"kind": e.kind, "at": _iso(e.at), "by_you": e.actor_id == contact_id, "note": e.note,
                   "from_status": e.from_status, "to_status": e.to_status}
                  for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                        .order_by(TicketEvent.id))]
        tickets.append({"id": t.id, "role": "reporter" if t.reporter_id == contact_id else "follower",
                        "status": t.status.value, "category": t.category_name, "text": t.text,
                        "reporter_name": t.reporter_name if t.reporter_id == contact_id else None,
                        "building": t.building, "unit": t.unit, "room_no": t.room_no, "room_id": t.room_id,
                        "room_topic": t.room_topic, "created_at": _iso(t.created_at), "closed_at": _iso(t.closed_at),
                        "rating": t.rating if t.reporter_id == contact_id else None,
                        "resolution_note": t.resolution_note, "events": events})
    ratings = [{"ticket_id": t["id"], "rating": t["rating"]} for t in tickets if t["rating"] not in (None, "unrated")]
    bindings = {
        "staff": [{"staff_id": b.staff_id, "bound_at": _iso(b.bound_at)}
                  for b in session.exec(select(StaffBinding).where(StaffBinding.wechat_id == contact_id))],
        "codes_used": [{"staff_id": c.staff_id, "used_at": _iso(c.used_at)}
                       for c in session.exec(select(BindCode).where(BindCode.used_by == contact_id))],
        "attempts": [{"at": _iso(a.at), "ok": a.ok}
                     for a in session.exec(select(BindAttempt).where(BindAttempt.contact_id == contact_id)
                                           .order_by(BindAttempt.id))]}
    requests = [{"requested_at": _iso(r.requested_at), "confirmed_at": _iso(r.confirmed_at)}
                for r in session.exec(select(EraseRequest).where(EraseRequest.contact_id == contact_id))]
    photos = [{"message_id": a.message_id, "room_id": a.room_id, "sent_at": _iso(a.sent_at), "state": a.state.value,
               "size": a.size, "sha256": a.sha256, "ticket_id": a.ticket_id, "role": a.role}
              for a in session.exec(select(Attachment).where(Attachment.sender_id == contact_id)
                                    .order_by(Attachment.id))]
    readings = [{"message_id": m.message_id, "sample": r.sample, "text": r.text, "is_request": r.is_request,
                 "category": r.category, "reviewed_at": _iso(r.reviewed_at)}
                for r, m in session.exec(select(MessageReview, IncomingMessage)
                                         .join(IncomingMessage, col(IncomingMessage.id) == MessageReview.message_row_id)
                                         .where(IncomingMessage.sender_id == contact_id)
                                         .order_by(MessageReview.message_row_id))]
    return {"contact": contact_id, "exported_at": _iso(now), "messages": messages, "spot_check_readings": readings,
            "messages_to_you": sent,
            "photos": photos, "tickets": tickets, "ratings": ratings, "bindings": bindings,
            "erase_requests": requests}


class ErasureRefused(Exception):
    """An erase that must not be done (a staff member's own binding); the message says why, in Chinese."""


@dataclass(frozen=True)
class Erased:
    pseudonym: str
    messages: int
    sent: int
    tickets: list[int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def erase_contact(*, session: Session, contact_id: str, actor_id: str, now: datetime, mask: Mask) -> Erased:
    """Remove the contact's message texts and replace them by a pseudonym on tickets (which stay, with every
    count), each such ticket noting it in a `ticket_event`. Messages still to be sent are left to go out.
    Flushed, not committed: the caller commits with whatever else it does."""
    if session.exec(select(StaffBinding).where(StaffBinding.wechat_id == contact_id)).first() is not None:
        raise ErasureRefused(f"{contact_id} 是已绑定的工作人员，请先在 config.yaml 或绑定中解除，再删除 "
                             "(a bound staff member cannot be erased)")
    # the signed readings of their messages (抽查) hold their words too; first, while their rows still carry their id
    session.execute(delete(MessageReview).where(col(MessageReview.message_row_id).in_(
        select(IncomingMessage.id).where(IncomingMessage.sender_id == contact_id))))
    alias = pseudonym(session=session, contact_id=contact_id)
    contacts = {contact_id: alias}
    reported, followed = _ticket_ids_of(session, contact_id)
    tickets = sorted(set(reported) | set(followed))
    for ticket_id in tickets:
        ticket = session.get(Ticket, ticket_id)
        _pseudonymise(session, ticket, contacts, mask, now)
        session.add(TicketEvent(ticket_id=ticket_id, kind=ERASED, actor_id=actor_id, at=now,
                                note="本人申请删除个人信息：反映人已替换为化名", from_status=ticket.status.value,
                                to_status=ticket.status.value))
    session.execute(update(TicketEvent).where(TicketEvent.actor_id == contact_id).values(actor_id=alias))
    messages = session.execute(update(IncomingMessage).where(
        IncomingMessage.sender_id == contact_id, IncomingMessage.state != MessageState.RECEIVED)
        .values(sender_id=alias, sender_name="", text="", purged_at=now)).rowcount
    sent = 0
    mentioned = col(OutboxMessage.mentions).contains(contact_id, autoescape=True)
    for row in session.exec(select(OutboxMessage).where((OutboxMessage.to_id == contact_id) | mentioned,
                                                        col(OutboxMessage.state).not_in(_UNSENT))):
        to_them = row.to_id == contact_id
        _rewrite_sent(session, row, contacts, now, clear=to_them)
        sent += to_them
    # photos that joined a ticket stay with it (the case's evidence) under the pseudonym; the rest lose their bytes
    expire_unlinked(session=session, before=None, sender_id=contact_id)
    session.execute(update(Attachment).where(Attachment.sender_id == contact_id).values(sender_id=alias))
    session.execute(delete(BindAttempt).where(BindAttempt.contact_id == contact_id))
    session.execute(update(BindCode).where(BindCode.used_by == contact_id).values(used_by=alias))
    session.execute(update(EraseRequest).where(EraseRequest.contact_id == contact_id).values(contact_id=alias))
    session.flush()
    return Erased(pseudonym=alias, messages=messages, sent=sent, tickets=tickets)


def request_erase(*, session: Session, contact_id: str, now: datetime) -> bool:
    """Record a resident's erase request; False when one is already waiting for a secretary."""
    if pending_erase(session=session, contact_id=contact_id) is not None:
        return False
    session.add(EraseRequest(contact_id=contact_id, requested_at=now))
    return True


def pending_erase(*, session: Session, contact_id: str) -> EraseRequest | None:
    return session.exec(select(EraseRequest).where(EraseRequest.contact_id == contact_id,
                                                   col(EraseRequest.confirmed_at).is_(None))).first()


def confirm_erase(*, session: Session, request: EraseRequest, staff_id: str, now: datetime) -> None:
    request.confirmed_by, request.confirmed_at = staff_id, now
    session.add(request)
    session.flush()
