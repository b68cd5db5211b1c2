"""A staff member files a resident's message the bot missed: they quote it in the residents' group and write 登记.

The classifier misses requests (a vent it reads as chatter: "停车场好多油渍啊"); the grid worker who reads the group
sees it. Quoting the message and writing "登记" (or 建单, 立案, 帮忙登记) files it as the resident's ticket, with the
classifier's category and place, routed and acknowledged as any ticket is; the ticket's "created" event names the
staff member, so `mulin tickets` and the web console show who filed it and the misses can be labelled later. A
message whose ticket was voided (撤销) by mistake is restored the same way: the same ticket, routed again.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from handlers import texts
from handlers.addressed import without_mentions
from handlers.context import Ctx
from handlers.intake import dispatch_ticket, file_ticket
from handlers.quotes import parse_quote
from storage import threads as store
from storage.models import IncomingMessage, Ticket

log = logging.getLogger("mulin.staff_filing")

_FILE = re.compile(r"^(请|帮忙|帮他|帮她|给)?(登记|建单|立案)(一下|下)?(工单)?[。.!！~～]*$")


@dataclass(frozen=True)
class FileQuoted:
    row: IncomingMessage | None  # the quoted message's inbox row; None when it is not found


class StaffFilesQuoted:
    """Rule: a staff member's quote reply "登记" in a residents' group."""

    name = "staff_files_quoted"

    def check(self, ctx: Ctx) -> FileQuoted | None:
        msg = ctx.msg
        if ctx.staff is None or msg.is_private or msg.kind != "text":
            return None
        if ctx.config.is_staff_group(msg.room_id, msg.room_topic):
            return None
        quote = parse_quote(msg.text)
        if quote is None or not _FILE.match(without_mentions(quote.reply)):
            return None
        return FileQuoted(store.quoted_message(session=ctx.session, room_id=msg.room_id, author=quote.author,
                                               text=quote.quoted, skip=msg.id, quotes=False))

    def permit(self, ctx: Ctx, match: FileQuoted) -> str | None:
        return None  # any bound staff member may file in a group they serve

    def handle(self, ctx: Ctx, match: FileQuoted) -> None:
        row = match.row
        if row is None or row.purged_at is not None or row.kind != "text":
            ctx.reply(texts.QUOTED_NOT_FOUND)
            return
        if row.ticket_id is not None:
            filed = ctx.session.get(Ticket, row.ticket_id)
            if filed is not None and filed.voided:  # voided by mistake: the same ticket, routed again
                ctx.transition(filed, "restored", actor_id=ctx.msg.sender_id, note=texts.restored_note(ctx.staff.name))
                ctx.ticket_id = filed.id
                dispatch_ticket(ctx, filed)
                return
            ctx.reply(texts.quoted_already_filed(row.ticket_id))
            return
        if ctx.deps.directory.staff_id_of(row.sender_id) is not None:
            ctx.reply(texts.QUOTED_FROM_STAFF)
            return
        text = without_mentions(row.text) if row.mentions else row.text
        c = ctx.classifier.as_request(text, addressed=bool(row.mentions))
        ticket = file_ticket(ctx, c, source_message_id=row.message_id, text=text, reporter_id=row.sender_id,
                             reporter_name=row.sender_name, room_id=row.room_id, room_topic=row.room_topic,
                             created_by=ctx.msg.sender_id, note=f"{ctx.staff.name}代为登记（机器人未识别为诉求）")
        row.ticket_id = ticket.id
        ctx.session.add(row)
        ctx.ticket_id = ticket.id
        log.info("staff %s filed message %s as ticket %s", ctx.staff.id, row.message_id, ticket.id)
        dispatch_ticket(ctx, ticket)
