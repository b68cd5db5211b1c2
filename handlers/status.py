"""Status replies to the people who reported a ticket: in their group (masked, @-mentioned) or privately."""
from __future__ import annotations

from handlers.context import Ctx
from storage.models import Ticket
from storage.tickets import followers_of


def tell_reporters(ctx: Ctx, ticket: Ticket, text: str) -> None:
    """Reach the reporter and every follower; private categories never go into a group."""
    people = [(ticket.reporter_id, ticket.room_id)] + [
        (f.contact_id, f.room_id) for f in followers_of(session=ctx.session, ticket_id=ticket.id)]
    private = ticket.category in ctx.config.private_categories
    by_room: dict[str | None, list[str]] = {}
    for contact_id, room_id in people:
        by_room.setdefault(None if private else room_id, []).append(contact_id)
    for room_id, contacts in by_room.items():
        if room_id is None:
            for contact_id in contacts:
                ctx.say_private(contact_id, text, ticket_id=ticket.id)
        else:
            ctx.say_room(room_id, text, mentions=tuple(contacts), ticket_id=ticket.id)


def worker_name(ctx: Ctx, ticket: Ticket) -> str | None:
    return ctx.config.staff_name(ticket.assignee_staff_id)
