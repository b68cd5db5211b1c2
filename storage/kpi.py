"""The numbers of the daily digest and the weekly review, as SQL aggregates.

Only `daily_counts` (one week, for the chart) reads timestamps row by row: grouping by local day in SQL
differs between SQLite and PostgreSQL.

The KPIs are the 12345 hotline's; each definition is one line in docs/kpi.md and in `KPI_DEFINITIONS`.
Every function takes an optional `scope` (see `community_scope`): a condition on Ticket, None for all tickets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, and_, case, cast, func, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.models import Notice, Ticket, TicketEvent, TicketStatus
from storage.tickets import OPEN_STATUSES, filed_by_staff

S = TicketStatus
DONE_STATUSES = (S.RESOLVED, S.CLOSED)
Scope = ColumnElement | None


def community_scope(grid_ids: list[str], rooms: list[str]) -> ColumnElement:
    """One community's tickets: routed to one of its grids, or not routed and filed in one of its groups."""
    unrouted = and_(col(Ticket.grid_id).is_(None), or_(col(Ticket.room_id).in_(rooms), col(Ticket.room_topic).in_(rooms)))
    return or_(col(Ticket.grid_id).in_(grid_ids), unrouted)


def _within(scope: Scope) -> tuple:
    """The tickets the numbers count: not voided (撤销, no request), and in the scope when there is one."""
    counted = col(Ticket.voided).is_(False)
    return (counted,) if scope is None else (counted, scope)


def _scoped(scope: Scope) -> tuple:
    """The scope alone, voided tickets included (for the numbers about corrections)."""
    return () if scope is None else (scope,)

KPI_DEFINITIONS = {
    "响应率": "应接单的工单中按时接单的比例：接单时间不晚于接单期限 ÷（已接单 + 已过接单期限未接单）",
    "解决率": "已派单的工单中已办结（含已办结待回访、已关闭）的比例",
    "满意率": "（满意 + 0.9 × 基本满意）÷ 已评价工单数（未评价不计入）",
    "按时办结率": "已办结的工单中，办结时间不晚于办结期限（含延期）的比例",
    "回退率": "已派单的工单中被网格员退回过至少一次的比例",
    "重办率": "已办结过的工单中因居民反映没解决而重新办理过的比例",
}


@dataclass
class Kpis:
    tickets: int = 0
    responded_on_time: int = 0
    response_due: int = 0
    assigned: int = 0
    done: int = 0
    satisfied: int = 0
    basically: int = 0
    rated: int = 0
    resolved_on_time: int = 0
    resolved: int = 0
    returned: int = 0
    reopened: int = 0

    @staticmethod
    def _ratio(part: float, whole: int) -> float | None:
        return part / whole if whole else None

    def rates(self) -> dict[str, float | None]:
        return {
            "响应率": self._ratio(self.responded_on_time, self.response_due),
            "解决率": self._ratio(self.done, self.assigned),
            "满意率": self._ratio(self.satisfied + 0.9 * self.basically, self.rated),
            "按时办结率": self._ratio(self.resolved_on_time, self.resolved),
            "回退率": self._ratio(self.returned, self.assigned),
            "重办率": self._ratio(self.reopened, self.resolved),
        }


def _count(condition) -> object:  # noqa: ANN001
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def kpi_columns(now: datetime) -> list:
    was_resolved = or_(col(Ticket.resolved_at).is_not(None), Ticket.reopen_count > 0)
    return [
        func.count(Ticket.id),
        _count(and_(col(Ticket.accepted_at).is_not(None), Ticket.accepted_at <= Ticket.accept_due_at)),
        _count(or_(col(Ticket.accepted_at).is_not(None), Ticket.accept_due_at <= now)),
        _count(col(Ticket.assigned_at).is_not(None)),
        _count(col(Ticket.status).in_(DONE_STATUSES)),
        _count(Ticket.rating == "satisfied"),
        _count(Ticket.rating == "basically"),
        _count(col(Ticket.rating).in_(("satisfied", "basically", "dissatisfied"))),
        _count(and_(col(Ticket.resolved_at).is_not(None), Ticket.resolved_at <= Ticket.resolve_due_at)),
        _count(was_resolved),
        _count(Ticket.return_count > 0),
        _count(Ticket.reopen_count > 0),
    ]


