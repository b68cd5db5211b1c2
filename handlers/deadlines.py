"""Deadlines on the working-day clock, reminded before and escalated after (handlers/due.py sets them).

The sweep `remind_and_escalate` runs with `now` and scans for what is due; each reminder and each
escalation level is claimed once by a unique notice key.
"""
from __future__ import annotations

from datetime import datetime

from handlers import texts
from handlers.context import Ctx
from handlers.status import tell_reporters, worker_name
from storage import notices
from storage.models import Ticket, TicketStatus
from storage.tickets import due_for_notice


def return_deadline(ctx: Ctx, assigned_at: datetime) -> datetime:
    return ctx.deps.calendar.add(assigned_at, ctx.config.sla.return_within)


def escalation_time(ctx: Ctx, ticket: Ticket, level: int) -> datetime:
    """Level 1 hears at the breach; each further level `escalate_every` later."""
    calendar, every = ctx.deps.calendar, ctx.config.sla.escalate_every
    at = ticket.due_at
    for _ in range(level - 1):
        at = calendar.add(at, every)
    return at


def remind_and_escalate(ctx: Ctx) -> int:
    """Breaches first (each level of the chain once); a reminder whose deadline already passed is dropped."""
    done = 0
    for ticket in due_for_notice(session=ctx.session, now=ctx.now):
        chain = ctx.config.escalation_chain(ctx.community_of(ticket))
        if ticket.next_escalation_at is not None and ticket.next_escalation_at <= ctx.now:
            ticket.remind_at = None  # the breach supersedes the reminder; no flood of stale reminders
            levels = [lv for lv in range(ticket.escalation_level + 1, len(chain) + 1)
                      if escalation_time(ctx, ticket, lv) <= ctx.now]
            for level in levels:
                done += _escalate(ctx, ticket, level, chain[level - 1])
            ticket.escalation_level = max(levels, default=ticket.escalation_level)
            following = ticket.escalation_level + 1
            ticket.next_escalation_at = escalation_time(ctx, ticket, following) if following <= len(chain) else None
        elif ticket.remind_at is not None and ticket.remind_at <= ctx.now:
            done += _remind(ctx, ticket)
            ticket.remind_at = None
        ctx.session.add(ticket)
    return done


def _phase(ticket: Ticket) -> str:
    return {TicketStatus.ASSIGNED: "accept", TicketStatus.ACCEPTED: "resolve",
            TicketStatus.RETURNED: "reassign"}.get(ticket.status, ticket.status.value)


def _key(ticket: Ticket, what: str) -> str:
    return f"{what}:{ticket.id}:{_phase(ticket)}:{ticket.due_at.isoformat()}"


def _remind(ctx: Ctx, ticket: Ticket) -> int:
    if not notices.claim(session=ctx.session, key=_key(ticket, "remind"), kind="remind", target=str(ticket.id),
                         scheduled_at=ticket.remind_at, now=ctx.now):
        return 0
    text = texts.reminder(ticket, _phase(ticket), ticket.due_at, ctx.deps.calendar.tz)
    for wechat_id in _responsible(ctx, ticket):
        ctx.say_private(wechat_id, text, ticket_id=ticket.id, urgent=ticket.urgent)
    return 1


def _escalate(ctx: Ctx, ticket: Ticket, level: int, chain_level: tuple[str, list]) -> int:
    name, people = chain_level
    if not notices.claim(session=ctx.session, key=_key(ticket, f"escalate{level}"), kind="escalate",
                         target=str(ticket.id), scheduled_at=escalation_time(ctx, ticket, level), now=ctx.now):
        return 0
    late = ctx.deps.calendar.working_days_late(ticket.due_at, ctx.now)
    worker = worker_name(ctx, ticket)
    text = texts.escalation(ticket, _phase(ticket), worker, late, level_name=name, tz=ctx.deps.calendar.tz)
    for person in people:
        wechat_id = ctx.deps.directory.wechat_id_of(person.id)
        if wechat_id:
            ctx.say_private(wechat_id, text, ticket_id=ticket.id, urgent=ticket.urgent)
    if level == 1:
        for wechat_id in _responsible(ctx, ticket):
            ctx.say_private(wechat_id, texts.overdue_worker(ticket, name), ticket_id=ticket.id, urgent=ticket.urgent)
        tell_reporters(ctx, ticket, texts.escalated_reporter(ticket, name))
    return 1


def _responsible(ctx: Ctx, ticket: Ticket) -> list[str]:
    """Who must act now: the assignee, or the community's secretaries while a returned ticket waits for reassignment."""
    if ticket.status == TicketStatus.RETURNED or not ticket.assignee_staff_id:
        people = [s.id for s in ctx.config.secretaries_of(ctx.community_of(ticket))]
    else:
        people = [ticket.assignee_staff_id]
    return [w for w in (ctx.deps.directory.wechat_id_of(p) for p in people) if w]
