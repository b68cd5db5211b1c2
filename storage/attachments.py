"""Photos: pictures residents and workers send, stored once by content hash, and the tickets they joined.

Every picture message gets one `attachment` row (stored, too large, not an image, failed, or a flood), so what
was refused is visible; only real images are kept, their bytes in `attachment_blob` under their sha256, so the
same image delivered twice is stored once. The database is the one store every process reads.
"""
from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete
from sqlmodel import Session, col, func, select

from core.types import FetchedFile
from storage.db import dialect_insert, run
from storage.models import Attachment, AttachmentBlob, AttachmentState, OutboxMessage, OutboxState

BEFORE, AFTER = "before", "after"  # a resident's photo of the problem; the worker's 整改后 photo
MIME_OF_FORMAT = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp",
                  "BMP": "image/bmp", "MPO": "image/jpeg", "TIFF": "image/tiff"}
EXTENSION_OF_MIME = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
                     "image/bmp": "bmp", "image/tiff": "tif"}
MAX_PIXELS = 64_000_000  # a phone photo is ~12-50 MP; more is a decompression bomb, not a photo


class NotAnImage(ValueError):
    """The bytes are no picture a phone sends, or a broken one."""


@dataclass(frozen=True)
class ImageInfo:
    mime: str
    width: int
    height: int


def inspect_image(data: bytes) -> ImageInfo:
    """What the bytes are, decoded in full (a truncated or corrupt file fails here, whatever its name says).
    Pillow is imported here, on the first picture: most starts see none."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                fmt = image.format or ""
                if fmt not in MIME_OF_FORMAT:
                    raise NotAnImage(f"format {fmt or 'unknown'} is not a photo format")
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise NotAnImage(f"{width}x{height} pixels is more than a photo has")
                image.load()
    except NotAnImage:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning) as exc:
        raise NotAnImage(f"{type(exc).__name__}: {exc}") from None
    return ImageInfo(mime=MIME_OF_FORMAT[fmt], width=width, height=height)


def of_message(*, session: Session, message_id: str) -> Attachment | None:
    return session.exec(select(Attachment).where(Attachment.message_id == message_id)).first()


def record(*, session: Session, message_id: str, sender_id: str, room_id: str | None, sent_at: datetime,
           now: datetime, fetched: FetchedFile | None = None, state: AttachmentState | None = None,
           error: str | None = None) -> Attachment:
    """One picture message's row (kept if already there); with fetched bytes that are an image, its blob too.
    Without bytes, `state` says why (too large, failed, flood). Not committed."""
    row = of_message(session=session, message_id=message_id)
    if row is not None:
        return row
    row = Attachment(message_id=message_id, sender_id=sender_id, room_id=room_id, sent_at=sent_at, received_at=now,
                     state=state or AttachmentState.FAILED, error=error[:2000] if error else None)
    if fetched is not None:
        row.name, row.size = fetched.name or None, fetched.size
        if fetched.data is None:
            row.state = AttachmentState.TOO_LARGE
        else:
            try:
                info = inspect_image(fetched.data)
            except NotAnImage as exc:
                row.state, row.error = AttachmentState.NOT_IMAGE, str(exc)[:2000]
            else:
                row.state, row.sha256 = AttachmentState.STORED, _store_blob(session, fetched.data, info, now)
    session.add(row)
    session.flush()
    return row


def _store_blob(session: Session, data: bytes, info: ImageInfo, now: datetime) -> str:
    sha256 = hashlib.sha256(data).hexdigest()
    session.execute(dialect_insert(session.get_bind().dialect.name)(AttachmentBlob).values(
        sha256=sha256, mime=info.mime, size=len(data), width=info.width, height=info.height, data=data,
        created_at=now).on_conflict_do_nothing())
    return sha256


def recent_count(*, session: Session, sender_id: str, since: datetime) -> int:
    """Pictures this person sent since then (every state): a flood is not fetched."""
    return session.exec(select(func.count()).select_from(Attachment).where(
        Attachment.sender_id == sender_id, col(Attachment.sent_at) >= since)).one()


# Built once: asked after every resident's text that filed or joined a ticket, and mostly finds nothing
_UNLINKED_NEAR = select(Attachment.id).where(
    Attachment.sender_id == bindparam("sender_id"), Attachment.state == AttachmentState.STORED,
    col(Attachment.ticket_id).is_(None),
    col(Attachment.sent_at) >= bindparam("since", type_=Attachment.__table__.c.sent_at.type),
    col(Attachment.sent_at) <= bindparam("until", type_=Attachment.__table__.c.sent_at.type))
_UNLINKED_NEAR_IN_ROOM = _UNLINKED_NEAR.where(Attachment.room_id == bindparam("room_id"))
_UNLINKED_NEAR_IN_PRIVATE = _UNLINKED_NEAR.where(col(Attachment.room_id).is_(None))


def unlinked_near(*, session: Session, sender_id: str, room_id: str | None, at: datetime,
                  window: timedelta) -> list[Attachment]:
    """This person's stored pictures in this chat within `window` of `at` that joined no ticket yet, oldest first
    (their ids are looked up first; the rows are loaded only when there are some)."""
    params = {"sender_id": sender_id, "since": at - window, "until": at + window}
    if room_id is None:
        ids = run(session, _UNLINKED_NEAR_IN_PRIVATE, params).scalars().all()
    else:
        ids = run(session, _UNLINKED_NEAR_IN_ROOM, {**params, "room_id": room_id}).scalars().all()
    if not ids:
        return []
    return list(session.exec(select(Attachment).where(col(Attachment.id).in_(ids))
                             .order_by(Attachment.sent_at, Attachment.id)))


def of_ticket(*, session: Session, ticket_id: int, role: str | None = None) -> list[Attachment]:
    """The photos that joined the ticket (of one role), in the order they were sent."""
    query = select(Attachment).where(Attachment.ticket_id == ticket_id)
    if role is not None:
        query = query.where(Attachment.role == role)
    return list(session.exec(query.order_by(Attachment.sent_at, Attachment.id)))


def of_tickets(*, session: Session, ticket_ids: list[int]) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    if ticket_ids:
        for row in session.exec(select(Attachment).where(col(Attachment.ticket_id).in_(ticket_ids))
                                .order_by(Attachment.sent_at, Attachment.id)):
            found.setdefault(row.ticket_id, []).append(row)
    return found


def first_photos(*, session: Session, ticket_ids: list[int]) -> dict[int, int]:
    """Each ticket's first before-photo id (its first after-photo when it has none)."""
    return {ticket_id: min(photos, key=lambda p: (p.role != BEFORE, p.sent_at, p.id)).id
            for ticket_id, photos in of_tickets(session=session, ticket_ids=ticket_ids).items()}


