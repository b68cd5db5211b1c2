"""Commands by chat: grid workers and secretaries work tickets; residents may ask 进度 of their own tickets.

The rule (handlers.commands.parse_command) says what a message means; `permit` says whether this
sender may do it, by WeChat contact id only.
"""
from __future__ import annotations

from handlers import texts
from handlers.commands import Command, Malformed, parse_command
from handlers.context import Ctx
from storage.models import Ticket
from storage.tickets import (OPEN_STATUSES, IllegalTransition, followers_of, get_ticket, list_tickets,
                             transition)

STAFF_ONLY = {"accept", "resolve", "transfer", "return", "extend", "mine", "assign", "supervise", "todo"}
SECRETARY_ONLY = {"assign", "supervise", "todo"}
EXAMPLES = {"accept": "接 12", "resolve": "办结 12 已清理", "transfer": "转 12 第二网格 不在本网格",
            "return": "退回 12 不属于本网格", "extend": "延期 12 3 等配件", "progress": "进度 12",
            "assign": "指派 12 王芳", "supervise": "督办 12 请今天处理", "bind": "绑定 123456"}


class ChatCommand:
    name = "chat_command"

    def check(self, ctx: Ctx) -> Command | Malformed | None:
        if not ctx.msg.is_private or ctx.msg.kind != "text":
            return None
        return parse_command(ctx.msg.text)

    def permit(self, ctx: Ctx, cmd: Command | Malformed) -> str | None:
        if cmd.name in STAFF_ONLY and ctx.staff is None:
            return texts.not_permitted()
        if cmd.name in SECRETARY_ONLY and (ctx.staff is None or ctx.staff.role != "secretary"):
            return "该指令仅限社区书记使用。"
        if not isinstance(cmd, Command) or cmd.ticket_id is None:
            return None
        ticket = get_ticket(session=ctx.session, ticket_id=cmd.ticket_id)
        if ticket is None:
            return texts.not_found(cmd.ticket_id)
        if cmd.name == "progress":
            return None if may_view(ctx, ticket) else texts.not_found(cmd.ticket_id)
        if ctx.staff is not None and (ctx.staff.role == "secretary" or ticket.assignee_staff_id == ctx.staff.id):
            return None
        return texts.not_permitted(ticket.id)

    def handle(self, ctx: Ctx, cmd: Command | Malformed) -> None:
        if isinstance(cmd, Malformed):
            ctx.reply(texts.malformed(cmd.need, EXAMPLES.get(cmd.name, "帮助")))
            return
        handler = getattr(self, f"_{cmd.name}", None)
        if handler is None:
            ctx.reply("该指令暂未开放，发“帮助”查看可用指令。")
            return
        ticket = get_ticket(session=ctx.session, ticket_id=cmd.ticket_id) if cmd.ticket_id else None
        try:
            handler(ctx, cmd, ticket)
        except IllegalTransition as exc:
            ctx.reply(str(exc))

    # ---- one method per command ----------------------------------------------------------
    def _help(self, ctx: Ctx, cmd: Command, ticket: None) -> None:
        if ctx.staff is None:
            ctx.reply(texts.RESIDENT_HELP)
        else:
            ctx.reply(texts.STAFF_HELP + (texts.SECRETARY_HELP if ctx.staff.role == "secretary" else ""))

    def _progress(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        ctx.reply(texts.progress(ticket, worker_name(ctx, ticket)))

    def _mine(self, ctx: Ctx, cmd: Command, ticket: None) -> None:
        tickets = list_tickets(session=ctx.session, statuses=OPEN_STATUSES, assignee_staff_id=ctx.staff.id)
        ctx.reply(texts.my_tickets(tickets))

    def _accept(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        transition(session=ctx.session, ticket=ticket, action="accepted", actor_id=ctx.msg.sender_id, now=ctx.now)
        ctx.reply(texts.worker_accepted(ticket))
        tell_reporters(ctx, ticket, texts.accepted_group(ticket, worker_name(ctx, ticket) or ctx.staff.name))

    def _resolve(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        if ticket.status.value == "assigned":  # a worker who fixed it at once need not 接 first
            transition(session=ctx.session, ticket=ticket, action="accepted", actor_id=ctx.msg.sender_id,
                       now=ctx.now, note="办结时自动接单")
        transition(session=ctx.session, ticket=ticket, action="resolved", actor_id=ctx.msg.sender_id,
                   now=ctx.now, note=cmd.argument)
        ctx.reply(texts.worker_resolved(ticket))
        tell_reporters(ctx, ticket, texts.resolved_group(ticket, worker_name(ctx, ticket) or ctx.staff.name))


def worker_name(ctx: Ctx, ticket: Ticket) -> str | None:
    staff = ctx.config.staff_by_id(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
    return staff.name if staff else None


def may_view(ctx: Ctx, ticket: Ticket) -> bool:
    if ctx.staff is not None:
        return True
    if ticket.reporter_id == ctx.msg.sender_id:
        return True
    return any(f.contact_id == ctx.msg.sender_id for f in followers_of(session=ctx.session, ticket_id=ticket.id))


def tell_reporters(ctx: Ctx, ticket: Ticket, text: str) -> None:
    """A status reply reaches the reporter and every follower: in their group, or privately."""
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
