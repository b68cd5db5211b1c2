"""The staff's corrections of the classifier as labelled lines, in the shape of tests/data/classifier/: what `mulin
export corrections` prints and the console's 更正审核 page downloads. A line a person reviewed carries their labels and
name in `reviewed_by` (classifier.train accepts it); one nobody reviewed carries the staff's correction and
`"reviewed_by": null` (classifier.train refuses it until someone signs it)."""
from __future__ import annotations

from storage.models import LabelReview, Ticket
from handlers.texts import mask


def correction_line(ticket: Ticket, filed: bool, review: LabelReview | None) -> dict:
    """`filed`: a message staff filed by hand (a request of the ticket's category); else a ticket voided as none.
    Phone and ID numbers are masked."""
    if review is not None:
        request, category, urgent = review.is_request, review.category, review.urgent
    else:
        request, category, urgent = filed, ticket.category if filed else None, bool(ticket.urgent) and filed
    return {"text": mask(ticket.text), "expect_request": request, "expect_category": category,
            "expect_urgent": urgent, "group": "mulin", "source": f"mulin:ticket#{ticket.id}",
            "why": "staff filed" if filed else "staff voided",
            "reviewed_by": review.reviewer_name if review is not None else None}


def correction_lines(found: list[tuple[Ticket, bool]], reviews: dict[int, LabelReview], *,
                     reviewed_only: bool = False) -> list[dict]:
    return [correction_line(t, filed, reviews.get(t.id)) for t, filed in found
            if not reviewed_only or t.id in reviews]
