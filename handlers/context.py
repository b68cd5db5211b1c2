"""What a handler gets: typed dependencies (no string-keyed injection) and the message in hand."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Callable

from sqlmodel import Session

from core.types import Incoming, Outgoing
from handlers import due, texts
from storage import attachments
from storage.models import Attachment, Ticket, TicketEvent
from storage.outbox import enqueue
from storage.staff import StaffDirectory
from storage.tickets import transition

if TYPE_CHECKING:
    from core.config import Config, Staff
    from core.workcalendar import WorkCalendar
    from storage.inbox import Stored
    from classifier import Classifier
    from classifier.model import Classification


class Classifications:
    """The classifier, remembering each text's classification while one message is handled: the rules ask about
    the same text four or five times (measured 2026-12-06, `mulin bench e2e`). Kept per message, not longer.
    The message's own text, when its writer @-mentioned the bot or a staff member, is classified as addressed (see
    classifier.engine.ADDRESSED_CUE); a part of it, or a quoted text, is not."""

    def __init__(self, classifier: "Classifier", message: "Callable[[], Incoming | None]" = lambda: None) -> None:
        self._classifier = classifier
        self._message = message
        self._seen: dict[tuple[str, bool], Classification] = {}

    def classify(self, text: str, explain: bool = False) -> "Classification":
        msg = self._message()
        addressed = msg is not None and (msg.addressed or msg.asks_staff) and text == msg.text
        if explain:
            return self._classifier.classify(text, explain=True, addressed=addressed)
        found = self._seen.get((text, addressed))
        if found is None:
            found = self._seen[text, addressed] = self._classifier.classify(text, addressed=addressed)
        return found

    def __getattr__(self, name: str):  # noqa: ANN204 - buildings, tokens, category names: as the classifier's
        return getattr(self._classifier, name)


@dataclass(frozen=True)
class Deps:
    config: "Config"
    classifier: "Classifier"
    directory: StaffDirectory
    calendar: "WorkCalendar"


@dataclass
class Ctx:
    deps: Deps
    session: Session
    msg: Incoming | None  # None for scheduled work (sweeps) that no message started
    now: datetime
    staff: "Staff | None"  # the sender, when their contact id is bound to a staff member
    ticket_id: int | None = None  # the ticket this message created or joined, for the inbox record
    queued: int = 0  # replies written to the outbox
    account: str | None = None  # the bot account that received the message, when there are several
    stored: "Stored | None" = None  # the message's inbox row, when the app read it before handling

    @property
    def config(self) -> "Config":
        return self.deps.config

    @cached_property
    def classifier(self) -> Classifications:
        """The classifier for this message's handling (a text asked about twice is classified once)."""
        return Classifications(self.deps.classifier, lambda: self.msg)

    def community_of(self, ticket: Ticket) -> str | None:
        """The ticket's community id (None only when neither its grid nor its group is configured)."""
        return self.config.community_of(ticket.grid_id, ticket.room_id, ticket.room_topic)

    def transition(self, ticket: Ticket, action: str, *, actor_id: str, note: str | None = None,
                   assignee_staff_id: str | None = None, grid_id: str | None = None) -> TicketEvent:
        """Change the ticket's status (refused with a reason if not allowed) and move its deadlines with it."""
        event = transition(session=self.session, ticket=ticket, action=action, actor_id=actor_id, now=self.now,
                           note=note, assignee_staff_id=assignee_staff_id, grid_id=grid_id)
        due.apply(ticket, action, config=self.config, calendar=self.deps.calendar, now=self.now)
        return event

    def reply(self, text: str, *, mention: bool = True) -> None:
        """Answer where the message came from; in a group, masked and @-mentioning the sender."""
        assert self.msg is not None, "reply() needs the message being answered"
        if self.msg.room_id is not None:
            self.say_room(self.msg.room_id, text, mentions=(self.msg.sender_id,) if mention else ())
        else:
            self.say_private(self.msg.sender_id, text)

    def say_room(self, room_id: str, text: str, mentions: tuple[str, ...] = (), ticket_id: int | None = None, *,
                 urgent: bool = False, held: bool = False, image: bytes | None = None, image_name: str = "image.png",
                 ) -> None:
        """held: keep it back for a summary instead of sending it (late messages after an outage).
        image: send this PNG, as a file named image_name, instead; `text` then describes it in logs and transcripts."""
        out = Outgoing(text=texts.mask(text), room_id=room_id, mentions=mentions, image=image, image_name=image_name)
        self._queue(out, ticket_id=ticket_id, urgent=urgent, held=held,
                    reply=self.msg is not None and self.msg.room_id == room_id)

    def say_private(self, contact_id: str, text: str, ticket_id: int | None = None, *, urgent: bool = False,
                    image: bytes | None = None, image_name: str = "image.png") -> None:
        self._queue(Outgoing(text=text, to_id=contact_id, image=image, image_name=image_name), ticket_id=ticket_id, urgent=urgent,
                    reply=self.msg is not None and self.msg.sender_id == contact_id)

    def send_photo(self, photo: "Attachment", *, text: str, room_id: str | None = None, to_id: str | None = None,
                   ticket_id: int | None = None) -> None:
        """A stored photo as a picture, read from the store when it is sent; `text` describes it in logs."""
        out = Outgoing(text=text, room_id=room_id, to_id=to_id)
        self._queue(out, ticket_id=ticket_id, urgent=False, reply=False,
                    photo=(photo.sha256, attachments.file_name(photo)))

    def _queue(self, out: Outgoing, *, ticket_id: int | None, urgent: bool, reply: bool, held: bool = False,
               photo: tuple[str, str] | None = None) -> None:
        """A reply to the message in hand, in its chat or to its sender, is not held by quiet hours;
        anything about an urgent ticket is urgent."""
        if not urgent and ticket_id is not None:
            ticket = self.session.get(Ticket, ticket_id)
            urgent = ticket is not None and ticket.urgent
        # a private answer comes from the account the person wrote to; anything else any account may send
        pinned = self.account if reply and out.to_id is not None else None
        enqueue(session=self.session, out=out, now=self.now, ticket_id=ticket_id, urgent=urgent,
                in_reply_to=self.msg.id if reply else None, held=held, account=pinned, photo=photo)
        self.queued += not held
