"""Photos join tickets: a resident's picture close to their own complaint (整改前), a grid worker's private picture
close to `办结 N` (整改后).

The picture itself was fetched and recorded (storage.attachments) before its message is dispatched; here it is
only linked and passed on through the outbox: before-photos to the ticket's worker, after-photos to the reporter
and, unless the ticket is private, the group.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from handlers import texts
from handlers.context import Ctx
from storage import attachments
from storage.attachments import AFTER, BEFORE
from storage.inbox import recent_ticket_of
from storage.models import Attachment, Ticket
from storage.tickets import get_ticket, last_resolved_by, waiting_for_place

log = logging.getLogger("mulin.photos")
UNLINKED_KEEP = timedelta(hours=1)  # longer than every rule that can still link a picture (3 and 10 minutes)


class PhotoMessage:
    """Rule: a picture. A resident's in a served group joins their ticket nearby; a grid worker's private one
    is the after-photo of the ticket they just resolved (or waits for their `办结 N`). Others stay unanswered
    in groups; privately the fallback explains that only text is read."""

    name = "photo"

    def check(self, ctx: Ctx) -> Attachment | None:
        msg = ctx.msg
        if msg.kind != "image" or (msg.is_private and ctx.staff is None):
            return None
        if not msg.is_private and (ctx.staff is not None or ctx.config.is_staff_group(msg.room_id, msg.room_topic)):
            return None
        return attachments.of_message(session=ctx.session, message_id=msg.id)

    def permit(self, ctx: Ctx, match: Attachment) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: Attachment) -> None:
        if match.sha256 is None:  # too large, not an image, a flood or unfetched: recorded and logged when it came
            if ctx.msg.is_private:  # the worker hears why; a group is not told about a resident's picture
                ctx.reply(texts.photo_refused(match.state.value, ctx.config.photos.max_mb))
            return
        if ctx.msg.is_private:
            since = ctx.msg.at - timedelta(minutes=ctx.config.photos.after_minutes)
            ticket = last_resolved_by(session=ctx.session, actor_id=ctx.msg.sender_id, since=since)
            if ticket is not None:
                ctx.ticket_id = ticket.id
                send_after_photos(ctx, ticket, [match])
            else:
                ctx.reply(texts.worker_photo_waits(ctx.config.photos.after_minutes))
            return
        ticket = ticket_near(ctx)
        if ticket is None:
            log.info("photo %s from %s: no ticket of theirs within %g min; kept unlinked", ctx.msg.id,
                     ctx.msg.sender_id, ctx.config.photos.window_minutes)
            return
        ctx.ticket_id = ticket.id
        if link(ctx, ticket, [match], BEFORE) and ticket.assignee_staff_id is not None:
            send_to_worker(ctx, ticket, [match], late=True)


def ticket_near(ctx: Ctx) -> Ticket | None:
    """The ticket this resident filed or joined in this group within the window, or the one waiting for their
    building."""
    msg, window = ctx.msg, timedelta(minutes=ctx.config.photos.window_minutes)
    ticket_id = recent_ticket_of(session=ctx.session, sender_id=msg.sender_id, room_id=msg.room_id,
                                 since=msg.at - window, until=msg.at + window)
    if ticket_id is not None:
        return get_ticket(session=ctx.session, ticket_id=ticket_id)
    return waiting_for_place(session=ctx.session, reporter_id=msg.sender_id, room_id=msg.room_id, now=ctx.now)


def link(ctx: Ctx, ticket: Ticket, photos: list[Attachment], role: str) -> list[Attachment]:
    """Join the photos to the ticket (a copy of one it has, or past the limit, is left out and logged)."""
    linked = []
    for photo in photos:
        if attachments.link(session=ctx.session, attachment=photo, ticket_id=ticket.id, role=role, now=ctx.now,
                            limit=ctx.config.photos.per_ticket):
            linked.append(photo)
            log.info("photo %s joined ticket #%s as %s", photo.message_id, ticket.id, role)
        else:
            log.info("photo %s not joined to ticket #%s: the same image is there or it has %d %s photos",
                     photo.message_id, ticket.id, ctx.config.photos.per_ticket, role)
    return linked


def gather_reporters(ctx: Ctx, ticket: Ticket) -> None:
    """Before a ticket's first notice: the reporter's pictures posted in its group just before it was filed."""
    if ticket.room_id is None:
        return
    window = timedelta(minutes=ctx.config.photos.window_minutes)
    at = ctx.msg.at if ctx.msg is not None and ctx.msg.id == ticket.source_message_id else ticket.created_at
    waiting = attachments.unlinked_near(session=ctx.session, sender_id=ticket.reporter_id, room_id=ticket.room_id,
                                        at=at, window=window)
    link(ctx, ticket, waiting, BEFORE)


def attach_earlier(ctx: Ctx) -> None:
    """After a resident's text filed or joined a ticket: their pictures posted just before it join it too, and
    go to the worker if the ticket has one already (a new ticket's notice went out just before them)."""
    msg = ctx.msg
    if msg is None or ctx.ticket_id is None or msg.kind != "text" or ctx.staff is not None or msg.is_private:
        return
    window = timedelta(minutes=ctx.config.photos.window_minutes)
    waiting = attachments.unlinked_near(session=ctx.session, sender_id=msg.sender_id, room_id=msg.room_id,
                                        at=msg.at, window=window)
    if not waiting:
        return
    ticket = get_ticket(session=ctx.session, ticket_id=ctx.ticket_id)
    linked = link(ctx, ticket, waiting, BEFORE)
    if linked and ticket.assignee_staff_id is not None:
        send_to_worker(ctx, ticket, linked, late=ticket.source_message_id != msg.id)


def send_to_worker(ctx: Ctx, ticket: Ticket, photos: list[Attachment], *, late: bool,
                   worker_wechat_id: str | None = None) -> None:
    """The photos as pictures to the ticket's worker; `late`: after the notice, under "工单#N 补充照片"."""
    worker = worker_wechat_id or ctx.deps.directory.wechat_id_of(ticket.assignee_staff_id)
    if not worker or not photos:
        return
    if late:
        sender = ctx.msg.sender_name if ctx.msg is not None else ticket.reporter_name
        ctx.say_private(worker, texts.worker_more_photos(ticket, len(photos), sender), ticket_id=ticket.id)
    for photo in photos:
        ctx.send_photo(photo, to_id=worker, text=f"工单#{ticket.id}照片", ticket_id=ticket.id)


def attach_after_photos(ctx: Ctx, ticket: Ticket) -> None:
    """On `办结 N`: the worker's private pictures of the last minutes become the ticket's 整改后 photos."""
    window = timedelta(minutes=ctx.config.photos.after_minutes)
    waiting = attachments.unlinked_near(session=ctx.session, sender_id=ctx.msg.sender_id, room_id=None,
                                        at=ctx.msg.at, window=window)
    if waiting:
        send_after_photos(ctx, ticket, waiting)


def send_after_photos(ctx: Ctx, ticket: Ticket, photos: list[Attachment]) -> None:
    """The 整改后 photos go to the reporter privately, and into the group unless the ticket is private."""
    linked = link(ctx, ticket, photos, AFTER)
    if not linked:
        return
    caption = texts.after_photos(ticket, len(linked))
    in_group = ticket.room_id is not None and ticket.category not in ctx.config.private_categories
    if in_group:
        ctx.say_room(ticket.room_id, caption, mentions=(ticket.reporter_id,), ticket_id=ticket.id)
        for photo in linked:
            ctx.send_photo(photo, room_id=ticket.room_id, text=f"工单#{ticket.id}整改后照片", ticket_id=ticket.id)
    ctx.say_private(ticket.reporter_id, caption, ticket_id=ticket.id)
    for photo in linked:
        ctx.send_photo(photo, to_id=ticket.reporter_id, text=f"工单#{ticket.id}整改后照片", ticket_id=ticket.id)
    if ctx.msg is not None and ctx.msg.is_private:
        ctx.reply(texts.worker_after_photos(ticket, len(linked)))


def drop_unlinked(ctx: Ctx) -> int:
    """Sweep: pictures that joined no ticket within the hour are group chat; their bytes are not kept."""
    dropped = attachments.expire_unlinked(session=ctx.session, before=ctx.now - UNLINKED_KEEP)
    if dropped:
        log.info("dropped the bytes of %d picture(s) that joined no ticket within %s", dropped, UNLINKED_KEEP)
    return dropped
