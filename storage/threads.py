"""What a message means in its thread, read from the inbox and the tickets: earlier fragments of one person's
split message, the message a quote reply quotes, and residents' chase-ups (催办) of open tickets."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, func, select

from storage.db import run
from storage.inbox import Stored
from storage.kpi import Scope
from storage.models import IncomingMessage, MessageState, Ticket, TicketEvent, TicketFollower
from storage.tickets import OPEN_STATUSES

CHASED = "chased"


class Fragment(NamedTuple):
    message_id: str
    text: str
    received_at: datetime


# Built once, run with parameters: every resident's text asks (building the statement cost more than running it)
_RECENT = select(IncomingMessage.message_id, IncomingMessage.text, IncomingMessage.received_at,
                 IncomingMessage.ticket_id, IncomingMessage.state, IncomingMessage.kind, IncomingMessage.sent_at).where(
    IncomingMessage.sender_id == bindparam("sender_id"), IncomingMessage.id < bindparam("before_id"),
    IncomingMessage.received_at >= bindparam("since", type_=IncomingMessage.__table__.c.received_at.type))
_RECENT_IN_ROOM = _RECENT.where(IncomingMessage.room_id == bindparam("room_id")).order_by(
    col(IncomingMessage.id).desc()).limit(bindparam("limit"))
_RECENT_IN_PRIVATE = _RECENT.where(col(IncomingMessage.room_id).is_(None)).order_by(
    col(IncomingMessage.id).desc()).limit(bindparam("limit"))


def earlier_fragments(*, session: Session, message_id: str, window: timedelta, limit: int = 4,
                      stored: Stored | None = None) -> list[Fragment]:
    """The same person's messages in the same chat just before this one that filed nothing, each at most `window`
    before the next, oldest first: as received, on the app's clock, and as WeChat stamped them when sent (after a
    reconnect the gateway re-sends a backlog in one burst: lines sent minutes apart arrive together, and are not
    one utterance). A message that filed or joined a ticket ends the chain: it was a whole utterance. `stored`: the
    message's inbox row, when already read."""
    current = stored or session.exec(select(IncomingMessage.id, IncomingMessage.received_at, IncomingMessage.sender_id,
                                            IncomingMessage.room_id, IncomingMessage.sent_at).where(
        IncomingMessage.message_id == message_id)).first()
    if current is None:
        return []
    params = {"sender_id": current.sender_id, "before_id": current.id,
              "since": current.received_at - window * limit, "limit": limit}
    if current.room_id is not None:
        rows = run(session, _RECENT_IN_ROOM, {**params, "room_id": current.room_id})
    else:
        rows = run(session, _RECENT_IN_PRIVATE, params)
    chain: list[Fragment] = []
    after, after_sent = current.received_at, current.sent_at
    for row in rows:
        if row.ticket_id is not None or row.state != MessageState.PROCESSED or row.kind != "text" \
                or after - row.received_at > window or abs(after_sent - row.sent_at) > window:
            break
        chain.append(Fragment(row.message_id, row.text, row.received_at))
        after, after_sent = row.received_at, row.sent_at
    return chain[::-1]


def link(*, session: Session, message_ids: list[str], ticket_id: int) -> None:
    """Fragments that became part of a ticket's message carry its id, so they are never joined again."""
    if message_ids:
        session.execute(update(IncomingMessage).where(col(IncomingMessage.message_id).in_(message_ids))
                        .values(ticket_id=ticket_id))


