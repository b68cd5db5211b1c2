"""The staff's corrections of the classifier as labelled lines, in the shape of tests/data/classifier/: what `mulin
export corrections` prints and the console's 更正审核 page downloads. A line a person reviewed carries their labels and
name in `reviewed_by` (classifier.train accepts it); one nobody reviewed carries the staff's correction and
`"reviewed_by": null` (classifier.train refuses it until someone signs it). The messages read on the 抽查 page
follow, each signed (`source` mulin:message#N, `why` "spot check, random" or "spot check, near")."""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from handlers.texts import mask
from storage import spotcheck
from storage.export import corrections, reviews_of
from storage.kpi import Scope
from storage.models import LabelReview, MessageReview, Ticket


def labels_of(ticket: Ticket, filed: bool, review: LabelReview | None) -> tuple[bool, str | None, bool]:
    """(request, category, urgent): the signed ones, else the staff's correction: a message staff filed by hand
    (`filed`) is a request of the ticket's category, a voided ticket none."""
    if review is not None:
        return review.is_request, review.category, review.urgent
    return filed, ticket.category if filed else None, bool(ticket.urgent) and filed


def correction_line(ticket: Ticket, filed: bool, review: LabelReview | None) -> dict:
    """One labelled line; phone and ID numbers are masked."""
    request, category, urgent = labels_of(ticket, filed, review)
    return {"text": mask(ticket.text), "expect_request": request, "expect_category": category,
            "expect_urgent": urgent, "group": "mulin", "source": f"mulin:ticket#{ticket.id}",
            "why": "staff filed" if filed else "staff voided",
            "reviewed_by": review.reviewer_name if review is not None else None}


def spot_check_line(review: MessageReview) -> dict:
    """One message read on the 抽查 page as a labelled line (its text was masked when it was signed)."""
    return {"text": review.text, "expect_request": review.is_request, "expect_category": review.category,
            "expect_urgent": review.urgent, "group": "mulin", "source": f"mulin:message#{review.message_row_id}",
            "why": f"spot check, {review.sample}", "reviewed_by": review.reviewer_name}


def correction_lines(*, session: Session, since: datetime | None, scope: Scope = None,
                     visible: spotcheck.Visible = lambda room_id, topic: True, reviewed_only: bool = False) -> list[dict]:
    """The corrections filed or changed since `since` (all: None) within `scope`, oldest first; `reviewed_only`:
    only the signed ones. Then the drawn messages signed since `since` in the groups `visible` admits."""
    found = corrections(session=session, since=since, scope=scope)
    reviews = reviews_of(session=session, ticket_ids=[t.id for t, _ in found])
    lines = [correction_line(t, filed, reviews.get(t.id)) for t, filed in found
             if not reviewed_only or t.id in reviews]
    return lines + [spot_check_line(r) for r, _ in spotcheck.signed(session=session, visible=visible)
                    if since is None or r.reviewed_at >= since]
