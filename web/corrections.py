"""更正审核: the staff's corrections of the classifier (a message filed by hand with 登记, a ticket voided with 撤销),
read by a secretary or the street office against classifier/LABELS.md and signed. Signed lines are what `mulin export
corrections --reviewed` and this page's download write for training (tests/data/classifier/groups/)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_
from sqlmodel import Session, col, select

from classifier.labels import label_problem
from core.config import Config, Staff
from handlers.export.corrections import correction_lines
from handlers.texts import mask
from storage.export import corrections, reviews_of, save_review
from storage.kpi import Scope
from storage.models import LabelReview, Ticket, TicketEvent
from web.present import local

REVIEWERS = ("secretary", "street")  # a grid worker made the correction; someone else reads it
SHOWN = 200  # the newest this many on the page; the download holds every signed line


def may_review(staff: Staff) -> bool:
    return staff.role in REVIEWERS


@dataclass(frozen=True)
class Labels:
    request: bool
    category: str | None
    urgent: bool


def _staff_notes(session: Session, ticket_ids: list[int]) -> dict[int, str]:
    """What the staff wrote with each correction: the 撤销 reason, or the note of the hand filing (its latest)."""
    rows = session.exec(select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.note)
                        .where(col(TicketEvent.ticket_id).in_(ticket_ids), col(TicketEvent.kind).in_(("voided", "created")),
                               col(TicketEvent.note).is_not(None)).order_by(TicketEvent.id))
    return {ticket_id: note for ticket_id, _, note in rows}


def page(*, session: Session, config: Config, scope: Scope, categories: dict[str, str], pending_only: bool) -> dict:
    """The corrections one may review, newest first: counts, and one row per correction with the labels the form
    starts from (the signed ones, else the staff's correction)."""
    found = corrections(session=session, since=None, scope=scope)
    reviews = reviews_of(session=session, ticket_ids=[t.id for t, _ in found])
    pending = [(t, filed) for t, filed in found if t.id not in reviews]
    shown = list(reversed(pending if pending_only else found))[:SHOWN]
    notes = _staff_notes(session, [t.id for t, _ in shown])
    rows = []
    for ticket, filed in shown:
        review = reviews.get(ticket.id)
        start = (Labels(review.is_request, review.category, review.urgent) if review is not None
                 else Labels(filed, ticket.category if filed else None, bool(ticket.urgent) and filed))
        rows.append({"id": ticket.id, "created": local(ticket.created_at, config, "%m-%d %H:%M"),
                     "room": ticket.room_topic or "私聊", "text": mask(ticket.text),
                     "did": "手工登记（机器人漏了）" if filed else "撤销（机器人误登记）",
                     "bot": "" if filed else categories.get(ticket.category, ticket.category_name),
                     "note": mask(notes.get(ticket.id, "")), "labels": start,
                     "review": _signed(review, categories, config)})
    return {"rows": rows, "total": len(found), "pending": len(pending), "reviewed": len(found) - len(pending),
            "more": max(0, (len(pending) if pending_only else len(found)) - SHOWN)}


def _signed(review: LabelReview | None, categories: dict[str, str], config: Config) -> str:
    if review is None:
        return ""
    what = (f"是诉求 · {categories.get(review.category, review.category)}" + (" · 紧急" if review.urgent else "")
            if review.is_request else "不是诉求")
    return f"{what}（{review.reviewer_name} {local(review.reviewed_at, config, '%m-%d %H:%M')}审核）"


def parse(form, codes: set[str]) -> Labels:  # noqa: ANN001 - starlette FormData
    """The labels a reviewer sent; ValueError with the Chinese reason when LABELS.md does not allow them."""
    answer = form.get("request")
    request = {"1": True, "0": False}.get(answer or "")
    category = (form.get("category") or "").strip()[:64] or None
    urgent = form.get("urgent") == "1"
    if request is False and category is not None:
        category = None  # the form keeps its select filled; a non-request has no category
    problem = label_problem(request, category, urgent, codes)
    if problem:
        raise ValueError(problem)
    return Labels(request, category, urgent)


def sign(*, session: Session, ticket_id: int, scope: Scope, labels: Labels, staff: Staff, now: datetime) -> bool:
    """Save the labels of one correction a person may see; False when ticket_id is no such correction."""
    only = col(Ticket.id) == ticket_id
    if not corrections(session=session, since=None, scope=only if scope is None else and_(only, scope)):
        return False
    save_review(session=session, ticket_id=ticket_id, is_request=labels.request, category=labels.category,
                urgent=labels.urgent, reviewer_id=staff.id, reviewer_name=staff.name, now=now)
    return True


def signed_lines(*, session: Session, scope: Scope) -> list[dict]:
    """The signed corrections one may see, as labelled lines for tests/data/classifier/groups/."""
    found = corrections(session=session, since=None, scope=scope)
    return correction_lines(found, reviews_of(session=session, ticket_ids=[t.id for t, _ in found]),
                            reviewed_only=True)
