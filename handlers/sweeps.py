"""Time-driven work that no message starts: each sweep takes `now` and scans the database for what is due."""
from __future__ import annotations

from handlers.context import Ctx
from handlers.deadlines import remind_and_escalate
from handlers.digest import send_digests
from handlers.followup import close_unrated
from handlers.intake import dispatch_ticket, summarise_late
from handlers.photos import drop_unlinked
from handlers.privacy import purge_retention
from storage.tickets import place_wait_over


def route_unplaced(ctx: Ctx) -> int:
    """Nobody named the building in time: the ticket goes to the group's default grid."""
    tickets = place_wait_over(session=ctx.session, now=ctx.now)
    for ticket in tickets:
        ticket.place_asked_until = None
        dispatch_ticket(ctx, ticket)
    return len(tickets)


SWEEPS = (route_unplaced, close_unrated, summarise_late, remind_and_escalate, send_digests, drop_unlinked,
          purge_retention)
