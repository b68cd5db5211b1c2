"""All tables of mulin in one module (SQLModel). Times are stored timezone-aware (UTC) on every backend."""
from __future__ import annotations

from datetime import datetime, timezone
from enum import Enum

from sqlalchemy import Column, DateTime, LargeBinary, Text, TypeDecorator, UniqueConstraint, false as sa_false
from sqlmodel import Field, SQLModel


class AwareDateTime(TypeDecorator):
    """SQLite forgets tzinfo; store UTC and hand back aware datetimes everywhere."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware `now`")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _time(nullable: bool = True, index: bool = False):  # noqa: ANN202
    return Field(default=None, sa_column=Column(AwareDateTime(), nullable=nullable, index=index))


class TicketStatus(str, Enum):
    NEW = "new"              # filed, waiting for a place or an owner
    ASSIGNED = "assigned"    # routed to a grid worker, not yet accepted
    ACCEPTED = "accepted"    # the worker is on it
    RESOLVED = "resolved"    # the worker says done; waiting for the reporter's follow-up
    CLOSED = "closed"        # finished (rated, or follow-up timed out)
    RETURNED = "returned"    # wrong assignment handed back to the secretaries' queue

    @property
    def is_open(self) -> bool:
        return self not in (TicketStatus.RESOLVED, TicketStatus.CLOSED)


class Ticket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    status: TicketStatus = Field(default=TicketStatus.NEW, index=True)
    # closed by staff as no request (撤销: chatter the classifier filed); counted in no KPI, kept for the record
    voided: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    category: str = Field(index=True)
    category_name: str
    urgent: bool = False
    urgent_reason: str | None = None
    text: str = Field(sa_column=Column(Text, nullable=False))
    building: str | None = None
    unit: str | None = None
    room_no: str | None = None
    location_raw: str | None = None
    keywords: str = ""               # comma-separated rule keywords that fired: used to spot repeat reports
    grid_id: str | None = Field(default=None, index=True)
    assignee_staff_id: str | None = Field(default=None, index=True)
    reporter_id: str = Field(index=True)
    reporter_name: str
    room_id: str | None = None       # the WeChat group the ticket came from
    room_topic: str | None = None
    source_message_id: str = Field(unique=True)
    resolution_note: str | None = None
    rating: str | None = None        # satisfied | basically | dissatisfied | unrated
    reopen_count: int = 0
    return_count: int = 0
    transfer_count: int = 0
    extension_days: int = 0
    follower_count: int = 0          # residents who reported the same problem after the reporter
    place_asked_until: datetime | None = _time()  # waiting for the reporter to say which building
    followup_due_at: datetime | None = _time()    # resolved: closes as unrated when nobody answers by then
    # deadlines on the working-day clock (handlers.deadlines keeps them in step with the status)
    assigned_at: datetime | None = _time()        # first routed to a worker: the resolve clock starts here
    accept_due_at: datetime | None = _time()      # the current assignee must accept by then
    resolve_due_at: datetime | None = _time()     # must be resolved by then (moved by 延期)
    due_at: datetime | None = _time(index=True)   # the deadline that counts now: accept, resolve or reassign
    remind_at: datetime | None = _time(index=True)  # remind the assignee before due_at; None once sent
    escalation_level: int = 0                     # how many levels of the chain have been told of a breach
    next_escalation_at: datetime | None = _time(index=True)
    created_at: datetime = _time(nullable=False, index=True)
    updated_at: datetime = _time(nullable=False)
    accepted_at: datetime | None = _time()
    resolved_at: datetime | None = _time()
    closed_at: datetime | None = _time()
    pseudonymised_at: datetime | None = _time(index=True)  # reporter and followers replaced by pseudonyms


class TicketEvent(SQLModel, table=True):
    """The audit trail: every change of a ticket, who did it, when, and why."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str          # created | assigned | accepted | resolved | closed | transferred | returned | ...
    actor_id: str      # WeChat contact id, staff id, or "mulin" for the bot itself
    at: datetime = _time(nullable=False, index=True)
    note: str | None = Field(default=None, sa_column=Column(Text))
    from_status: str | None = None
    to_status: str | None = None


