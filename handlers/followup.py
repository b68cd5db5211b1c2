"""回访: after a ticket is resolved the reporter rates it privately; "没解决" reopens it to the same worker."""
from __future__ import annotations

import re

from handlers import texts
from handlers.commands import normalize
from handlers.context import Ctx
from handlers.status import worker_name
from storage.models import Ticket
from storage.tickets import awaiting_rating, followup_over

RATINGS = {"1": "satisfied", "2": "basically", "3": "dissatisfied", "4": "unsolved"}
WORDS = {"满意": "satisfied", "非常满意": "satisfied", "基本满意": "basically", "不满意": "dissatisfied",
         "没解决": "unsolved", "没有解决": "unsolved", "未解决": "unsolved", "还没解决": "unsolved"}
RATING_NAMES = {"satisfied": "满意", "basically": "基本满意", "dissatisfied": "不满意", "unrated": "未评价"}


def parse_rating(text: str) -> str | None:
    text = re.sub(r"[。.!！~～\s]", "", normalize(text))
    return RATINGS.get(text) or WORDS.get(text)


class RatingReply:
    """Rule: a private 1-4 (or 满意/没解决...) from a resident whose ticket waits for a rating."""

    name = "rating_reply"

    def check(self, ctx: Ctx) -> tuple[Ticket, str] | None:
        if not ctx.msg.is_private or ctx.msg.kind != "text":
            return None
        rating = parse_rating(ctx.msg.text)
        if rating is None:
            return None
        ticket = awaiting_rating(session=ctx.session, reporter_id=ctx.msg.sender_id)
        return (ticket, rating) if ticket is not None else None

    def permit(self, ctx: Ctx, match: tuple[Ticket, str]) -> str | None:
        return None  # awaiting_rating only finds the sender's own tickets

    def handle(self, ctx: Ctx, match: tuple[Ticket, str]) -> None:
        ticket, rating = match
        ctx.ticket_id = ticket.id
        if rating == "unsolved":
            reopen(ctx, ticket)
            return
        ticket.rating = rating
        ctx.transition(ticket, "closed", actor_id=ctx.msg.sender_id,
                       note=f"评价：{RATING_NAMES[rating]}")
        ctx.reply(texts.rated(rating))


def reopen(ctx: Ctx, ticket: Ticket) -> None:
    """Counted as 重办: back to the same worker, who is told, and the group hears it too."""
    ctx.transition(ticket, "reopened", actor_id=ctx.msg.sender_id,
                   note="居民回访：没解决")
    ctx.reply("很抱歉问题还没解决，已重新交办，我们会尽快处理。")
    worker = ctx.deps.directory.wechat_id_of(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
    if worker:
        ctx.say_private(worker, texts.worker_new_ticket(ticket, note="居民回访反映没解决，请重新办理"), ticket_id=ticket.id)
    if ticket.room_id and ticket.category not in ctx.config.private_categories:
        ctx.say_room(ticket.room_id, texts.reopened_group(ticket, worker_name(ctx, ticket)),
                     mentions=(ticket.reporter_id,), ticket_id=ticket.id)


def close_unrated(ctx: Ctx) -> int:
    """No answer within the follow-up time: closed as 未评价."""
    tickets = followup_over(session=ctx.session, now=ctx.now)
    for ticket in tickets:
        ticket.rating = "unrated"
        ctx.transition(ticket, "closed", actor_id="mulin",
                       note="回访超时，未评价")
    return len(tickets)
