"""Commands by chat: grid workers and secretaries work tickets; residents may ask 进度 of their own tickets.

The rule (handlers.commands.parse_command) says what a message means; `permit` says whether this
sender may do it, by WeChat contact id only.
"""
from __future__ import annotations

import re
from datetime import timedelta

from handlers import deadlines, due, texts
from handlers.binding import redeem
from handlers.commands import Command, Malformed, NoSuchTicket, parse_command
from handlers.context import Ctx
from handlers.assignment import assign, notify_secretaries, tell_secretaries
from handlers.routing import Route
from handlers.photos import attach_after_photos
from handlers.status import tell_reporters, worker_name
from storage.models import Ticket, TicketStatus
from storage.tickets import (OPEN_STATUSES, IllegalTransition, followers_of, get_ticket, last_assigned_at,
                             list_tickets)

STAFF_ONLY = {"accept", "resolve", "transfer", "return", "extend", "mine", "assign", "supervise", "todo", "void"}
SECRETARY_ONLY = {"assign", "supervise", "todo"}
EXAMPLES = {"accept": "接 12", "resolve": "办结 12 已清理", "transfer": "转 12 第二网格 不在本网格",
            "return": "退回 12 不属于本网格", "extend": "延期 12 3 等配件", "progress": "进度 12",
            "assign": "指派 12 王芳", "supervise": "督办 12 请今天处理", "bind": "绑定 123456",
            "void": "撤销 12 是闲聊不是诉求"}


