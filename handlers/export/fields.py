"""The fields both exports share: names from config, the address, overdue, all masked where a resident wrote."""
from __future__ import annotations

from datetime import datetime

from core.config import Config
from handlers.texts import mask, place
from storage.models import Ticket


def grid_name(config: Config, ticket: Ticket) -> str:
    grid = config.grid_by_id(ticket.grid_id) if ticket.grid_id else None
    return grid.name if grid else (ticket.grid_id or "")


def worker_name(config: Config, ticket: Ticket) -> str:
    return config.staff_name(ticket.assignee_staff_id) or ""


def where(ticket: Ticket) -> str:
    """Building, unit and room, or the words the resident used; masked, since a resident may type a number."""
    return mask(place(ticket))


def address(config: Config, ticket: Ticket) -> str:
    """The community (for a street: the street, then the ticket's community) and the place."""
    known = where(ticket)
    prefix = config.community.name
    if config.communities:
        found = config.community_by_id(config.community_of(ticket.grid_id, ticket.room_id, ticket.room_topic) or "")
        prefix += found.name if found else ""
    return prefix + ("" if known == "未注明" else known)


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """Resolved after the resolve deadline, or still open past the deadline that counts now."""
    if ticket.resolved_at is not None:
        return ticket.resolve_due_at is not None and ticket.resolved_at > ticket.resolve_due_at
    return ticket.status.is_open and ticket.due_at is not None and ticket.due_at < now
