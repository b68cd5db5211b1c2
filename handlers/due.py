"""Deadlines set when a ticket moves: every status change calls `apply`, which keeps `due_at` (the deadline that
counts now), `remind_at` and `next_escalation_at` in step on the working-day clock. Reminders and escalations
when they come due are handlers/deadlines.py."""
from __future__ import annotations

from datetime import datetime

from core.config import Config
from core.workcalendar import Span, WorkCalendar
from storage.models import Ticket, TicketStatus


def apply(ticket: Ticket, action: str, *, config: Config, calendar: WorkCalendar, now: datetime) -> None:
    """Called after every transition of `ticket`."""
    spans = config.deadlines_for(ticket.category, ticket.urgent)
    share = config.sla.remind_at
    if action in ("assigned", "transferred"):
        if ticket.assigned_at is None:
            ticket.assigned_at = now
            ticket.resolve_due_at = calendar.add(now, spans.resolve)
        ticket.accept_due_at = calendar.add(now, spans.accept)
        _arm(ticket, now, ticket.accept_due_at, spans.accept, calendar, share, now)
    elif action == "accepted":
        _arm(ticket, ticket.assigned_at or now, ticket.resolve_due_at, spans.resolve, calendar, share, now)
    elif action == "returned":  # the secretaries' turn: reassign within the accept time
        _arm(ticket, now, calendar.add(now, spans.accept), spans.accept, calendar, share, now)
    elif action == "reopened":  # 重办: a fresh start for the same worker
        ticket.accept_due_at = calendar.add(now, spans.accept)
        ticket.resolve_due_at = calendar.add(now, spans.resolve)
        _arm(ticket, now, ticket.accept_due_at, spans.accept, calendar, share, now)
    elif action in ("resolved", "closed", "voided"):
        ticket.due_at = ticket.remind_at = ticket.next_escalation_at = None


def extend(ticket: Ticket, days: int, *, config: Config, calendar: WorkCalendar, now: datetime) -> None:
    """延期 N 天: N working days onto the resolve deadline; reminders and escalation start over."""
    span = Span(days, "wd")
    base = ticket.resolve_due_at or now
    ticket.resolve_due_at = calendar.add(max(base, now), span)
    if ticket.status == TicketStatus.ACCEPTED:
        _arm(ticket, now, ticket.resolve_due_at, span, calendar, config.sla.remind_at, now)


def _arm(ticket: Ticket, start: datetime, due: datetime | None, span: Span, calendar: WorkCalendar,
         remind_share: float, now: datetime) -> None:
    ticket.due_at = due
    ticket.escalation_level = 0
    ticket.next_escalation_at = due
    if due is None:
        ticket.remind_at = None
        return
    remind = calendar.point_at(start, due, remind_share, working=span.working_days)
    ticket.remind_at = remind if now < remind < due else None
