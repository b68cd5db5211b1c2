"""What a handler gets: typed dependencies (no string-keyed injection) and the message in hand."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.types import Incoming, Outgoing
from handlers import texts
from storage.outbox import enqueue
from storage.staff import StaffDirectory

if TYPE_CHECKING:
    from bot.config import Config, Staff
    from classifier import Classifier


@dataclass(frozen=True)
class Deps:
    config: "Config"
    classifier: "Classifier"
    directory: StaffDirectory


@dataclass
class Ctx:
    deps: Deps
    session: Session
    msg: Incoming | None  # None for scheduled work (sweeps) that no message started
    now: datetime
    staff: "Staff | None"  # the sender, when their contact id is bound to a staff member
    ticket_id: int | None = None  # the ticket this message created or joined, for the inbox record
    queued: int = 0  # replies written to the outbox

    @property
    def config(self) -> "Config":
        return self.deps.config

    def reply(self, text: str, *, mention: bool = True) -> None:
        """Answer where the message came from; in a group, masked and @-mentioning the sender."""
        assert self.msg is not None, "reply() needs the message being answered"
        if self.msg.room_id is not None:
            self.say_room(self.msg.room_id, text, mentions=(self.msg.sender_id,) if mention else ())
        else:
            self.say_private(self.msg.sender_id, text)

    def say_room(self, room_id: str, text: str, mentions: tuple[str, ...] = (), ticket_id: int | None = None,
                 held: bool = False) -> None:
        """held: keep it back for a summary instead of sending it (late messages after an outage)."""
        out = Outgoing(text=texts.mask(text), room_id=room_id, mentions=mentions)
        enqueue(session=self.session, out=out, now=self.now, ticket_id=ticket_id, held=held)
        self.queued += not held

    def say_private(self, contact_id: str, text: str, ticket_id: int | None = None) -> None:
        enqueue(session=self.session, out=Outgoing(text=text, to_id=contact_id), now=self.now, ticket_id=ticket_id)
        self.queued += 1
