"""Tickets and their explicit state machine. Every change writes a TicketEvent (actor, time, note)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, delete, func
from sqlmodel import Session, col, select

from storage.db import run
from storage.models import LabelReview, Ticket, TicketEvent, TicketFollower, TicketStatus

S = TicketStatus
OPEN_STATUSES = (S.NEW, S.ASSIGNED, S.ACCEPTED, S.RETURNED)


@dataclass(frozen=True)
class Transition:
    sources: tuple[TicketStatus, ...]
    target: TicketStatus | None  # None: the status stays as it is (e.g. an extension)


# action -> which states it may start from and where it leads
TRANSITIONS: dict[str, Transition] = {
    "assigned": Transition((S.NEW, S.RETURNED, S.ASSIGNED, S.ACCEPTED), S.ASSIGNED),
    "accepted": Transition((S.ASSIGNED,), S.ACCEPTED),
    "resolved": Transition((S.ACCEPTED,), S.RESOLVED),
    "transferred": Transition((S.ASSIGNED, S.ACCEPTED), S.ASSIGNED),
    "returned": Transition((S.ASSIGNED, S.ACCEPTED), S.RETURNED),
    "extended": Transition((S.ASSIGNED, S.ACCEPTED), None),
    "supervised": Transition(OPEN_STATUSES, None),
    "merged": Transition(OPEN_STATUSES, None),
    "chased": Transition(OPEN_STATUSES, None),  # 催办: the reporter asks again why it is not done
    "located": Transition((S.NEW,), None),
    "reopened": Transition((S.RESOLVED, S.CLOSED), S.ASSIGNED),
    "closed": Transition((S.RESOLVED,), S.CLOSED),
    # 撤销: staff say the ticket is no request (the classifier filed chatter); it is closed and counted in no KPI
    "voided": Transition((S.NEW, S.ASSIGNED, S.ACCEPTED, S.RETURNED), S.CLOSED),
    # a voided ticket filed again by staff (登记 under its message): back to NEW, to be routed as a new one
    "restored": Transition((S.CLOSED,), S.NEW),
}

STATUS_NAMES = {S.NEW: "待派单", S.ASSIGNED: "待接单", S.ACCEPTED: "处理中", S.RESOLVED: "已办结待回访",
                S.CLOSED: "已关闭", S.RETURNED: "已退回待重新指派"}


# a voided ticket (撤销) is closed, but says so: its status, and its result in the ledger and in Open311
VOIDED_NAME = "已撤销"
VOIDED_RESULT = "已撤销（不是诉求）"


def status_name(ticket: Ticket) -> str:
    """What people read as a ticket's status: a voided ticket (撤销) is closed, but says so."""
    return VOIDED_NAME if ticket.voided else STATUS_NAMES[ticket.status]


class IllegalTransition(Exception):
    """Refused with a reason a grid worker can read."""


def create_ticket(*, session: Session, now: datetime, source_message_id: str, text: str, category: str,
                  category_name: str, reporter_id: str, reporter_name: str, urgent: bool = False,
                  urgent_reason: str | None = None, building: str | None = None, unit: str | None = None,
                  room_no: str | None = None, location_raw: str | None = None, room_id: str | None = None,
                  room_topic: str | None = None, keywords: str = "", created_by: str | None = None,
                  note: str | None = None) -> Ticket:
    """A new ticket and its "created" event; created_by: who filed it when not the reporter (a staff member filing
    a resident's message the bot missed), with a note saying so."""
    ticket = Ticket(
        source_message_id=source_message_id, text=text, category=category, category_name=category_name,
        urgent=urgent, urgent_reason=urgent_reason, building=building, unit=unit, room_no=room_no,
        location_raw=location_raw, reporter_id=reporter_id, reporter_name=reporter_name, room_id=room_id,
        room_topic=room_topic, keywords=keywords, created_at=now, updated_at=now, status=S.NEW,
    )
    session.add(ticket)
    session.flush()
    session.add(TicketEvent(ticket_id=ticket.id, kind="created", actor_id=created_by or reporter_id, at=now,
                            to_status=S.NEW.value, note=note))
    return ticket