class MessageState(str, Enum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"    # will be retried
    PARKED = "parked"    # kept failing; reported to operators, never dropped


class IncomingMessage(SQLModel, table=True):
    """Every message the bot received, stored by its WeChat message id before anything else happens."""

    __tablename__ = "incoming_message"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)
    # a group message seen by several bot accounts arrives once per account, each copy with its own id:
    # the copies share room, sender, time and text, so this key (None for private chats) stores it once
    fingerprint: str | None = Field(default=None, unique=True)
    owner: str | None = Field(default=None, index=True)  # the account whose process stored it and handles it
    room_id: str | None = None
    room_topic: str | None = None
    sender_id: str = Field(index=True)
    sender_name: str
    kind: str = "text"
    text: str = Field(sa_column=Column(Text, nullable=False))
    # the receiving account was @-mentioned (Incoming.addressed); kept so a retried message is judged the same way
    addressed: bool = Field(default=False, sa_column_kwargs={"server_default": sa_false()})
    mentions: str = Field(default="", sa_column_kwargs={"server_default": ""})  # the @-mentioned contact ids, comma-joined
    sent_at: datetime = _time(nullable=False)
    received_at: datetime = _time(nullable=False, index=True)
    state: MessageState = Field(default=MessageState.RECEIVED, index=True)
    attempts: int = 0
    error: str | None = Field(default=None, sa_column=Column(Text))
    ticket_id: int | None = None
    purged_at: datetime | None = _time()    # text (and sender name) removed under the retention rules
    # drawn for 抽查 (handlers.spotcheck): "random" or "near"; its text outlives the chatter purge by spot_check.keep_days
    spot_check: str | None = None
    reviewed_at: datetime | None = _time()  # parked or failed: an operator has looked (`mulin status --ack`)


class OutboxState(str, Enum):
    PENDING = "pending"
    SENDING = "sending"  # handed to the gateway; found at start-up it may or may not have been delivered
    SENT = "sent"
    FAILED = "failed"
    HELD = "held"              # a late message's acknowledgement, waiting to go out inside one summary per group
    SUMMARISED = "summarised"  # was held; went out inside a summary


