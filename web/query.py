"""The ledger's filters, read from the query string, as SQL; the same filters feed the page and the downloads."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from handlers.digest import midnight
from storage.kpi import Scope
from storage.models import Ticket, TicketStatus
from storage.tickets import OPEN_STATUSES

PAGE_SIZE = 50
SORTS = {"-created": (col(Ticket.created_at).desc(), col(Ticket.id).desc()),
         "created": (col(Ticket.created_at), col(Ticket.id)),
         "due": (col(Ticket.due_at).is_(None), col(Ticket.due_at), col(Ticket.id)),
         "-id": (col(Ticket.id).desc(),)}
SORT_NAMES = {"-created": "最新登记", "created": "最早登记", "due": "期限最近", "-id": "工单号倒序"}
STATUS_FILTERS = {"open": "未办结", **{s.value: n for s, n in (
    (TicketStatus.NEW, "待派单"), (TicketStatus.ASSIGNED, "待接单"), (TicketStatus.ACCEPTED, "处理中"),
    (TicketStatus.RETURNED, "已退回"), (TicketStatus.RESOLVED, "已办结待回访"), (TicketStatus.CLOSED, "已关闭"))}}


@dataclass(frozen=True)
class Filters:
    status: str = ""
    grid: str = ""
    category: str = ""
    urgent: bool = False
    overdue: bool = False
    start: date | None = None   # filed on or after this local day
    end: date | None = None     # filed on or before this local day
    q: str = ""
    sort: str = "-created"
    page: int = 1

    @classmethod
    def parse(cls, params) -> tuple["Filters", list[str]]:  # noqa: ANN001 - a Starlette QueryParams or dict
        """Bad values are dropped with a message in Chinese; the rest of the filter still applies."""
        problems: list[str] = []

        def day(name: str, label: str) -> date | None:
            raw = (params.get(name) or "").strip()
            if not raw:
                return None
            try:
                return date.fromisoformat(raw)
            except ValueError:
                problems.append(f"{label}应为 年-月-日（如 2026-11-23），已忽略“{raw[:20]}”。")
                return None

        status = params.get("status") or ""
        if status and status not in STATUS_FILTERS:
            problems.append("没有这种状态，已忽略。")
            status = ""
        sort = params.get("sort") or "-created"
        if sort not in SORTS:
            sort = "-created"
        try:
            page = max(1, min(int(params.get("page") or 1), 100_000))
        except ValueError:
            page = 1
        return cls(status=status, grid=(params.get("grid") or "")[:64], category=(params.get("category") or "")[:64],
                   urgent=params.get("urgent") in ("1", "on", "true"), overdue=params.get("overdue") in ("1", "on", "true"),
                   start=day("start", "开始日期"), end=day("end", "结束日期"), q=(params.get("q") or "").strip()[:100],
                   sort=sort, page=page), problems

    def query_string(self, **changes) -> str:  # noqa: ANN003
        """This filter as a query string (defaults left out), e.g. for the next page or a download."""
        values = asdict(replace(self, **changes))
        defaults = {f.name: f.default for f in fields(self)}
        kept = {k: ("1" if v is True else str(v)) for k, v in values.items() if v != defaults[k] and v not in (None, "")}
        return urlencode(kept)

    def conditions(self, *, now: datetime, tz) -> list:  # noqa: ANN001
        found = []
        if self.status == "open":
            found.append(col(Ticket.status).in_(OPEN_STATUSES))
        elif self.status:
            found.append(Ticket.status == TicketStatus(self.status))
        if self.grid:
            found.append(col(Ticket.grid_id).is_(None) if self.grid == "-" else Ticket.grid_id == self.grid)
        if self.category:
            found.append(Ticket.category == self.category)
        if self.urgent:
            found.append(Ticket.urgent == True)  # noqa: E712
        if self.overdue:
            found.append(overdue_condition(now))
        if self.start:
            found.append(Ticket.created_at >= midnight(self.start, tz))
        if self.end:
            found.append(Ticket.created_at < midnight(self.end + timedelta(days=1), tz))
        if self.q:
            words = [col(Ticket.text).icontains(self.q, autoescape=True),
                     col(Ticket.location_raw).icontains(self.q, autoescape=True),
                     col(Ticket.building).icontains(self.q, autoescape=True),
                     col(Ticket.category_name).icontains(self.q, autoescape=True)]
            number = self.q.lstrip("#")
            if number.isdigit() and len(number) < 10:
                words.append(Ticket.id == int(number))
            found.append(or_(*words))
        return found


def overdue_condition(now: datetime):  # noqa: ANN201
    """As the ledger's 是否超期: resolved after the resolve deadline, or open past the deadline that counts now."""
    late_resolved = and_(col(Ticket.resolved_at).is_not(None), col(Ticket.resolve_due_at).is_not(None),
                         Ticket.resolved_at > Ticket.resolve_due_at)
    late_open = and_(col(Ticket.resolved_at).is_(None), col(Ticket.status).in_(OPEN_STATUSES), Ticket.due_at < now)
    return or_(late_resolved, late_open)


def _where(filters: Filters, scope: Scope, now: datetime, tz) -> list:  # noqa: ANN001
    return [*(() if scope is None else (scope,)), *filters.conditions(now=now, tz=tz)]


def page_of(*, session: Session, filters: Filters, scope: Scope, now: datetime, tz) -> tuple[int, list[Ticket]]:  # noqa: ANN001
    """How many tickets match, and the current page of them."""
    where = _where(filters, scope, now, tz)
    total = session.exec(select(func.count(Ticket.id)).where(*where)).one()
    rows = session.exec(select(Ticket).where(*where).order_by(*SORTS[filters.sort])
                        .offset((filters.page - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    return int(total), list(rows)


def all_of(*, session: Session, filters: Filters, scope: Scope, now: datetime, tz) -> list[Ticket]:  # noqa: ANN001
    """Every matching ticket, oldest first (downloads)."""
    where = _where(filters, scope, now, tz)
    return list(session.exec(select(Ticket).where(*where).order_by(Ticket.created_at, Ticket.id)))


def visible(*, session: Session, ticket_id: int, scope: Scope) -> Ticket | None:
    """The ticket, if this scope may see it."""
    query = select(Ticket).where(Ticket.id == ticket_id, *(() if scope is None else (scope,)))
    return session.exec(query).first()
