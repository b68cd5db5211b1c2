"""A resident's message that is a request becomes a ticket, routed to the grid worker, answered in the group.

Before a new ticket: the reporter may be answering our "which building?" question, or repeating a
problem that is already open (then they join that ticket as a follower).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from rapidfuzz import fuzz
from sqlmodel import Session

from classifier.location import parse_location

from handlers import texts
from handlers.context import Ctx
from handlers.assignment import assign, notify_secretaries
from handlers.disputes import as_dispute
from handlers.routing import Route, route
from handlers.status import tell_reporters
from storage.models import Ticket
from storage.outbox import held_by_room, last_held_at, mark_summarised
from storage.tickets import add_follower, create_ticket, last_repeat_at, open_candidates, waiting_for_place

if TYPE_CHECKING:
    from classifier import Classification
    from classifier.model import Location

BOT_ACTOR = "mulin"
LATE_SETTLE = timedelta(seconds=5)  # a backlog arrives over a few seconds: summarise once it has stopped


@dataclass(frozen=True)
class Complaint:
    classification: "Classification"


@dataclass(frozen=True)
class PlaceAnswer:
    ticket: Ticket
    location: "Location | None"


class PlaceReply:
    """Rule: the reporter's next message after we asked which building, within the wait."""

    name = "place_reply"

    def check(self, ctx: Ctx) -> PlaceAnswer | None:
        if ctx.staff is not None or ctx.msg.kind != "text":
            return None
        ticket = waiting_for_place(session=ctx.session, reporter_id=ctx.msg.sender_id, room_id=ctx.msg.room_id,
                                   now=ctx.now)
        if ticket is None:
            return None
        location = parse_location(ctx.msg.text, ctx.classifier.buildings)
        if location is None and (len(ctx.msg.text) > 30 or ctx.classifier.classify(ctx.msg.text).is_request):
            return None  # a new complaint without a place, not an answer to our question
        return PlaceAnswer(ticket, location)

    def permit(self, ctx: Ctx, match: PlaceAnswer) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: PlaceAnswer) -> None:
        ticket, loc = match.ticket, match.location
        if loc is not None:
            ticket.building, ticket.unit, ticket.room_no, ticket.location_raw = loc.building, loc.unit, loc.room, loc.raw
        else:
            ticket.location_raw = ctx.msg.text.strip()
        ctx.transition(ticket, "located", actor_id=ctx.msg.sender_id,
                       note=ctx.msg.text)
        ctx.ticket_id = ticket.id
        dispatch_ticket(ctx, ticket)


class ResidentComplaint:
    """Rule: a text from a non-staff member that the classifier calls a request."""

    name = "resident_complaint"

    def check(self, ctx: Ctx) -> Complaint | None:
        if ctx.staff is not None or ctx.msg.kind != "text" or not ctx.msg.text.strip():
            return None  # staff messages are never filed as complaints
        if ctx.msg.room_id is not None and ctx.config.is_staff_group(ctx.msg.room_id, ctx.msg.room_topic):
            return None
        result = ctx.classifier.classify(ctx.msg.text)
        return Complaint(result) if result.is_request else None

    def permit(self, ctx: Ctx, match: Complaint) -> str | None:
        return None  # any resident may report

    def handle(self, ctx: Ctx, match: Complaint) -> None:
        c = as_dispute(match.classification, ctx.msg.text, private=ctx.config.private_categories,
                       classifier=ctx.classifier)
        existing = find_duplicate(ctx, c)
        if existing is not None:
            join(ctx, existing)
            return
        msg = ctx.msg
        ticket = file_ticket(ctx, c, source_message_id=msg.id, text=msg.text, reporter_id=msg.sender_id,
                             reporter_name=msg.sender_name, room_id=msg.room_id, room_topic=msg.room_topic)
        ctx.ticket_id = ticket.id
        private = ticket.category in ctx.config.private_categories
        if ticket.building is None and ctx.msg.room_id is not None and not ticket.urgent and not private \
                and not is_late(ctx):
            # ask once; urgent and private tickets go to the group's grid at once instead
            ticket.place_asked_until = ctx.now + timedelta(minutes=ctx.config.tickets.place_wait_minutes)
            ctx.session.add(ticket)
            ctx.reply(texts.ask_place(ticket))
            return
        dispatch_ticket(ctx, ticket)


def file_ticket(ctx: Ctx, c: "Classification", *, source_message_id: str, text: str, reporter_id: str,
                reporter_name: str, room_id: str | None, room_topic: str | None, **event) -> Ticket:
    """A new ticket of this classification: its category, urgency, place and keywords; `event`: who filed it, when
    not the reporter (create_ticket's created_by and note)."""
    loc = c.location
    return create_ticket(
        session=ctx.session, now=ctx.now, source_message_id=source_message_id, text=text,
        category=c.category, category_name=c.category_name, urgent=c.urgent, urgent_reason=c.urgent_reason,
        reporter_id=reporter_id, reporter_name=reporter_name,
        building=loc.building if loc else None, unit=loc.unit if loc else None,
        room_no=loc.room if loc else None, location_raw=loc.raw if loc else None,
        room_id=room_id, room_topic=room_topic, keywords=",".join(sorted(keywords(c))), **event)


