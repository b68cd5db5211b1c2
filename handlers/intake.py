"""A resident's message that is a request becomes a ticket, routed to the grid worker, answered in the group."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from handlers import texts
from handlers.context import Ctx
from handlers.routing import Route, route
from storage.models import Ticket
from storage.tickets import create_ticket, transition

if TYPE_CHECKING:
    from classifier import Classification

BOT_ACTOR = "mulin"


@dataclass(frozen=True)
class Complaint:
    classification: "Classification"


class ResidentComplaint:
    """Rule: a text from a non-staff member that the classifier calls a request."""

    name = "resident_complaint"

    def check(self, ctx: Ctx) -> Complaint | None:
        if ctx.staff is not None or ctx.msg.kind != "text" or not ctx.msg.text.strip():
            return None  # staff messages are never filed as complaints
        result = ctx.deps.classifier.classify(ctx.msg.text)
        return Complaint(result) if result.is_request else None

    def permit(self, ctx: Ctx, match: Complaint) -> str | None:
        return None  # any resident may report

    def handle(self, ctx: Ctx, match: Complaint) -> None:
        c = match.classification
        loc = c.location
        ticket = create_ticket(
            session=ctx.session, now=ctx.now, source_message_id=ctx.msg.id, text=ctx.msg.text,
            category=c.category, category_name=c.category_name, urgent=c.urgent, urgent_reason=c.urgent_reason,
            reporter_id=ctx.msg.sender_id, reporter_name=ctx.msg.sender_name,
            building=loc.building if loc else None, unit=loc.unit if loc else None,
            room_no=loc.room if loc else None, location_raw=loc.raw if loc else None,
            room_id=ctx.msg.room_id, room_topic=ctx.msg.room_topic,
        )
        ctx.ticket_id = ticket.id
        found = route(config=ctx.config, directory=ctx.deps.directory, building=ticket.building,
                      room_id=ctx.msg.room_id, room_topic=ctx.msg.room_topic)
        acknowledge(ctx, ticket, found)  # the resident hears back first
        if found is not None:
            assign(ctx, ticket, found, actor_id=BOT_ACTOR, note=f"按{'楼栋' if ticket.building else '群默认网格'}派单")
        else:
            notify_secretaries(ctx, ticket, f"未能确定网格，请指派：指派 {ticket.id} 人员")


def assign(ctx: Ctx, ticket: Ticket, found: Route, *, actor_id: str, note: str | None = None) -> None:
    transition(session=ctx.session, ticket=ticket, action="assigned", actor_id=actor_id, now=ctx.now,
               note=note, assignee_staff_id=found.worker.id, grid_id=found.grid.id)
    if found.worker_wechat_id:
        ctx.say_private(found.worker_wechat_id, texts.worker_new_ticket(ticket), ticket_id=ticket.id)
    else:
        notify_secretaries(ctx, ticket, f"网格员{found.worker.name}尚未绑定微信，请代为联系")


def notify_secretaries(ctx: Ctx, ticket: Ticket, note: str) -> None:
    for secretary in ctx.config.secretaries():
        wechat_id = ctx.deps.directory.wechat_id_of(secretary.id)
        if wechat_id:
            ctx.say_private(wechat_id, texts.worker_new_ticket(ticket, note=note), ticket_id=ticket.id)


def acknowledge(ctx: Ctx, ticket: Ticket, found: Route | None) -> None:
    worker_name = found.worker.name if found else None
    grid_name = found.grid.name if found else None
    if ticket.category in ctx.config.private_categories:
        if ctx.msg.room_id is not None:
            ctx.reply(texts.filed_private_group())
        ctx.say_private(ctx.msg.sender_id, texts.filed_private_dm(ticket, worker_name), ticket_id=ticket.id)
    else:
        ctx.reply(texts.filed(ticket, worker_name, grid_name))
