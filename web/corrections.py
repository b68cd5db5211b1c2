"""更正审核: the staff's corrections of the classifier (a message filed by hand with 登记, a ticket voided with 撤销),
read by a secretary or the street office against classifier/LABELS.md and signed. Signed lines are what `mulin export
corrections --reviewed` and this page's download write for training (tests/data/classifier/groups/)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import and_
from sqlmodel import Session, col, select

from classifier.labels import label_problem
from classifier.rules import load_rules
from core.config import Config, Staff
from handlers.export.corrections import labels_of
from handlers.texts import mask
from storage import readings
from storage.export import corrections, reviews_of, save_review
from storage.kpi import Scope
from storage.models import LabelReview, MessageReview, Ticket, TicketEvent
from web.present import local

REVIEWERS = ("secretary", "street")  # grid workers make the corrections; someone else reads them
SHOWN = 200  # the newest this many on the page; the download holds every signed line
OWN = "这条更正是您本人做的，请由另一位书记或街道审核。"


def may_review(staff: Staff) -> bool:
    return staff.role in REVIEWERS


@lru_cache(maxsize=1)
def categories() -> dict[str, str]:
    """The review form's category codes and names: the classifier's rules, read on the page's first use."""
    return {c.code: c.name for c in load_rules().categories}


@dataclass(frozen=True)
class Labels:
    request: bool | None
    category: str | None
    urgent: bool


@dataclass(frozen=True)
class Made:
    """Who made a correction, with what note, and whether the ticket was filed by hand in the first place."""

    actor: str
    note: str
    by_hand: bool


def _made(session: Session, ticket_ids: list[int]) -> dict[int, Made]:
    """Per ticket: its latest 撤销 (actor and reason) if it was voided, else its hand filing."""
    rows = session.exec(select(TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.actor_id, TicketEvent.note,
                               Ticket.reporter_id, Ticket.voided)
                        .join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
                        .where(col(TicketEvent.ticket_id).in_(ticket_ids), col(TicketEvent.kind).in_(("voided", "created")))
                        .order_by(TicketEvent.id))
    made: dict[int, Made] = {}
    for ticket_id, kind, actor, note, reporter, voided in rows:
        if kind == "created":
            made[ticket_id] = Made(actor, note or "", actor != reporter)
        elif voided:
            made[ticket_id] = Made(actor, note or "", made[ticket_id].by_hand if ticket_id in made else False)
    return made


def _own(made: Made | None, me: set[str]) -> bool:
    return made is not None and made.actor in me


def page(*, session: Session, config: Config, scope: Scope, categories: dict[str, str], pending_only: bool,
         me: set[str], sent: tuple[int, Labels] | None = None) -> dict:
    """The corrections one may review, newest first: counts, and one row per correction with the labels its form
    shows (what was just sent and refused, else the signed ones, else the staff's correction). `me`: the reviewer's
    staff id and WeChat ids; their own corrections are shown without a form."""
    found = corrections(session=session, since=None, scope=scope)
    reviews = reviews_of(session=session, ticket_ids=[t.id for t, _ in found])
    pending = [(t, filed) for t, filed in found if t.id not in reviews]
    shown = list(reversed(pending if pending_only else found))[:SHOWN]
    made = _made(session, [t.id for t, _ in shown])
    rows = []
    for ticket, filed in shown:
        review, how = reviews.get(ticket.id), made.get(ticket.id)
        if sent is not None and sent[0] == ticket.id:
            labels = sent[1]
        else:
            labels = Labels(*labels_of(ticket, filed, review))
        by_hand = how is not None and how.by_hand
        did = ("手工登记（机器人漏了）" if filed else "代登记后又撤销（不是诉求）" if by_hand
               else "撤销（机器人误登记）")
        rows.append({"id": ticket.id, "created": local(ticket.created_at, config, "%m-%d %H:%M"),
                     "room": ticket.room_topic or "私聊", "text": mask(ticket.text), "did": did,
                     "bot": "" if filed or by_hand else categories.get(ticket.category, ticket.category_name),
                     "note": mask(how.note) if how else "", "labels": labels, "own": _own(how, me),
                     "review": signed_text(review, categories, config)})
    return {"rows": rows, "total": len(found), "pending": len(pending), "reviewed": len(found) - len(pending),
            "more": max(0, (len(pending) if pending_only else len(found)) - SHOWN)}


def signed_text(review: LabelReview | MessageReview | None, categories: dict[str, str], config: Config) -> str:
    """A signed reading as the review pages show it, with the readings it replaced, newest first:
    "是诉求 · 照明（李书记 12-07 10:00审核）；此前：不是诉求（王主任 12-06 09:00审核）"."""
    if review is None:
        return ""

    def reading(request: bool, category: str | None, urgent: bool, by: str, at) -> str:  # noqa: ANN001
        what = (f"是诉求 · {categories.get(category, category)}" + (" · 紧急" if urgent else "") if request
                else "不是诉求")
        return f"{what}（{by} {local(at, config, '%m-%d %H:%M')}审核）"

    text = reading(review.is_request, review.category, review.urgent, review.reviewer_name, review.reviewed_at)
    before = [reading(e["request"], e["category"], e["urgent"], e["by"], e["at"])
              for e in reversed(readings.entries(review))]
    return text + ("；此前：" + "；".join(before) if before else "")


def sent_labels(form) -> tuple[Labels, str | None]:  # noqa: ANN001 - starlette FormData
    """What a reviewer sent, as they sent it (a non-request keeps no category: the form's select stays filled), and
    the Chinese reason when LABELS.md does not allow it (None: it does)."""
    request = {"1": True, "0": False}.get(form.get("request") or "")
    category = (form.get("category") or "").strip()[:64] or None
    labels = Labels(request, None if request is False else category, form.get("urgent") == "1")
    return labels, label_problem(labels.request, labels.category, labels.urgent, set(categories())) or None


class OwnCorrection(Exception):
    """The reviewer made this correction themselves."""


def sign(*, session: Session, ticket_id: int, scope: Scope, labels: Labels, staff: Staff, me: set[str],
         now: datetime) -> bool:
    """Save the labels of one correction a person may see; False when ticket_id is no such correction, and
    OwnCorrection when they made it themselves."""
    only = col(Ticket.id) == ticket_id
    if not corrections(session=session, since=None, scope=only if scope is None else and_(only, scope)):
        return False
    if _own(_made(session, [ticket_id]).get(ticket_id), me):
        raise OwnCorrection(OWN)
    save_review(session=session, ticket_id=ticket_id, is_request=bool(labels.request), category=labels.category,
                urgent=labels.urgent, reviewer_id=staff.id, reviewer_name=staff.name, now=now)
    return True