def _quoted(*, room_id: str | None, text: str, filed: bool | None, skip: str | None, quotes: bool):
    """The select of the latest messages in this chat whose text holds the quoted text's start (WeChat cuts long
    quotes with …), newest first; None for an empty quote. filed: only messages that filed or joined a ticket (True),
    only those that did not (False), or all (None); skip: a message id to leave out (the quote reply itself); quotes:
    whether other quote replies count (their text holds the words they quote)."""
    head = text.rstrip("…. ").strip()
    if not head:
        return None
    query = select(IncomingMessage).where(
        IncomingMessage.room_id == room_id, col(IncomingMessage.text).contains(head[:60], autoescape=True))
    if filed is not None:
        query = query.where(col(IncomingMessage.ticket_id).is_not(None) if filed else col(IncomingMessage.ticket_id).is_(None))
    if skip is not None:
        query = query.where(IncomingMessage.message_id != skip)
    if not quotes:
        query = query.where(~col(IncomingMessage.text).startswith("「"))
    return query.order_by(col(IncomingMessage.id).desc()).limit(QUOTE_CANDIDATES)


# how many recent messages holding the quoted words are weighed against each other (see quoted_message)
QUOTE_CANDIDATES = 20


def quoted_ticket(*, session: Session, room_id: str | None, author: str, text: str) -> Ticket | None:
    """The ticket a quoted message filed or joined: the latest message in this chat by someone of that display
    name whose text starts with the quoted text."""
    found = quoted_message(session=session, room_id=room_id, author=author, text=text, filed=True)
    return session.get(Ticket, found.ticket_id) if found is not None else None


def quoted_message(*, session: Session, room_id: str | None, author: str, text: str, filed: bool | None = None,
                   skip: str | None = None, quotes: bool = True) -> IncomingMessage | None:
    """The inbox row of a quoted message: among the recent messages holding the quoted words, the one whose text is
    the quote, else one that starts with it, else the newest; by that display name first, and by anyone's when none
    is (a renamed author, or a group alias in the quote, is still found by the words)."""
    query = _quoted(room_id=room_id, text=text, filed=filed, skip=skip, quotes=quotes)
    if query is None:
        return None
    quoted = text.strip()
    head = quoted.rstrip("…. ").strip()

    def best(rows: list[IncomingMessage]) -> IncomingMessage | None:
        return (next((r for r in rows if r.text.strip() == quoted), None)
                or next((r for r in rows if r.text.strip().startswith(head)), None)
                or (rows[0] if rows else None))

    return best(list(session.exec(query.where(IncomingMessage.sender_name == author)))) or best(
        list(session.exec(query)))


def open_tickets_of(*, session: Session, contact_id: str, room_id: str | None) -> list[Ticket]:
    """Open tickets this person reported or follows, filed in this chat (or privately), newest first."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.contact_id == contact_id)
    query = select(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES),
                                 (Ticket.reporter_id == contact_id) | col(Ticket.id).in_(followed))
    if room_id is not None:
        query = query.where(Ticket.room_id == room_id)
    return list(session.exec(query.order_by(col(Ticket.id).desc())))


def open_tickets_in(*, session: Session, room_id: str | None, category: str) -> list[Ticket]:
    """Open tickets of a category filed in this group, newest first (someone else's problem a chase-up joins)."""
    query = select(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES), Ticket.category == category,
                                 Ticket.room_id == room_id)
    return list(session.exec(query.order_by(col(Ticket.id).desc())))


def chase_count(*, session: Session, ticket_id: int) -> int:
    return session.exec(select(func.count(TicketEvent.id)).where(TicketEvent.ticket_id == ticket_id,
                                                                  TicketEvent.kind == CHASED)).one()


def last_chase_at(*, session: Session, ticket_id: int, actor_id: str) -> datetime | None:
    return session.exec(select(func.max(TicketEvent.at)).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == CHASED, TicketEvent.actor_id == actor_id)).one()


def chases(*, session: Session, since: datetime, until: datetime, scope: Scope = None) -> dict[int, int]:
    """Chase-ups in a period: ticket id -> how many."""
    query = select(TicketEvent.ticket_id, func.count(TicketEvent.id)).where(
        TicketEvent.kind == CHASED, TicketEvent.at >= since, TicketEvent.at < until)
    if scope is not None:
        query = query.join(Ticket, Ticket.id == TicketEvent.ticket_id).where(scope)
    return {ticket_id: int(n) for ticket_id, n in session.exec(query.group_by(TicketEvent.ticket_id))}
