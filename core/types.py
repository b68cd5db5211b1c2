"""The small neutral types every part of mulin speaks; only bot/wechat/transport.py knows wechaty."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol, runtime_checkable


# What a message is, whatever the gateway calls it. Only "text" is read; the rest is stored and ignored.
KINDS = ("text", "image", "voice", "video", "sticker", "file", "link", "mini_program", "chat_history",
         "location", "contact_card", "money", "recalled", "system")
# No hint is ever sent for these: nobody wrote to the bot ("XX加入了群聊", "XX撤回了一条消息").
SILENT_KINDS = frozenset({"recalled", "system"})


@dataclass(frozen=True)
class Incoming:
    """One message the bot received, in a group (room_id set) or privately (room_id None)."""

    id: str
    sender_id: str
    sender_name: str
    text: str
    at: datetime
    room_id: str | None = None
    room_topic: str | None = None
    kind: str = "text"  # one of KINDS: only text is classified
    mentions: tuple[str, ...] = ()
    addressed: bool = False  # the bot account that received it was @-mentioned: the writer asks the bot
    asks_staff: bool = False  # it @-mentions a staff member (set by handlers.addressed from `mentions`)

    @property
    def is_private(self) -> bool:
        return self.room_id is None

    def without_nul(self) -> "Incoming":
        """PostgreSQL text cannot hold NUL (and it carries no meaning in a chat): dropped from what people type."""
        if "\x00" not in self.text + self.sender_name + (self.room_topic or ""):
            return self
        return replace(self, text=self.text.replace("\x00", ""), sender_name=self.sender_name.replace("\x00", ""),
                       room_topic=self.room_topic.replace("\x00", "") if self.room_topic is not None else None)


@dataclass(frozen=True)
class Outgoing:
    """One message the bot wants to send: into a room (optionally @-mentioning) or to one contact."""

    text: str
    room_id: str | None = None
    to_id: str | None = None
    mentions: tuple[str, ...] = field(default=())
    image: bytes | None = None   # a picture (PNG, a JPEG photo) sent as a file; `text` then only describes it for logs
    image_name: str = "image.png"

    def __post_init__(self) -> None:
        if (self.room_id is None) == (self.to_id is None):
            raise ValueError("Outgoing needs exactly one of room_id or to_id")


@dataclass(frozen=True)
class FetchedFile:
    """A message's file as the gateway served it: `data` is None when it was bigger than the limit (then
    `size` is at least what was seen before the fetch stopped)."""

    name: str
    size: int
    data: bytes | None

    @property
    def too_large(self) -> bool:
        return self.data is None


@runtime_checkable
class Fetcher(Protocol):
    """What the app needs from a chat transport to read a received picture or file."""

    async def fetch_file(self, message_id: str, max_bytes: int) -> FetchedFile:
        """The message's file, or its size alone when bigger than max_bytes; raises when the gateway cannot."""


class Disconnected(RuntimeError):
    """The transport has lost its gateway for now: nothing was sent, try again after it reconnects."""


class Sender(Protocol):
    """What the app needs from a chat transport to deliver a reply."""

    async def send(self, out: Outgoing) -> str | None:
        """Deliver and return the gateway's message id, if it gives one."""