class OutboxMessage(SQLModel, table=True):
    """A reply written in the same transaction as the change that causes it; the sender delivers it."""

    __tablename__ = "outbox"

    id: int | None = Field(default=None, primary_key=True)
    room_id: str | None = Field(default=None, index=True)
    to_id: str | None = Field(default=None, index=True)
    mentions: str = ""   # comma-separated contact ids
    text: str = Field(sa_column=Column(Text, nullable=False))
    ticket_id: int | None = None
    image_b64: str | None = Field(default=None, sa_column=Column(Text))  # a picture instead of text
    image_name: str | None = None
    attachment_sha256: str | None = None  # a stored photo (attachment_blob) sent as a picture, read at send time
    urgent: bool = False              # goes first, and also in quiet hours and past the daily cap
    in_reply_to: str | None = None    # the message just received that this answers: not held by quiet hours
    created_at: datetime = _time(nullable=False)
    state: OutboxState = Field(default=OutboxState.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = _time()  # after a failed send: not before this (backoff)
    sent_at: datetime | None = _time(index=True)
    merged_into: int | None = None    # sent as part of this row's message (one WeChat message for several rows)
    gateway_message_id: str | None = None
    resent: int = 0                   # times it was found in flight after a crash and sent again
    error: str | None = Field(default=None, sa_column=Column(Text))
    account: str | None = Field(default=None, index=True)  # only this bot account may send it (a private answer)
    claimed_by: str | None = None     # the account whose process is sending it (state SENDING)
    purged_at: datetime | None = _time()    # text removed under the retention rules
    reviewed_at: datetime | None = _time()  # failed: an operator has looked (`mulin status --ack`)


class Notice(SQLModel, table=True):
    """Each reminder, escalation and digest happens once: its key (kind, target, period) is unique."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)      # e.g. digest:lishuji:2026-10-09, escalate:12:accept:1
    kind: str = Field(index=True)      # remind | escalate | digest | weekly
    target: str                        # staff id, room id or ticket id
    period_start: datetime | None = _time()
    period_end: datetime | None = _time(index=True)
    scheduled_at: datetime = _time(nullable=False)
    sent_at: datetime = _time(nullable=False)
    late: bool = False


class Node(SQLModel, table=True):
    """A running `mulin run` process (one per bot account); a stale heartbeat means it died."""

    __tablename__ = "node"

    account: str = Field(primary_key=True)
    instance: str                       # random per process start: two processes on one account show up
    started_at: datetime = _time(nullable=False)
    heartbeat_at: datetime = _time(nullable=False)
    link_up: bool | None = None         # the gateway link as the process last saw it (None: not reported)
    link_since: datetime | None = _time()  # when the link last went up or down
    reconnects: int = Field(default=0, sa_column_kwargs={"server_default": "0"})  # links restored since start
    wechat_id: str | None = None        # the account's own WeChat id, as its gateway said at login
    scan_at: datetime | None = _time()  # the last due-scan this process ran
    scan_seconds: float | None = None   # how long it took


class StaffBinding(SQLModel, table=True):
    """Which WeChat contact id is which staff member; seeded from config, extended by 绑定 codes."""

    __tablename__ = "staff_binding"
    __table_args__ = (UniqueConstraint("wechat_id"),)

    staff_id: str = Field(primary_key=True)
    wechat_id: str
    bound_at: datetime = _time(nullable=False)


class TicketFollower(SQLModel, table=True):
    """Residents who reported the same problem and get the same status replies."""

    __tablename__ = "ticket_follower"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    contact_id: str = Field(primary_key=True)
    room_id: str | None = None
    message_id: str | None = None
    joined_at: datetime = _time(nullable=False)


class BindCode(SQLModel, table=True):
    """A one-time code that binds the WeChat contact who sends "绑定 <code>" to a staff member."""

    __tablename__ = "bind_code"

    code: str = Field(primary_key=True)
    staff_id: str = Field(index=True)
    created_at: datetime = _time(nullable=False)
    expires_at: datetime = _time(nullable=False)
    used_by: str | None = None
    used_at: datetime | None = _time()


class BindAttempt(SQLModel, table=True):
    """Every 绑定 try, so guessing codes can be rate-limited across restarts."""

    __tablename__ = "bind_attempt"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: str = Field(index=True)
    at: datetime = _time(nullable=False)
    ok: bool = False


class EraseRequest(SQLModel, table=True):
    """A resident asked privately to have their data erased; a secretary confirms with 确认删除 WXID."""

    __tablename__ = "erase_request"

    id: int | None = Field(default=None, primary_key=True)
    contact_id: str = Field(index=True)
    requested_at: datetime = _time(nullable=False)
    confirmed_by: str | None = None     # the secretary's staff id
    confirmed_at: datetime | None = _time()


class Setting(SQLModel, table=True):
    """Deployment-wide values kept in the database (the pseudonym salt)."""

    __tablename__ = "setting"

    key: str = Field(primary_key=True)
    value: str
class AttachmentState(str, Enum):
    STORED = "stored"        # fetched, an image by its bytes, kept in attachment_blob
    TOO_LARGE = "too_large"  # bigger than photos.max_mb: recorded, not fetched
    NOT_IMAGE = "not_image"  # the bytes are no image (or a corrupt one): recorded, not kept
    FAILED = "failed"        # the gateway could not serve it
    FLOOD = "flood"          # one of too many pictures from one person in a short time: not fetched
    EXPIRED = "expired"      # was stored, joined no ticket in time: its bytes were dropped


class AttachmentBlob(SQLModel, table=True):
    """A photo's bytes, once per content (sha256): the same image delivered again is not stored again."""

    __tablename__ = "attachment_blob"

    sha256: str = Field(primary_key=True)
    mime: str                 # image/jpeg, image/png ... as read from the bytes
    size: int
    width: int
    height: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _time(nullable=False)


class Attachment(SQLModel, table=True):
    """A picture someone sent (one row per WeChat message) and the ticket it joined, if any."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)
    sender_id: str = Field(index=True)
    room_id: str | None = None        # None: sent privately to the bot
    sent_at: datetime = _time(nullable=False, index=True)
    received_at: datetime = _time(nullable=False)
    state: AttachmentState = AttachmentState.STORED
    sha256: str | None = Field(default=None, index=True)  # set when STORED
    size: int | None = None           # bytes (for TOO_LARGE: at least this many)
    name: str | None = None           # the file name the gateway gave
    error: str | None = Field(default=None, sa_column=Column(Text))
    ticket_id: int | None = Field(default=None, index=True)
    role: str | None = None           # before (the resident's photo) | after (the worker's 整改后 photo)
    linked_at: datetime | None = _time()


class WebLogin(SQLModel, table=True):
    """A one-time way into the web console: a 6-digit code sent by WeChat, or a link printed by `mulin web link`.
    Only a hash of the secret is kept."""

    __tablename__ = "web_login"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: str = Field(index=True)
    kind: str                          # code | link
    secret_hash: str = Field(index=True)
    created_at: datetime = _time(nullable=False)
    expires_at: datetime = _time(nullable=False)
    used_at: datetime | None = _time()


class WebLoginAttempt(SQLModel, table=True):
    """Every code entered, so 5 wrong codes lock the staff id for a while, across restarts and processes."""

    __tablename__ = "web_login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: str = Field(index=True)
    at: datetime = _time(nullable=False, index=True)
    ok: bool = False


class WebSession(SQLModel, table=True):
    """A logged-in browser: the cookie holds a random token, the table its hash and the form (CSRF) token."""

    __tablename__ = "web_session"

    token_hash: str = Field(primary_key=True)
    staff_id: str = Field(index=True)
    csrf: str
    created_at: datetime = _time(nullable=False)
    expires_at: datetime = _time(nullable=False)
    ended_at: datetime | None = _time()


class LabelReview(SQLModel, table=True):
    """A person's reading of a staff correction (a message filed by hand, a ticket voided) against
    classifier/LABELS.md: the labels the line trains with, and who signed them. One per ticket; a later reading
    replaces it, keeping the one it replaced in `earlier` when the labels differ (storage.readings)."""

    __tablename__ = "label_review"

    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id")
    is_request: bool
    category: str | None = None       # a code of the rules' categories; None when not a request
    urgent: bool = False
    reviewer_id: str                  # staff id
    reviewer_name: str
    reviewed_at: datetime = _time(nullable=False)
    earlier: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # storage.readings


class MessageReview(SQLModel, table=True):
    """A person's reading of a group message the bot did not file, drawn for 抽查 (IncomingMessage.spot_check),
    against classifier/LABELS.md: its labels, its masked text (kept for training after the message's own text is
    purged) and who signed them. One per message; a later reading replaces it, keeping the one it replaced in
    `earlier` when the labels differ (storage.readings)."""

    __tablename__ = "message_review"

    message_row_id: int = Field(primary_key=True, foreign_key="incoming_message.id")
    sample: str                       # the stratum it was drawn in: random | near
    text: str = Field(sa_column=Column(Text, nullable=False))  # masked (handlers.texts.mask)
    is_request: bool
    category: str | None = None
    urgent: bool = False
    reviewer_id: str
    reviewer_name: str
    reviewed_at: datetime = _time(nullable=False)
    earlier: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # storage.readings