class ChatCommand:
    name = "chat_command"

    def check(self, ctx: Ctx) -> Command | Malformed | NoSuchTicket | None:
        msg = ctx.msg
        if msg.kind != "text":
            return None
        if not msg.is_private and not ctx.config.is_staff_group(msg.room_id, msg.room_topic):
            return None
        return parse_command(msg.text)

    def permit(self, ctx: Ctx, cmd: Command | Malformed | NoSuchTicket) -> str | None:
        if cmd.name in STAFF_ONLY and ctx.staff is None:
            return texts.not_permitted()
        if cmd.name in SECRETARY_ONLY and ctx.staff.role != "secretary":
            return "该指令仅限社区书记使用。"
        if not isinstance(cmd, Command) or cmd.ticket_id is None:
            return None
        ticket = get_ticket(session=ctx.session, ticket_id=cmd.ticket_id)
        if ticket is None:
            return texts.not_found(cmd.ticket_id)
        if cmd.name == "progress":
            return None if may_view(ctx, ticket) else texts.not_found(cmd.ticket_id)
        if (ctx.staff.role == "secretary" and supervises(ctx, ticket)) or ticket.assignee_staff_id == ctx.staff.id:
            return None
        return texts.not_permitted(ticket.id)

    def handle(self, ctx: Ctx, cmd: Command | Malformed | NoSuchTicket) -> None:
        if isinstance(cmd, Malformed):
            ctx.reply(texts.malformed(cmd.need, EXAMPLES.get(cmd.name, "帮助")))
            return
        if isinstance(cmd, NoSuchTicket):
            ctx.reply(texts.not_found(cmd.number if len(cmd.number) <= 12 else cmd.number[:12] + "…"))
            return
        ticket = get_ticket(session=ctx.session, ticket_id=cmd.ticket_id) if cmd.ticket_id else None
        try:
            getattr(self, f"_{cmd.name}")(ctx, cmd, ticket)
        except IllegalTransition as exc:
            ctx.reply(str(exc))

    # ---- everyone -------------------------------------------------------------------------
    def _help(self, ctx: Ctx, cmd: Command, ticket: None) -> None:
        if ctx.staff is None:
            ctx.reply(texts.resident_help(ctx.config.community.bot_name))
        else:
            ctx.reply(texts.STAFF_HELP + (texts.SECRETARY_HELP if ctx.staff.role == "secretary" else ""))

    def _progress(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        ctx.reply(texts.progress(ticket, worker_name(ctx, ticket)))

    def _bind(self, ctx: Ctx, cmd: Command, ticket: None) -> None:
        ctx.reply(redeem(ctx, cmd.argument))

    # ---- grid workers ---------------------------------------------------------------------
    def _mine(self, ctx: Ctx, cmd: Command, ticket: None) -> None:
        tickets = list_tickets(session=ctx.session, statuses=OPEN_STATUSES, assignee_staff_id=ctx.staff.id)
        ctx.reply(texts.my_tickets(tickets))

    def _accept(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        ctx.transition(ticket, "accepted", actor_id=ctx.msg.sender_id)
        ctx.reply(texts.worker_accepted(ticket))
        tell_reporters(ctx, ticket, texts.accepted_group(ticket, worker_name(ctx, ticket) or ctx.staff.name))

    def _resolve(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        if ticket.status == TicketStatus.ASSIGNED:  # a worker who fixed it at once need not 接 first
            ctx.transition(ticket, "accepted", actor_id=ctx.msg.sender_id, note="办结时自动接单")
        ctx.transition(ticket, "resolved", actor_id=ctx.msg.sender_id, note=cmd.argument)
        ticket.followup_due_at = ctx.now + timedelta(days=ctx.config.tickets.followup_days)
        ctx.reply(texts.worker_resolved(ticket))
        tell_reporters(ctx, ticket, texts.resolved_group(ticket, worker_name(ctx, ticket) or ctx.staff.name))
        if ctx.msg.is_private:
            attach_after_photos(ctx, ticket)
        ctx.say_private(ticket.reporter_id, texts.followup_question(ticket), ticket_id=ticket.id)

    def _void(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        """撤销: the ticket is no request (the classifier filed chatter). Closed and counted in no KPI; the reporter
        is told politely in the group, without the staff member's reason."""
        ctx.transition(ticket, "voided", actor_id=ctx.msg.sender_id, note=cmd.argument)
        ctx.reply(texts.worker_voided(ticket))
        tell_reporters(ctx, ticket, texts.voided_group(ticket))
        if ctx.staff.role != "secretary":  # a ticket leaving every KPI is the secretaries' to know of
            tell_secretaries(ctx, ticket, texts.secretaries_voided(ticket, ctx.staff.name, cmd.argument))

    def _transfer(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        target, _, reason = cmd.argument.partition(" ")
        found = target_route(ctx, target, ticket)
        if found is None:
            ctx.reply(texts.TRANSFER_TARGET_UNKNOWN)
            return
        if found.worker.id == ticket.assignee_staff_id:
            ctx.reply(f"工单#{ticket.id}已经由{found.worker.name}负责。")
            return
        assign(ctx, ticket, found, actor_id=ctx.msg.sender_id, note=f"{ctx.staff.name}转办：{reason or '未说明原因'}",
               action="transferred")
        ctx.reply(texts.worker_done(f"转给{found.worker.name}", ticket))
        tell_reporters(ctx, ticket, texts.transferred_group(ticket, found.worker.name))

    def _return(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        arrived = last_assigned_at(session=ctx.session, ticket_id=ticket.id)
        if ctx.staff.role != "secretary" and arrived and ctx.now > deadlines.return_deadline(ctx, arrived):
            ctx.reply(texts.return_too_late(ticket, ctx.config.sla.return_within.describe()))
            return
        ctx.transition(ticket, "returned", actor_id=ctx.msg.sender_id,
                       note=cmd.argument)
        ctx.reply(texts.worker_done("退回", ticket) + "书记会重新指派。")
        notify_secretaries(ctx, ticket, f"{ctx.staff.name}退回：{cmd.argument}。请指派：指派 {ticket.id} 人员")

    def _extend(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        match = re.match(r"(\d{1,3})\s*天?\s*(.*)", cmd.argument)
        if match is None or int(match.group(1)) < 1:
            ctx.reply(texts.malformed("天数", EXAMPLES["extend"]))
            return
        ctx.reply(extend(ctx, ticket, int(match.group(1)), match.group(2).strip(), actor_id=ctx.msg.sender_id))

    # ---- secretaries ----------------------------------------------------------------------
    def _assign(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        ctx.reply(assign_to(ctx, ticket, cmd.argument.split(" ", 1)[0], actor_id=ctx.msg.sender_id))

    def _supervise(self, ctx: Ctx, cmd: Command, ticket: Ticket) -> None:
        ctx.reply(supervise(ctx, ticket, cmd.argument, actor_id=ctx.msg.sender_id))

    def _todo(self, ctx: Ctx, cmd: Command, ticket: None) -> None:
        tickets = [t for t in list_tickets(session=ctx.session, statuses=OPEN_STATUSES) if supervises(ctx, t)]
        tickets.sort(key=lambda t: (not t.urgent, t.created_at))  # urgent first, then oldest
        if not tickets:
            ctx.reply("目前没有未办结的工单。")
            return
        lines = [f"#{t.id} {'【紧急】' if t.urgent else ''}{t.category_name} {texts.place(t)} "
                 f"{texts.status_name(t)} {worker_name(ctx, t) or '未指派'}" for t in tickets]
        ctx.reply(f"未办结工单{len(tickets)}张：\n" + "\n".join(lines))


# ---- the actions themselves: chat commands and the web console both call these, as ctx.staff --------------
def extend(ctx: Ctx, ticket: Ticket, days: int, reason: str, *, actor_id: str) -> str:
    """延期: move the resolve deadline by `days` working days; a worker's extension is reported to the secretaries.
    Returns the answer for the person who asked; raises IllegalTransition."""
    limit = ctx.config.tickets.max_extension_days
    if days < 1:
        return texts.malformed("天数", EXAMPLES["extend"])
    if ticket.extension_days + days > limit:
        return f"延期合计不能超过{limit}个工作日（已延期{ticket.extension_days}天）。"
    if not reason:
        return texts.malformed("延期原因", EXAMPLES["extend"])
    ctx.transition(ticket, "extended", actor_id=actor_id, note=f"{days}天：{reason}")
    ticket.extension_days += days
    due.extend(ticket, days, config=ctx.config, calendar=ctx.deps.calendar, now=ctx.now)
    if ctx.staff.role != "secretary":
        notify_secretaries(ctx, ticket, f"{ctx.staff.name}申请延期{days}天：{reason}")
    return texts.worker_done(f"延期{days}天", ticket)


def assign_to(ctx: Ctx, ticket: Ticket, target: str, *, actor_id: str) -> str:
    """指派: hand the ticket to a grid worker (or a grid's worker), who is told privately."""
    found = target_route(ctx, target, ticket)
    if found is None:
        return texts.TRANSFER_TARGET_UNKNOWN
    assign(ctx, ticket, found, actor_id=actor_id, note=f"{ctx.staff.name}指派")
    return texts.worker_done(f"指派给{found.worker.name}", ticket)


def supervise(ctx: Ctx, ticket: Ticket, note: str, *, actor_id: str) -> str:
    """督办: recorded on the ticket, and the assignee gets it privately."""
    ctx.transition(ticket, "supervised", actor_id=actor_id, note=note)
    worker = ctx.deps.directory.wechat_id_of(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
    if worker:
        ctx.say_private(worker, f"【督办】工单#{ticket.id}（{ticket.category_name}）：{texts.excerpt(note)}——{ctx.staff.name}",
                        ticket_id=ticket.id)
    return texts.worker_done("督办", ticket)


def target_route(ctx: Ctx, target: str, ticket: Ticket) -> Route | None:
    """转/指派 targets: a grid (its worker) or a grid worker by configured name or id; secretaries and street
    staff supervise tickets and never hold them."""
    grid = ctx.config.find_grid(target)
    staff = ctx.config.staff_by_id(grid.worker) if grid else ctx.config.find_staff(target)
    if staff is None or staff.role != "grid_worker":
        return None
    if grid is None:
        grid = next((g for g in ctx.config.grids if g.worker == staff.id), None) or ctx.config.grid_by_id(ticket.grid_id or "")
    return Route(grid, staff, ctx.deps.directory.wechat_id_of(staff.id))


def supervises(ctx: Ctx, ticket: Ticket) -> bool:
    """A secretary acts on their own community's tickets (and on any whose community is unknown)."""
    return ctx.community_of(ticket) in (None, ctx.config.community_of_staff(ctx.staff))


def may_view(ctx: Ctx, ticket: Ticket) -> bool:
    if ctx.staff is not None or ticket.reporter_id == ctx.msg.sender_id:
        return True
    return any(f.contact_id == ctx.msg.sender_id for f in followers_of(session=ctx.session, ticket_id=ticket.id))