def dispatch_ticket(ctx: Ctx, ticket: Ticket) -> None:
    """Route a new ticket, tell the reporter, and hand it to the worker (or the secretaries)."""
    found = route(config=ctx.config, directory=ctx.deps.directory, building=ticket.building,
                  room_id=ticket.room_id, room_topic=ticket.room_topic)
    acknowledge(ctx, ticket, found)  # the resident hears back first
    if found is not None:
        assign(ctx, ticket, found, actor_id=BOT_ACTOR, note=f"按{'楼栋' if ticket.building else '群默认网格'}派单")
    else:
        notify_secretaries(ctx, ticket, f"未能确定网格，请指派：指派 {ticket.id} 人员")


def find_duplicate(ctx: Ctx, c: "Classification") -> Ticket | None:
    """The same problem at the same place: category, building (or group when no building) and similar text."""
    policy = ctx.config.tickets
    since = ctx.now - timedelta(hours=policy.duplicate_window_hours)
    building = c.location.building if c.location else None
    words = keywords(c)
    for ticket in reversed(open_candidates(session=ctx.session, category=c.category, since=since)):
        same_place = ticket.building == building if building or ticket.building else ticket.room_id == ctx.msg.room_id
        if not same_place:
            continue
        their_words = set(filter(None, ticket.keywords.split(",")))
        if words and their_words:
            if words & their_words:  # 楼道灯 and 路灯 in one building are two problems
                return ticket
        elif fuzz.WRatio(ticket.text, ctx.msg.text) >= policy.duplicate_similarity:
            return ticket
    return None


def keywords(c: "Classification") -> set[str]:
    """The rule keywords that fired ("kw:积水(drainage,+4)" -> 积水): what the problem is about."""
    return {m[3:].split("(", 1)[0] for m in c.matched if m.startswith("kw:")}


def join(ctx: Ctx, ticket: Ticket) -> None:
    """A repeat report joins the open ticket; the message is kept as an event, never lost."""
    ctx.ticket_id = ticket.id
    added = add_follower(session=ctx.session, ticket=ticket, contact_id=ctx.msg.sender_id, room_id=ctx.msg.room_id,
                         message_id=ctx.msg.id, now=ctx.now)
    if added:
        ticket.follower_count += 1
    else:
        last = last_repeat_at(session=ctx.session, ticket_id=ticket.id, actor_id=ctx.msg.sender_id)
        if last is not None and ctx.now - last < timedelta(minutes=ctx.config.tickets.repeat_reply_minutes):
            return  # one person's flood gets one answer; the inbox row keeps each copy with the ticket id
    ctx.transition(ticket, "merged", actor_id=ctx.msg.sender_id,
                   note=f"{ctx.msg.sender_name}：{ctx.msg.text}")
    if not added:
        ctx.reply(texts.already_reported(ticket))
        return
    tell_reporters(ctx, ticket, texts.merged(ticket))
    worker = ctx.deps.directory.wechat_id_of(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
    if worker:
        ctx.say_private(worker, texts.worker_merged(ticket, ctx.msg.sender_name, ctx.msg.text), ticket_id=ticket.id)


def acknowledge(ctx: Ctx, ticket: Ticket, found: Route | None) -> None:
    worker_name = found.worker.name if found else None
    grid_name = found.grid.name if found and found.grid else None
    late = is_late(ctx)  # a group acknowledgement is held for the summary
    if ticket.category in ctx.config.private_categories:
        if ticket.room_id is not None:
            ctx.say_room(ticket.room_id, texts.filed_private_group(), mentions=(ticket.reporter_id,),
                         ticket_id=ticket.id, held=late)
        ctx.say_private(ticket.reporter_id, texts.filed_private_dm(ticket, worker_name), ticket_id=ticket.id)
    elif ticket.room_id is not None:
        ctx.say_room(ticket.room_id, texts.filed(ticket, worker_name, grid_name), mentions=(ticket.reporter_id,),
                     ticket_id=ticket.id, held=late)
    else:
        ctx.say_private(ticket.reporter_id, texts.filed(ticket, worker_name, grid_name), ticket_id=ticket.id)


def is_late(ctx: Ctx) -> bool:
    """Written long before we got it (the gateway or the bot was down): acknowledged in a summary."""
    return ctx.msg is not None and ctx.now - ctx.msg.at > timedelta(minutes=ctx.config.tickets.late_minutes)


def late_summary_due(*, session: Session) -> datetime | None:
    """When the held acknowledgements can be summarised: once the last of them has settled."""
    last = last_held_at(session=session)
    return last + LATE_SETTLE if last is not None else None


def summarise_late(ctx: Ctx) -> int:
    """Sweep: a group's held acknowledgements become one summary once the backlog has stopped arriving."""
    made = 0
    for room_id, rows in held_by_room(session=ctx.session).items():
        if max(r.created_at for r in rows) > ctx.now - LATE_SETTLE:
            continue
        ticket_ids = sorted({r.ticket_id for r in rows if r.ticket_id is not None})
        mentions = tuple(dict.fromkeys(m for r in rows for m in r.mentions.split(",") if m))
        ctx.say_room(room_id, texts.late_summary(ticket_ids), mentions=mentions)
        mark_summarised(session=ctx.session, rows=rows)
        made += 1
    return made