def kpis(*, session: Session, since: datetime, until: datetime, now: datetime, scope: Scope = None) -> Kpis:
    """KPIs over the tickets filed in [since, until), as they stand at `now`."""
    query = select(*kpi_columns(now)).where(Ticket.created_at >= since, Ticket.created_at < until, *_within(scope))
    return Kpis(*(int(v) for v in session.exec(query).one()))


def kpis_by_worker(*, session: Session, since: datetime, until: datetime, now: datetime,
                   scope: Scope = None) -> dict[str, Kpis]:
    query = (select(Ticket.assignee_staff_id, *kpi_columns(now))
             .where(Ticket.created_at >= since, Ticket.created_at < until, col(Ticket.assignee_staff_id).is_not(None),
                    *_within(scope))
             .group_by(Ticket.assignee_staff_id))
    return {row[0]: Kpis(*(int(v) for v in row[1:])) for row in session.exec(query)}


def kpis_by_grid(*, session: Session, since: datetime, until: datetime, now: datetime,
                 scope: Scope = None) -> dict[str | None, Kpis]:
    """Per grid; tickets not yet routed to a grid are under None."""
    query = (select(Ticket.grid_id, *kpi_columns(now))
             .where(Ticket.created_at >= since, Ticket.created_at < until, *_within(scope)).group_by(Ticket.grid_id))
    return {row[0]: Kpis(*(int(v) for v in row[1:])) for row in session.exec(query)}


@dataclass
class Activity:
    """What happened in a period: counted from the audit trail, so a ticket that moved twice counts in both."""

    new: int = 0
    accepted: int = 0
    resolved: int = 0
    became_overdue: int = 0


def activity(*, session: Session, since: datetime, until: datetime, scope: Scope = None) -> Activity:
    new = session.exec(select(func.count(Ticket.id)).where(Ticket.created_at >= since, Ticket.created_at < until,
                                                           *_within(scope))).one()
    moves_query = select(TicketEvent.kind, func.count(TicketEvent.id)).where(
        TicketEvent.at >= since, TicketEvent.at < until, col(TicketEvent.kind).in_(("accepted", "resolved")))
    # breaches are the first escalations, whatever happened to the ticket afterwards
    overdue_query = select(func.count(Notice.id)).where(
        Notice.kind == "escalate", col(Notice.key).startswith("escalate1:"), Notice.scheduled_at >= since,
        Notice.scheduled_at < until)
    moves_query = moves_query.join(Ticket, Ticket.id == TicketEvent.ticket_id).where(*_within(scope))
    overdue_query = overdue_query.join(Ticket, cast(Ticket.id, String) == Notice.target).where(*_within(scope))
    moves = dict(session.exec(moves_query.group_by(TicketEvent.kind)).all())
    overdue = session.exec(overdue_query).one()
    return Activity(new=int(new), accepted=int(moves.get("accepted", 0)), resolved=int(moves.get("resolved", 0)),
                    became_overdue=int(overdue))


def corrections(*, session: Session, since: datetime, until: datetime, scope: Scope = None) -> tuple[int, int]:
    """How the staff corrected the classifier in a period: messages they filed by hand (a "created" event that is
    not the reporter's, handlers.staff_filing) and tickets they voided as no request (撤销)."""
    query = (select(func.count(TicketEvent.id)).join(Ticket, Ticket.id == TicketEvent.ticket_id)
             .where(TicketEvent.at >= since, TicketEvent.at < until, *_scoped(scope)))
    filed = session.exec(query.where(TicketEvent.kind == "created", TicketEvent.actor_id != Ticket.reporter_id)).one()
    voided = session.exec(query.where(TicketEvent.kind == "voided")).one()
    return int(filed), int(voided)


@dataclass(frozen=True)
class Hearing:
    """How the classifier heard the tickets filed in a period, as the staff's corrections tell: `filed` by the bot
    (its "created" event is the reporter's), of which staff `voided` as no request (撤销: a false alarm), and
    `missed`, messages staff filed by hand (登记) because the bot had not."""

    filed: int
    voided: int
    missed: int

    @property
    def false_alarm_rate(self) -> float | None:
        return self.voided / self.filed if self.filed else None

    @property
    def found_rate(self) -> float | None:
        """Of the requests the staff saw (bot-filed and not voided, plus the hand-filed), how many the bot filed."""
        heard = self.filed - self.voided
        return heard / (heard + self.missed) if heard + self.missed else None