def link(*, session: Session, attachment: Attachment, ticket_id: int, role: str, now: datetime,
         limit: int) -> bool:
    """Join the photo to the ticket; False when the ticket already has this image (a re-sent copy) or `limit`
    photos of this role. Not committed."""
    present = of_ticket(session=session, ticket_id=ticket_id, role=role)
    if any(p.sha256 == attachment.sha256 for p in present) or len(present) >= limit:
        return False
    attachment.ticket_id, attachment.role, attachment.linked_at = ticket_id, role, now
    session.add(attachment)
    return True


def expire_unlinked(*, session: Session, before: datetime | None, sender_id: str | None = None) -> int:
    """Pictures stored before then (any time: None; of one sender, when given) that joined no ticket are chat, not
    evidence: their bytes are dropped (a blob another photo still uses stays). Returns how many. Not committed."""
    query = select(Attachment).where(Attachment.state == AttachmentState.STORED, col(Attachment.ticket_id).is_(None))
    if before is not None:
        query = query.where(col(Attachment.sent_at) < before)
    rows = list(session.exec(query if sender_id is None else query.where(Attachment.sender_id == sender_id)))
    if not rows:
        return 0
    for row in rows:
        row.state, row.error = AttachmentState.EXPIRED, "joined no ticket"
        session.add(row)
    session.flush()
    hashes = {row.sha256 for row in rows}
    used = set(session.exec(select(Attachment.sha256).where(
        col(Attachment.sha256).in_(hashes), Attachment.state == AttachmentState.STORED)))
    used |= set(session.exec(select(OutboxMessage.attachment_sha256).where(
        col(OutboxMessage.attachment_sha256).in_(hashes),
        col(OutboxMessage.state).in_((OutboxState.PENDING, OutboxState.SENDING)))))
    if hashes - used:
        session.execute(delete(AttachmentBlob).where(col(AttachmentBlob.sha256).in_(hashes - used)))
    return len(rows)


def blob_data(*, session: Session, sha256: str) -> bytes | None:
    return session.exec(select(AttachmentBlob.data).where(AttachmentBlob.sha256 == sha256)).first()


def file_name(attachment: Attachment, mime: str | None = None) -> str:
    """The name a photo is sent and served under: 工单12_1.jpg."""
    extension = EXTENSION_OF_MIME.get(mime or "", "jpg")
    return f"工单{attachment.ticket_id}_{attachment.id}.{extension}" if attachment.ticket_id else f"照片{attachment.id}.{extension}"


@dataclass(frozen=True)
class TicketPhoto:
    """One photo of a ticket as a page or an export shows it."""

    id: int
    ticket_id: int
    role: str
    mime: str
    size: int
    width: int
    height: int
    sha256: str
    sent_at: datetime
    sender_id: str
    name: str
    data: bytes | None  # None when asked for metadata only


def _photos(session: Session, where, with_data: bool) -> list[TicketPhoto]:  # noqa: ANN001
    columns = [Attachment, AttachmentBlob.mime, AttachmentBlob.size, AttachmentBlob.width, AttachmentBlob.height]
    if with_data:
        columns.append(AttachmentBlob.data)
    rows = session.exec(select(*columns).join(AttachmentBlob, AttachmentBlob.sha256 == Attachment.sha256)
                        .where(where, col(Attachment.ticket_id).is_not(None))
                        .order_by(Attachment.role.desc(), Attachment.sent_at, Attachment.id))
    photos = []
    for row in rows:
        attachment, mime, size, width, height = row[:5]
        photos.append(TicketPhoto(id=attachment.id, ticket_id=attachment.ticket_id, role=attachment.role or BEFORE,
                                  mime=mime, size=size, width=width, height=height, sha256=attachment.sha256,
                                  sent_at=attachment.sent_at, sender_id=attachment.sender_id,
                                  name=file_name(attachment, mime), data=row[5] if with_data else None))
    return photos


def ticket_photos(*, session: Session, ticket_id: int, with_data: bool = True) -> list[TicketPhoto]:
    """A ticket's photos, metadata and (with_data) bytes, before-photos first: what a ticket page shows.
    Who may see the ticket is the caller's check."""
    return _photos(session, Attachment.ticket_id == ticket_id, with_data)


def photo(*, session: Session, attachment_id: int) -> TicketPhoto | None:
    """One photo by its id (a page's full-size link), with its bytes only; None when unknown or joined to no
    ticket. Who may see its ticket (`ticket_id`) is the caller's check."""
    found = _photos(session, Attachment.id == attachment_id, with_data=True)
    return found[0] if found else None
