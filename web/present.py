"""How tickets read on a page: local times, deadlines in working time, names for ids, the timeline."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from core.config import Config
from core.workcalendar import WorkCalendar
from handlers.export.fields import grid_name, is_overdue, where, worker_name
from handlers.followup import RATING_NAMES
from handlers.texts import mask
from storage.models import IncomingMessage, Ticket, TicketStatus
from storage.staff import StaffDirectory
from storage.tickets import ACTION_NAMES, STATUS_NAMES, VOIDED_NAME, events_of, followers_of, status_name

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
BOT = "mulin"


def local(at: datetime | None, config: Config, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(config.tz).strftime(fmt) if at else ""


def _span(amount: timedelta, working: bool) -> str:
    days, hours = amount // DAY, (amount % DAY) // HOUR
    unit = "个工作日" if working else "天"
    if days:
        return f"{days}{unit}" + (f"{hours}小时" if hours else "")
    if hours:
        return f"{hours}小时"
    return f"{max(int(amount.total_seconds() // 60), 1)}分钟"


@dataclass(frozen=True)
class Deadline:
    at: str
    left: str      # "剩余2个工作日3小时" or "超时1个工作日"
    overdue: bool


def deadline(ticket: Ticket, *, config: Config, calendar: WorkCalendar, now: datetime) -> Deadline | None:
    """The deadline that counts now, and the working time left or past (urgent tickets run on the wall clock)."""
    if not ticket.status.is_open or ticket.due_at is None:
        return None
    working = not ticket.urgent
    if ticket.due_at > now:
        left = calendar.working_time_between(now, ticket.due_at) if working else ticket.due_at - now
        return Deadline(local(ticket.due_at, config), "剩余" + _span(left, working), False)
    late = calendar.working_time_between(ticket.due_at, now) if working else now - ticket.due_at
    return Deadline(local(ticket.due_at, config), "超时" + _span(late, working), True)


def row(ticket: Ticket, *, config: Config, calendar: WorkCalendar, now: datetime) -> dict:
    """One line of the ledger; phone and ID numbers masked as in the group."""
    return {"id": ticket.id, "created": local(ticket.created_at, config, "%m-%d %H:%M"),
            "category": ticket.category_name, "place": where(ticket), "status": status_name(ticket),
            "status_code": ticket.status.value, "worker": worker_name(config, ticket) or "未指派",
            "grid": grid_name(config, ticket), "urgent": ticket.urgent,
            "deadline": deadline(ticket, config=config, calendar=calendar, now=now),
            "late": is_overdue(ticket, now), "excerpt": mask(ticket.text)[:60]}


def _names(session: Session, ticket: Ticket, config: Config, directory: StaffDirectory) -> dict[str, str]:
    """Who each actor id is: staff by their binding, the bot, and residents by the nickname they wrote under."""
    names = {BOT: "睦邻助手", ticket.reporter_id: ticket.reporter_name}
    followers = followers_of(session=session, ticket_id=ticket.id)
    ids = [f.message_id for f in followers if f.message_id]
    if ids:
        for message_id, sender_name in session.exec(select(IncomingMessage.message_id, IncomingMessage.sender_name)
                                                    .where(col(IncomingMessage.message_id).in_(ids))):
            contact = next(f.contact_id for f in followers if f.message_id == message_id)
            names[contact] = sender_name
    for follower in followers:
        names.setdefault(follower.contact_id, "居民")
    for staff in config.staff:
        names[staff.id] = staff.name
        wechat_id = directory.wechat_id_of(staff.id) or staff.wechat_id
        if wechat_id:
            names[wechat_id] = staff.name
    return names


EVENT_NAMES = {**ACTION_NAMES, "created": "登记"}


def _moved_to(event) -> str:  # noqa: ANN001
    """The status an event moved the ticket to, as people read it ("" when it stayed): a void (撤销) closes it as
    已撤销, the name the ticket itself shows (storage.tickets.status_name), not as a plain 已关闭."""
    if not event.to_status or event.from_status == event.to_status:
        return ""
    return VOIDED_NAME if event.kind == "voided" else STATUS_NAMES.get(TicketStatus(event.to_status), "")


def case(session: Session, ticket: Ticket, *, config: Config, calendar: WorkCalendar, directory: StaffDirectory,
         now: datetime) -> dict:
    """Everything on a ticket's page: the text, the reporter, followers, deadlines, rating and every event."""
    names = _names(session, ticket, config, directory)
    followers = [{"name": mask(names.get(f.contact_id, "居民")), "at": local(f.joined_at, config)}
                 for f in followers_of(session=session, ticket_id=ticket.id)]
    events = [{"at": local(e.at, config), "kind": EVENT_NAMES.get(e.kind, e.kind), "code": e.kind,
               "actor": mask(names.get(e.actor_id, "居民")), "note": mask(e.note) if e.note else "",
               "to": _moved_to(e)} for e in events_of(session=session, ticket_id=ticket.id)]
    return {**row(ticket, config=config, calendar=calendar, now=now), "text": mask(ticket.text),
            "reporter": mask(ticket.reporter_name), "room": ticket.room_topic or "私聊",
            "urgent_reason": ticket.urgent_reason or "",
            "accept_due": local(ticket.accept_due_at, config), "resolve_due": local(ticket.resolve_due_at, config),
            "extension_days": ticket.extension_days, "resolution": mask(ticket.resolution_note or ""),
            "rating": RATING_NAMES.get(ticket.rating, "") if ticket.rating else "", "reopen_count": ticket.reopen_count,
            "followers": followers, "events": events}

