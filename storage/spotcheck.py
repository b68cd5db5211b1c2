"""抽查 in the database: the residents' group messages drawn for a person to read (IncomingMessage.spot_check, see
handlers.spotcheck) and the labels signed for them (MessageReview)."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from sqlmodel import Session, col, select

from storage import readings
from storage.db import dialect_insert
from storage.models import IncomingMessage, MessageReview

Visible = Callable[[str | None, str | None], bool]  # (room id, room topic) -> may this person see that group


def _kept_drawn(since: datetime):  # noqa: ANN202
    """Drawn messages received since `since` that filed nothing and whose text is still kept."""
    return select(IncomingMessage).where(
        col(IncomingMessage.spot_check).is_not(None), col(IncomingMessage.purged_at).is_(None),
        col(IncomingMessage.ticket_id).is_(None), IncomingMessage.received_at >= since)


def drawn(*, session: Session, since: datetime, visible: Visible) -> list[IncomingMessage]:
    """The drawn messages received since `since` whose text is still kept, in the groups one may see, oldest first."""
    return [m for m in session.exec(_kept_drawn(since).order_by(IncomingMessage.id)) if visible(m.room_id, m.room_topic)]


def pending(*, session: Session, since: datetime, visible: Visible) -> int:
    """How many drawn messages received since `since` in those groups wait for a reading (text still kept)."""
    found = drawn(session=session, since=since, visible=visible)
    return len(found) - len(reviews_of(session=session, row_ids=[m.id for m in found]))


def one(*, session: Session, row_id: int, since: datetime, visible: Visible) -> IncomingMessage | None:
    """The drawn message `row_id` if `drawn` would list it for this person, else None."""
    m = session.exec(_kept_drawn(since).where(IncomingMessage.id == row_id)).first()
    return m if m is not None and visible(m.room_id, m.room_topic) else None


def reviews_of(*, session: Session, row_ids: list[int]) -> dict[int, MessageReview]:
    if not row_ids:
        return {}
    return {r.message_row_id: r for r in session.exec(
        select(MessageReview).where(col(MessageReview.message_row_id).in_(row_ids)))}


def signed(*, session: Session, visible: Visible) -> list[tuple[MessageReview, IncomingMessage]]:
    """Every signed reading in the groups one may see, with its message row (whose text may be purged since)."""
    rows = session.exec(select(MessageReview, IncomingMessage)
                        .join(IncomingMessage, col(IncomingMessage.id) == MessageReview.message_row_id)
                        .order_by(MessageReview.message_row_id))
    return [(r, m) for r, m in rows if visible(m.room_id, m.room_topic)]


def save_review(*, session: Session, message: IncomingMessage, text: str, is_request: bool, category: str | None,
                urgent: bool, reviewer_id: str, reviewer_name: str, now: datetime) -> None:
    """Sign a drawn message's labels with its (masked) text; a later reading replaces an earlier one, also when two
    people sign at once (one statement: insert, or update on conflict), and keeps the reading it replaces when the
    labels differ (storage.readings; of two signing at once, one may go unkept)."""
    previous = session.exec(select(MessageReview).where(MessageReview.message_row_id == message.id)
                            .execution_options(populate_existing=True)).first()
    values = dict(message_row_id=message.id, sample=message.spot_check, text=text, is_request=is_request,
                  category=category, urgent=urgent, reviewer_id=reviewer_id, reviewer_name=reviewer_name,
                  reviewed_at=now, earlier=readings.after(previous, is_request=is_request, category=category,
                                                          urgent=urgent))
    statement = dialect_insert(session.get_bind().dialect.name)(MessageReview).values(**values)
    session.execute(statement.on_conflict_do_update(
        index_elements=["message_row_id"], set_={k: v for k, v in values.items() if k != "message_row_id"}))