def transition(*, session: Session, ticket: Ticket, action: str, actor_id: str, now: datetime,
               note: str | None = None, assignee_staff_id: str | None = None,
               grid_id: str | None = None) -> TicketEvent:
    rule = TRANSITIONS[action]
    # a voided ticket is closed as no request: it is restored (登记 again), never reopened; only it is restored
    if ticket.status not in rule.sources or (action == "reopened" and ticket.voided) or (
            action == "restored" and not ticket.voided):
        raise IllegalTransition(f"工单#{ticket.id}当前状态为“{status_name(ticket)}”，不能{ACTION_NAMES[action]}")
    before = ticket.status
    if rule.target is not None:
        ticket.status = rule.target
    if action in ("assigned", "transferred"):
        ticket.assignee_staff_id = assignee_staff_id
        ticket.grid_id = grid_id or ticket.grid_id
        ticket.accepted_at = None
        ticket.place_asked_until = None
        ticket.transfer_count += action == "transferred"
    elif action == "accepted":
        ticket.accepted_at = now
    elif action == "resolved":
        ticket.resolved_at = now
        ticket.resolution_note = note
    elif action == "returned":
        ticket.assignee_staff_id = None
        ticket.return_count += 1
    elif action == "reopened":
        ticket.reopen_count += 1
        ticket.resolved_at = None
        ticket.closed_at = None
        ticket.rating = None
        ticket.followup_due_at = None
        ticket.accepted_at = None
    elif action == "closed":
        ticket.closed_at = now
        ticket.followup_due_at = None
    elif action == "voided":
        ticket.voided = True
        ticket.closed_at = now
        ticket.followup_due_at = None
        ticket.place_asked_until = None
    elif action == "restored":
        ticket.voided = False
        ticket.closed_at = None
        ticket.assignee_staff_id = None
        ticket.accepted_at = None
    if action in ("voided", "restored"):  # the correction is made anew: an earlier signature no longer speaks for it
        session.execute(delete(LabelReview).where(col(LabelReview.ticket_id) == ticket.id))
    ticket.updated_at = now
    session.add(ticket)
    event = TicketEvent(ticket_id=ticket.id, kind=action, actor_id=actor_id, at=now, note=note,
                        from_status=before.value, to_status=ticket.status.value)
    session.add(event)
    return event


ACTION_NAMES = {"assigned": "指派", "accepted": "接单", "resolved": "办结", "transferred": "转办",
                "returned": "退回", "extended": "延期", "supervised": "督办", "merged": "合并", "chased": "催办",
                "located": "补充地点", "reopened": "重新办理", "closed": "关闭", "voided": "撤销",
                "restored": "恢复"}


def filed_by_staff():  # noqa: ANN201 - a subquery of ticket ids
    """The tickets a staff member filed by hand (登记 of a message the bot missed): their "created" event is not the
    reporter's (create_ticket's created_by)."""
    return (select(TicketEvent.ticket_id).join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
            .where(TicketEvent.kind == "created", TicketEvent.actor_id != Ticket.reporter_id))


def get_ticket(*, session: Session, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id)


def list_tickets(*, session: Session, statuses: tuple[TicketStatus, ...] | None = None,
                 assignee_staff_id: str | None = None) -> list[Ticket]:
    query = select(Ticket)
    if statuses:
        query = query.where(col(Ticket.status).in_(statuses))
    if assignee_staff_id is not None:
        query = query.where(Ticket.assignee_staff_id == assignee_staff_id)
    return list(session.exec(query.order_by(Ticket.created_at, Ticket.id)))


def events_of(*, session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)))


def events_after(*, session: Session, last_id: int) -> list[TicketEvent]:
    return list(session.exec(select(TicketEvent).where(TicketEvent.id > last_id).order_by(TicketEvent.id)))


def add_follower(*, session: Session, ticket: Ticket, contact_id: str, room_id: str | None,
                 message_id: str | None, now: datetime) -> bool:
    if contact_id == ticket.reporter_id or session.get(TicketFollower, (ticket.id, contact_id)):
        return False
    session.add(TicketFollower(ticket_id=ticket.id, contact_id=contact_id, room_id=room_id,
                               message_id=message_id, joined_at=now))
    return True


# Built once: queries run for every resident's message, with their values as parameters.
_LAST_REPEAT = select(func.max(TicketEvent.at)).where(
    TicketEvent.ticket_id == bindparam("ticket_id"), TicketEvent.kind == "merged",
    TicketEvent.actor_id == bindparam("actor_id"))
_OPEN_CANDIDATES = select(Ticket).where(
    Ticket.category == bindparam("category"), col(Ticket.status).in_(OPEN_STATUSES),
    Ticket.created_at >= bindparam("since", type_=Ticket.__table__.c.created_at.type)).order_by(Ticket.id)
