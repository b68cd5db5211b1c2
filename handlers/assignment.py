"""Handing a ticket to a grid worker, and telling the community's secretaries when a ticket needs them; used by
intake (the first assignment) and by staff commands (转, 指派, 退回, 延期)."""
from __future__ import annotations

from handlers import texts
from handlers.context import Ctx
from handlers.photos import gather_reporters
from handlers.routing import Route
from storage import attachments
from storage.models import Ticket


def assign(ctx: Ctx, ticket: Ticket, found: Route, *, actor_id: str, note: str | None = None,
           action: str = "assigned") -> None:
    ctx.transition(ticket, action, actor_id=actor_id,
                   note=note, assignee_staff_id=found.worker.id, grid_id=found.grid.id if found.grid else None)
    if found.worker_wechat_id:
        if action == "assigned":
            gather_reporters(ctx, ticket)
        photos = attachments.of_ticket(session=ctx.session, ticket_id=ticket.id, role=attachments.BEFORE)
        ctx.say_private(found.worker_wechat_id, texts.worker_new_ticket(
            ticket, note=note if action != "assigned" else None, photos=len(photos)), ticket_id=ticket.id)
        for photo in photos:  # the residents' photos follow the notice, each as a picture
            ctx.send_photo(photo, to_id=found.worker_wechat_id, text=f"工单#{ticket.id}照片", ticket_id=ticket.id)
    else:
        notify_secretaries(ctx, ticket, f"网格员{found.worker.name}尚未绑定微信，请代为联系")


def notify_secretaries(ctx: Ctx, ticket: Ticket, note: str) -> None:
    tell_secretaries(ctx, ticket, texts.worker_new_ticket(ticket, note=note))


def tell_secretaries(ctx: Ctx, ticket: Ticket, text: str) -> None:
    """A private message about the ticket to each secretary of its community who is bound to WeChat."""
    for secretary in ctx.config.secretaries_of(ctx.community_of(ticket)):
        wechat_id = ctx.deps.directory.wechat_id_of(secretary.id)
        if wechat_id:
            ctx.say_private(wechat_id, text, ticket_id=ticket.id)
