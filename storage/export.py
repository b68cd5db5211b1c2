"""What the exports read: the tickets filed or changed since a moment, the latest note on each, and the staff's
corrections of the classifier with the labels a person signed for them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from storage import readings
from storage.db import dialect_insert
from storage.kpi import Scope
from storage.models import LabelReview, Ticket, TicketEvent
from storage.tickets import filed_by_staff

# notes staff or the bot wrote; `created`, `merged` and `located` hold residents' own words and names
NOTE_KINDS = ("assigned", "transferred", "returned", "extended", "resolved", "reopened", "closed", "voided")


def _touched_since(since: datetime):  # noqa: ANN202
    return or_(Ticket.created_at >= since, Ticket.updated_at >= since)


def tickets_since(*, session: Session, since: datetime | None) -> list[Ticket]:
    """All tickets, or those filed or changed at or after `since`, oldest first."""
    query = select(Ticket).order_by(Ticket.created_at, Ticket.id)
    if since is not None:
        query = query.where(_touched_since(since))
    return list(session.exec(query))


def latest_notes(*, session: Session, since: datetime | None) -> dict[int, str]:
    """Per ticket (of those `tickets_since` returns), the note of its latest event of NOTE_KINDS."""
    latest = (select(func.max(TicketEvent.id))
              .where(col(TicketEvent.kind).in_(NOTE_KINDS), col(TicketEvent.note).is_not(None))
              .group_by(TicketEvent.ticket_id))
    if since is not None:
        latest = latest.join(Ticket, col(Ticket.id) == TicketEvent.ticket_id).where(_touched_since(since))
    rows = session.exec(select(TicketEvent.ticket_id, TicketEvent.note).where(col(TicketEvent.id).in_(latest)))
    return {ticket_id: note for ticket_id, note in rows}


def corrections(*, session: Session, since: datetime | None, scope: Scope = None) -> list[tuple[Ticket, bool]]:
    """Staff corrections of the classifier, oldest first: (ticket, True) for a message a staff member filed by hand
    (its "created" event is not the reporter's: handlers.staff_filing), (ticket, False) for a ticket voided as no
    request (撤销). What `mulin export corrections` writes as labelled lines; `scope`: only those a person may see."""
    query = select(Ticket).where(or_(col(Ticket.voided).is_(True), col(Ticket.id).in_(filed_by_staff())))
    if since is not None:
        query = query.where(_touched_since(since))
    if scope is not None:
        query = query.where(scope)
    return [(t, not t.voided) for t in session.exec(query.order_by(Ticket.created_at, Ticket.id))]


def reviews_of(*, session: Session, ticket_ids: list[int]) -> dict[int, LabelReview]:
    """The signed labels of these tickets' corrections, by ticket id (those not yet reviewed are absent)."""
    if not ticket_ids:
        return {}
    return {r.ticket_id: r for r in session.exec(select(LabelReview).where(col(LabelReview.ticket_id).in_(ticket_ids)))}


def save_review(*, session: Session, ticket_id: int, is_request: bool, category: str | None, urgent: bool,
                reviewer_id: str, reviewer_name: str, now: datetime) -> None:
    """Sign a correction's labels (the caller checked them against LABELS.md); a later reading replaces an earlier
    one, also when two people sign the same line at once (one statement: insert, or update on conflict), and keeps
    the reading it replaces when the labels differ (storage.readings; of two signing at once, one may go unkept)."""
    previous = session.exec(select(LabelReview).where(LabelReview.ticket_id == ticket_id)
                            .execution_options(populate_existing=True)).first()
    values = dict(ticket_id=ticket_id, is_request=is_request, category=category, urgent=urgent,
                  reviewer_id=reviewer_id, reviewer_name=reviewer_name, reviewed_at=now,
                  earlier=readings.after(previous, is_request=is_request, category=category, urgent=urgent))
    statement = dialect_insert(session.get_bind().dialect.name)(LabelReview).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=["ticket_id"], set_={k: v for k, v in values.items() if k != "ticket_id"}))

