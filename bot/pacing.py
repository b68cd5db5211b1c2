"""WeChat-safe pacing: which waiting replies may go now, merged how, and when the next may go.

Pure policy over plain values (no database, no clock): the app reads the outbox and the recent sends,
asks `Pacer.plan(now, ...)`, sends the batches and sleeps until the plan's next due time.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from core.config import SendingPolicy

RATE_WINDOW = timedelta(minutes=1)

# Why a conversation waits. Pacing waits are short; retry, quiet and cap waits can be long.
INTERVAL, RATE, RETRY, QUIET, CAP = "interval", "rate", "retry", "quiet", "cap"
PACING = frozenset({INTERVAL, RATE})


@dataclass(frozen=True)
class Pending:
    """One outbox row waiting to be sent."""

    id: int
    conversation: str             # room id, or the contact id of a private chat
    is_room: bool
    created_at: datetime
    urgent: bool = False
    reply: bool = False           # answers a message just received: the person is awake
    next_attempt_at: datetime | None = None  # a failed send backs off until then
    alone: bool = False           # a picture: never merged with other rows


@dataclass(frozen=True)
class Send:
    """One WeChat message that went out (a merged message counts once)."""

    conversation: str
    is_room: bool
    at: datetime


@dataclass(frozen=True)
class History:
    recent: tuple[Send, ...] = ()                            # sends since `Pacer.recent_since(now)`
    today: Mapping[str, int] = field(default_factory=dict)   # sends per group since local midnight

    def add(self, sends: Iterable[Send]) -> "History":
        sends = tuple(sends)
        today = dict(self.today)
        for send in sends:
            if send.is_room:
                today[send.conversation] = today.get(send.conversation, 0) + 1
        return History(recent=self.recent + sends, today=today)


@dataclass(frozen=True)
class Batch:
    """Rows of one conversation that go out now as one WeChat message, in order."""

    conversation: str
    is_room: bool
    ids: tuple[int, ...]
    urgent: bool
    reply: bool = False  # holds a direct reply: someone is waiting for it


@dataclass(frozen=True)
class Wait:
    conversation: str
    until: datetime
    reason: str  # INTERVAL | RATE | RETRY | QUIET | CAP
    row_id: int


@dataclass(frozen=True)
class Plan:
    batches: tuple[Batch, ...]
    waits: tuple[Wait, ...]

    def next_due(self, reasons: Iterable[str] | None = None) -> datetime | None:
        wanted = None if reasons is None else frozenset(reasons)
        return min((w.until for w in self.waits if wanted is None or w.reason in wanted), default=None)


class Pacer:
    def __init__(self, policy: SendingPolicy, tz: ZoneInfo) -> None:
        self.policy = policy
        self.tz = tz
        self.group_interval = timedelta(seconds=policy.group_interval_seconds)
        self.private_interval = timedelta(seconds=policy.private_interval_seconds)
        self.merge_window = timedelta(seconds=policy.merge_window_seconds)

    # ---- what the caller must read from storage --------------------------------------------
    def recent_since(self, now: datetime) -> datetime:
        """Sends after this instant matter for the rate window and the per-chat intervals."""
        return now - max(RATE_WINDOW, self.group_interval, self.private_interval)

    def day_start(self, now: datetime) -> datetime:
        return datetime.combine(now.astimezone(self.tz).date(), time(0), tzinfo=self.tz)

    def retry_delay(self, attempts: int) -> timedelta:
        """Backoff after the n-th failed attempt: retry_seconds, doubling, capped."""
        seconds = self.policy.retry_seconds * 2 ** min(max(attempts - 1, 0), 30)
        return timedelta(seconds=min(seconds, self.policy.retry_max_seconds))

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the quiet hours `now` is in, or None outside them."""
        start, end = self.policy.quiet_start, self.policy.quiet_end
        if start == end:
            return None
        local = now.astimezone(self.tz)
        t = local.time()
        quiet = start <= t < end if start < end else (t >= start or t < end)
        if not quiet:
            return None
        day = local.date() if t < end else local.date() + timedelta(days=1)
        return datetime.combine(day, end, tzinfo=self.tz)

    # ---- the decision --------------------------------------------------------------------------
    def plan(self, now: datetime, pending: Sequence[Pending], history: History) -> Plan:
        """What goes now and what waits until when.

        Per chat the oldest sendable rows go, merged into one message (order kept; rows held by quiet hours
        or the daily cap are passed by urgent rows and direct replies). Across chats: urgent first, then
        direct replies, then oldest, as far as the rate per minute allows.
        """
        waits: list[Wait] = []
        ready: list[Batch] = []
        last_send: dict[str, datetime] = {}
        for send in history.recent:
            if send.conversation not in last_send or send.at > last_send[send.conversation]:
                last_send[send.conversation] = send.at
        quiet_until = self.quiet_until(now)
        tomorrow = self.day_start(now) + timedelta(days=1)

        by_conversation: dict[str, list[Pending]] = {}
        for row in sorted(pending, key=lambda r: r.id):
            by_conversation.setdefault(row.conversation, []).append(row)
        for conversation, rows in by_conversation.items():
            capped = rows[0].is_room and history.today.get(conversation, 0) >= self.policy.group_daily_cap
            eligible: list[Pending] = []
            for row in rows:
                if capped and not row.urgent:
                    waits.append(Wait(conversation, tomorrow, CAP, row.id))
                elif quiet_until is not None and not (row.urgent or row.reply):
                    waits.append(Wait(conversation, quiet_until, QUIET, row.id))
                elif row.next_attempt_at is not None and row.next_attempt_at > now:
                    waits.append(Wait(conversation, row.next_attempt_at, RETRY, row.id))
                    break  # a failed send holds back what follows it in the same chat
                else:
                    eligible.append(row)
            if not eligible:
                continue
            head = eligible[0]
            interval = self.group_interval if head.is_room else self.private_interval
            free_at = last_send[conversation] + interval if conversation in last_send else now
            if free_at > now:
                waits.append(Wait(conversation, free_at, INTERVAL, head.id))
                continue
            merged = [head]
            for row in eligible[1:]:
                if len(merged) >= self.policy.merge_max or row.created_at - head.created_at > self.merge_window \
                        or head.alone or row.alone:
                    break
                merged.append(row)
            if len(eligible) > len(merged):  # the rest of this chat goes one interval after this message
                waits.append(Wait(conversation, now + interval, INTERVAL, eligible[len(merged)].id))
            ready.append(Batch(conversation, head.is_room, tuple(r.id for r in merged),
                               urgent=any(r.urgent for r in merged), reply=any(r.reply for r in merged)))

        ready.sort(key=lambda b: (not b.urgent, not b.reply, b.ids[0]))  # when the rate is short: urgent, then replies
        window = sorted(s.at for s in history.recent if s.at > now - RATE_WINDOW)
        room = max(self.policy.per_minute - len(window), 0)
        go, late = ready[:room], ready[room:]
        window += [now] * len(go)
        overflow = len(window) - self.policy.per_minute  # sends that must leave the window before the next
        for j, batch in enumerate(late):
            oldest = window[min(overflow + j, len(window) - 1)]
            waits.append(Wait(batch.conversation, oldest + RATE_WINDOW, RATE, batch.ids[0]))
        return Plan(batches=tuple(go), waits=tuple(waits))

    def after_send(self, pending: Sequence[Pending], history: History, sent: Sequence[tuple[Batch, datetime]],
                   failed: Mapping[int, datetime | None]) -> tuple[list[Pending], History]:
        """The state after a round of sends, to plan the next round without reading the database again.

        `failed` maps a batch's first row to its next attempt time (None: given up).
        """
        gone = {i for batch, _ in sent for i in batch.ids} | {i for i, retry in failed.items() if retry is None}
        rest = [replace(r, next_attempt_at=failed[r.id]) if r.id in failed else r for r in pending if r.id not in gone]
        return rest, history.add(Send(b.conversation, b.is_room, at) for b, at in sent)