_WAITING_FOR_PLACE = select(Ticket.id).where(
    Ticket.reporter_id == bindparam("reporter_id"), Ticket.status == S.NEW,
    Ticket.place_asked_until > bindparam("now", type_=Ticket.__table__.c.place_asked_until.type),
).order_by(col(Ticket.id).desc()).limit(1)
_WAITING_IN_ROOM = _WAITING_FOR_PLACE.where(Ticket.room_id == bindparam("room_id"))
_WAITING_IN_PRIVATE = _WAITING_FOR_PLACE.where(col(Ticket.room_id).is_(None))


def last_repeat_at(*, session: Session, ticket_id: int, actor_id: str) -> datetime | None:
    """When this person last repeated the ticket's problem and was answered (its `merged` event)."""
    return run(session, _LAST_REPEAT, {"ticket_id": ticket_id, "actor_id": actor_id}).scalar()


def followers_of(*, session: Session, ticket_id: int) -> list[TicketFollower]:
    return list(session.exec(select(TicketFollower).where(TicketFollower.ticket_id == ticket_id)))


def open_candidates(*, session: Session, category: str, since: datetime) -> list[Ticket]:
    """Open tickets of this category filed since `since`: the ones a repeat report may join."""
    return list(session.exec(_OPEN_CANDIDATES, params={"category": category, "since": since}))


def waiting_for_place(*, session: Session, reporter_id: str, room_id: str | None, now: datetime) -> Ticket | None:
    """The reporter's newest ticket that waits for them to name the place (asked for every resident's text: its id
    is looked up first, the ticket loaded only when there is one)."""
    if room_id is None:
        ticket_id = run(session, _WAITING_IN_PRIVATE, {"reporter_id": reporter_id, "now": now}).scalar()
    else:
        ticket_id = run(session, _WAITING_IN_ROOM, {"reporter_id": reporter_id, "room_id": room_id, "now": now}).scalar()
    return session.get(Ticket, ticket_id) if ticket_id is not None else None


def place_wait_over(*, session: Session, now: datetime) -> list[Ticket]:
    query = select(Ticket).where(Ticket.status == S.NEW, Ticket.place_asked_until <= now)
    return list(session.exec(query.order_by(Ticket.id)))


def awaiting_rating(*, session: Session, reporter_id: str) -> Ticket | None:
    query = select(Ticket).where(Ticket.reporter_id == reporter_id, Ticket.status == S.RESOLVED,
                                 col(Ticket.followup_due_at).is_not(None))
    return session.exec(query.order_by(col(Ticket.resolved_at).desc())).first()


def followup_over(*, session: Session, now: datetime) -> list[Ticket]:
    query = select(Ticket).where(Ticket.status == S.RESOLVED, Ticket.followup_due_at <= now)
    return list(session.exec(query.order_by(Ticket.id)))


def due_for_notice(*, session: Session, now: datetime) -> list[Ticket]:
    """Open tickets whose reminder or next escalation is due."""
    query = select(Ticket).where(col(Ticket.status).in_(OPEN_STATUSES),
                                 (Ticket.remind_at <= now) | (Ticket.next_escalation_at <= now))
    return list(session.exec(query.order_by(Ticket.due_at, Ticket.id)))


def next_due(*, session: Session) -> datetime | None:
    """The earliest time any sweep has ticket work: for the simulator's clock to jump straight to it."""
    query = select(func.min(Ticket.remind_at), func.min(Ticket.next_escalation_at)).where(
        col(Ticket.status).in_(OPEN_STATUSES))
    candidates = [*session.exec(query).one(),
                  session.exec(select(func.min(Ticket.place_asked_until)).where(Ticket.status == S.NEW)).one(),
                  session.exec(select(func.min(Ticket.followup_due_at)).where(Ticket.status == S.RESOLVED)).one()]
    return min((c for c in candidates if c is not None), default=None)


def last_assigned_at(*, session: Session, ticket_id: int) -> datetime | None:
    query = select(TicketEvent.at).where(TicketEvent.ticket_id == ticket_id,
                                         col(TicketEvent.kind).in_(("assigned", "transferred", "reopened")))
    return session.exec(query.order_by(col(TicketEvent.id).desc())).first()


def last_resolved_by(*, session: Session, actor_id: str, since: datetime) -> Ticket | None:
    """The ticket this person (WeChat id) last resolved since then, if it is still resolved."""
    ticket_id = session.exec(select(TicketEvent.ticket_id).where(
        TicketEvent.kind == "resolved", TicketEvent.actor_id == actor_id, col(TicketEvent.at) >= since)
        .order_by(col(TicketEvent.at).desc(), col(TicketEvent.id).desc())).first()
    ticket = session.get(Ticket, ticket_id) if ticket_id is not None else None
    return ticket if ticket is not None and ticket.status == TicketStatus.RESOLVED else None