def hearing(*, session: Session, since: datetime, until: datetime, scope: Scope = None) -> Hearing:
    by_staff = col(Ticket.id).in_(filed_by_staff())
    in_period = (Ticket.created_at >= since, Ticket.created_at < until)
    filed, voided = session.exec(select(
        func.count(Ticket.id), func.coalesce(func.sum(case((col(Ticket.voided).is_(True), 1), else_=0)), 0)
    ).where(*in_period, ~by_staff, *_scoped(scope))).one()
    missed = session.exec(select(func.count(Ticket.id)).where(*in_period, by_staff, *_within(scope))).one()
    return Hearing(int(filed), int(voided), int(missed))


def open_by(*, session: Session, column, scope: Scope = None) -> dict[str | None, int]:  # noqa: ANN001
    query = (select(column, func.count(Ticket.id)).where(col(Ticket.status).in_(OPEN_STATUSES), *_within(scope))
             .group_by(column))
    return {key: int(n) for key, n in session.exec(query)}


def overdue(*, session: Session, now: datetime, limit: int = 20, scope: Scope = None) -> tuple[int, list[Ticket]]:
    """How many open tickets are past their deadline, and the most overdue of them."""
    where = (col(Ticket.status).in_(OPEN_STATUSES), Ticket.due_at < now, *_within(scope))
    total = session.exec(select(func.count(Ticket.id)).where(*where)).one()
    rows = session.exec(select(Ticket).where(*where).order_by(Ticket.due_at, Ticket.id).limit(limit))
    return int(total), list(rows)


@dataclass
class HotSpot:
    building: str
    category: str
    category_name: str
    reports: int
    tickets: list[int] = field(default_factory=list)


def hot_spots(*, session: Session, since: datetime, until: datetime, min_reports: int,
              limit: int = 10, scope: Scope = None) -> tuple[int, list[HotSpot]]:
    """The same building and category reported `min_reports` times or more (a repeat report counts too).

    Returns how many there are and the `limit` most reported, with their ticket numbers.
    """
    reports = func.sum(1 + Ticket.follower_count)
    window = (Ticket.created_at >= since, Ticket.created_at < until, col(Ticket.building).is_not(None), *_within(scope))
    query = (select(Ticket.building, Ticket.category, func.min(Ticket.category_name), reports)
             .where(*window).group_by(Ticket.building, Ticket.category).having(reports >= min_reports)
             .order_by(reports.desc(), Ticket.building, Ticket.category))
    found = [HotSpot(b, c, name, int(n)) for b, c, name, n in session.exec(query)]
    spots = {(s.building, s.category): s for s in found[:limit]}
    if spots:
        ids = select(Ticket.building, Ticket.category, Ticket.id).where(
            *window, col(Ticket.building).in_({b for b, _ in spots}), col(Ticket.category).in_({c for _, c in spots}))
        for building, category, ticket_id in session.exec(ids.order_by(Ticket.id)):
            spot = spots.get((building, category))
            if spot is not None:
                spot.tickets.append(ticket_id)
    return len(found), list(spots.values())


def daily_counts(*, session: Session, since: datetime, until: datetime, tz,  # noqa: ANN001
                 scope: Scope = None) -> dict[str, dict]:
    """Per local day: tickets filed and resolved, for the weekly chart."""
    out: dict[str, dict] = {}
    filed = session.exec(select(Ticket.created_at).where(Ticket.created_at >= since, Ticket.created_at < until,
                                                         *_within(scope)))
    for at in filed:
        out.setdefault(at.astimezone(tz).date().isoformat(), {"new": 0, "resolved": 0})["new"] += 1
    done_query = select(TicketEvent.at).where(TicketEvent.kind == "resolved", TicketEvent.at >= since,
                                              TicketEvent.at < until)
    done_query = done_query.join(Ticket, Ticket.id == TicketEvent.ticket_id).where(*_within(scope))
    done = session.exec(done_query)
    for at in done:
        out.setdefault(at.astimezone(tz).date().isoformat(), {"new": 0, "resolved": 0})["resolved"] += 1
    return out
