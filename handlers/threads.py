"""How residents talk in a group, read before the per-message decision.

A quote reply is judged by its reply and linked by its quote; one person's messages a few seconds apart are one
utterance; a place alone (or a notice about a place) is no complaint; a message naming several problems files one
ticket each; a resident asking again about their own open ticket is a chase-up (催办), not a new ticket.

Each rule is a dispatcher handler. A rule that only re-reads the message (a quote's own words, a split message
joined) returns `Rewrite`: the handlers after it see the rewritten message.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Callable

from sqlmodel import col, select

from core.types import Incoming
from classifier.location import parse_location
from handlers import texts
from handlers.context import Ctx
from handlers.disputes import as_dispute
from handlers.intake import (BOT_ACTOR, PlaceAnswer, PlaceReply, assign, dispatch_ticket, file_ticket, find_duplicate,
                             is_late, join, keywords, notify_secretaries)
from handlers.quotes import Quote, parse_quote
from handlers.routing import route
from handlers.status import worker_name
from storage import threads as store
from storage.models import Ticket, TicketStatus

if TYPE_CHECKING:
    from classifier import Classification

log = logging.getLogger("mulin.threads")


@dataclass(frozen=True)
class Rewrite:
    """Hand this message on to the handlers after the one that returned it; then run `after`."""

    msg: Incoming
    after: Callable[[Ctx], None] | None = None


# ---- quote replies ---------------------------------------------------------------------------------------------
_MENTION = re.compile(r"@[^\s\u2005@]+[\s\u2005]?")
_PUNCT = re.compile(r"[\s，,。.!！?？~～…、;；:：\"'“”‘’()（）\[\]【】]+")
_UNSOLVED = re.compile(r"(还是|仍然|依然|照样|又|还)(不|没|坏|漏|堵|黑|停|那样|老样子)|没(有)?(修好|修|弄好|解决|好|处理|人来)"
                       r"|未(修好|解决|处理)|不行|没用|老样子")
_FIXED = re.compile(r"(修好|弄好|好了|亮了|通了|来电了|来水了|清理了|清走了|解决了|处理好|修了|处理了)")
_NEGATED_FIX = re.compile(r"(没|未|不|没有|还没)[^，。]{0,2}$")
_SAME = re.compile(r"^([+＋]\s*1|加一|同上|同样|同问|附议|一样|也是)|也(是|一样|这样|这情况|有这|坏|不亮|没|停|漏|堵|有)")


def words_of(text: str) -> str:
    return _PUNCT.sub("", _MENTION.sub("", text))


def judge_reply(reply: str) -> str | None:
    """What a short reply under a quoted problem says: unsolved, fixed, same (me too), or None."""
    text = words_of(reply)
    if not text or len(text) > 40:
        return None
    if _UNSOLVED.search(text):
        return "unsolved"
    fixed = _FIXED.search(text)
    if fixed and not _NEGATED_FIX.search(text[:fixed.start()]):
        return "fixed"
    if _SAME.search(text):
        return "same"
    return None


@dataclass(frozen=True)
class QuoteAction:
    ticket: Ticket
    action: str  # reopen | note | chase | join | chatter
    msg: Incoming  # the message as its reply alone


class QuoteReply:
    """Rule: a quote reply. Its reply is what is judged; the quote says which ticket it is about."""

    name = "quote_reply"

    def check(self, ctx: Ctx) -> Rewrite | QuoteAction | None:
        if ctx.msg.kind != "text":
            return None
        quote = parse_quote(ctx.msg.text)
        if quote is None:
            return None
        reply = replace(ctx.msg, text=quote.reply)
        if ctx.staff is not None or ctx.msg.is_private or not quote.reply \
                or ctx.config.is_staff_group(ctx.msg.room_id, ctx.msg.room_topic):
            return Rewrite(reply)
        ticket = self._quoted_ticket(ctx, quote)
        if ticket is None or ticket.voided:
            return Rewrite(reply)  # a quote of chatter (or of a ticket voided as chatter): the reply stands alone
        action = self._decide(ctx, ticket, quote.reply)
        return Rewrite(reply) if action is None else QuoteAction(ticket, action, reply)

    @staticmethod
    def _quoted_ticket(ctx: Ctx, quote: Quote) -> Ticket | None:
        number = quote.ticket_number
        if number is not None:
            ticket = ctx.session.get(Ticket, number)
            if ticket is not None and ticket.room_id == ctx.msg.room_id:
                return ticket
        return store.quoted_ticket(session=ctx.session, room_id=ctx.msg.room_id, author=quote.author,
                                   text=quote.quoted)

    @staticmethod
    def _decide(ctx: Ctx, ticket: Ticket, reply: str) -> str | None:
        """None: judge the reply alone (a new problem, or a place the bot asked for)."""
        sender = ctx.msg.sender_id
        if ticket.status == TicketStatus.NEW and ticket.place_asked_until is not None and sender == ticket.reporter_id:
            return None
        party = sender == ticket.reporter_id or any(t.id == ticket.id for t in store.open_tickets_of(
            session=ctx.session, contact_id=sender, room_id=ctx.msg.room_id))
        done = not ticket.status.is_open
        verdict = judge_reply(reply)
        if verdict is None:
            c = ctx.classifier.classify(reply)
            if c.is_request and keywords(c):
                if c.category != ticket.category:
                    return None  # another problem: filed on its own
                verdict = "unsolved" if done else "same"
        if verdict == "unsolved":
            if done:
                return "reopen" if party or _followed(ctx, ticket, sender) else "note"
            return "chase" if party else "join"
        if verdict == "fixed":
            return "chatter" if done else "note"
        if verdict == "same":
            return "join" if not done and not party else "chatter"
        return "chatter"  # laughter, thanks, 收到

    def permit(self, ctx: Ctx, match: Rewrite | QuoteAction) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: QuoteAction) -> None:
        ticket, action = match.ticket, match.action
        log.info("quote reply %s about ticket %s: %s", ctx.msg.id, ticket.id, action)
        ctx.msg = match.msg
        if action == "chatter":
            return
        ctx.ticket_id = ticket.id
        if action == "reopen":
            reopen_in_group(ctx, ticket)
        elif action == "chase":
            chase(ctx, ticket)
        elif action == "join":
            join(ctx, ticket)
        else:
            note_for_worker(ctx, ticket)


def _followed(ctx: Ctx, ticket: Ticket, contact_id: str) -> bool:
    from storage.models import TicketFollower

    return ctx.session.get(TicketFollower, (ticket.id, contact_id)) is not None


def reopen_in_group(ctx: Ctx, ticket: Ticket) -> None:
    """"还是不亮" under the bot's 办结 message, from someone who reported it: 重办, as the rating 4 does."""
    ctx.transition(ticket, "reopened", actor_id=ctx.msg.sender_id, note=f"群内反映没解决：{ctx.msg.text}")
    worker = ctx.deps.directory.wechat_id_of(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
    if worker:
        ctx.say_private(worker, texts.worker_new_ticket(
            ticket, note=f"居民{ctx.msg.sender_name}在群里反映没解决：{ctx.msg.text}，请重新办理"), ticket_id=ticket.id)
    else:
        notify_secretaries(ctx, ticket, f"居民反映没解决：{ctx.msg.text}")
    ctx.reply(texts.reopened_group(ticket, worker_name(ctx, ticket)))


def note_for_worker(ctx: Ctx, ticket: Ticket) -> None:
    """A word that changes nothing by itself (a neighbour says it is fixed): the worker hears it and decides."""
    worker = ctx.deps.directory.wechat_id_of(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
    text = texts.worker_resident_note(ticket, ctx.msg.sender_name, ctx.msg.text)
    if worker:
        ctx.say_private(worker, text, ticket_id=ticket.id)
    else:
        notify_secretaries(ctx, ticket, f"居民{ctx.msg.sender_name}回复：{ctx.msg.text}")
    ctx.reply(texts.noted_for_worker(ticket, worker_name(ctx, ticket)))


# ---- chase-ups -------------------------------------------------------------------------------------------------
_CHASE = re.compile(r"怎么还(没|不|是)|还没(有)?(修|弄|处理|解决|好|来|人|动静|消息|回复|派)|什么时候(修|来|处理|能|弄|解决|好|派)"
                    r"|催(一下|一催|促|办)|到底(修不修|管不管|什么时候|有没有)|还(修|管)不(修|管)"
                    r"|(都|已经|快)[一二两三四五六七八九十几多半\d]+(天|周|个星期|星期|个月|小时)了|多少天了|有人管(吗|没)"
                    r"|进度(怎么样|如何)|咋还没|怎么没人(修|管|来)")


def is_chase(text: str) -> bool:
    return bool(_CHASE.search(words_of(text)))


class ChaseUp:
    """Rule: "怎么还没修" about an open ticket: the sender's own is a 催办; someone else's, they join it."""

    name = "chase_up"

    def check(self, ctx: Ctx) -> tuple[Ticket, bool] | None:
        if ctx.staff is not None or ctx.msg.kind != "text" or not is_chase(ctx.msg.text):
            return None
        c = ctx.classifier.classify(ctx.msg.text)
        named = bool(keywords(c)) and c.is_request
        building = c.location.building if c.location else None

        def fits(ticket: Ticket) -> bool:
            return (not named or ticket.category == c.category) and (
                building is None or ticket.building in (None, building))

        own = [t for t in store.open_tickets_of(session=ctx.session, contact_id=ctx.msg.sender_id,
                                                room_id=ctx.msg.room_id) if fits(t)]
        if own:
            return own[0], True
        if named and ctx.msg.room_id is not None:
            others = [t for t in store.open_tickets_in(session=ctx.session, room_id=ctx.msg.room_id,
                                                       category=c.category) if fits(t)]
            if others:
                return others[0], False
        return None

    def permit(self, ctx: Ctx, match: tuple[Ticket, bool]) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: tuple[Ticket, bool]) -> None:
        ticket, own = match
        if own:
            chase(ctx, ticket)
        else:
            join(ctx, ticket)


def chase(ctx: Ctx, ticket: Ticket) -> None:
    """催办: counted on the ticket, the worker is told how many times, the resident hears where it stands."""
    ctx.ticket_id = ticket.id
    last = store.last_chase_at(session=ctx.session, ticket_id=ticket.id, actor_id=ctx.msg.sender_id)
    if last is not None and ctx.now - last < timedelta(minutes=ctx.config.tickets.repeat_reply_minutes):
        return  # one answer to a flood; the inbox keeps each copy with the ticket id
    ctx.transition(ticket, store.CHASED, actor_id=ctx.msg.sender_id, note=f"{ctx.msg.sender_name}：{ctx.msg.text}")
    times = store.chase_count(session=ctx.session, ticket_id=ticket.id)
    overdue = ticket.due_at is not None and ticket.due_at <= ctx.now
    log.info("ticket %s chased by %s (%d times)", ticket.id, ctx.msg.sender_id, times)
    worker = ctx.deps.directory.wechat_id_of(ticket.assignee_staff_id) if ticket.assignee_staff_id else None
    if worker:
        ctx.say_private(worker, texts.worker_chased(ticket, ctx.msg.sender_name, ctx.msg.text, times, overdue),
                        ticket_id=ticket.id)
    else:
        notify_secretaries(ctx, ticket, f"居民催办（第{times}次）：{ctx.msg.text}")
    answer = texts.chased_reporter(ticket, worker_name(ctx, ticket), times, overdue)
    if ticket.category in ctx.config.private_categories:
        ctx.say_private(ctx.msg.sender_id, answer, ticket_id=ticket.id)
    else:
        ctx.reply(answer)


# ---- split messages ----------------------------------------------------------------------------------------------
class SplitJoin:
    """Rule: the same person's messages seconds apart ("7号楼" then "电梯又坏了") are read as one."""

    name = "split_join"

    def check(self, ctx: Ctx) -> Rewrite | None:
        window = timedelta(seconds=ctx.config.tickets.split_seconds)
        if ctx.staff is not None or ctx.msg.kind != "text" or not window:
            return None
        fragments = store.earlier_fragments(session=ctx.session, message_id=ctx.msg.id, window=window,
                                              stored=ctx.stored)
        while any(parse_quote(f.text) for f in fragments):  # a quote reply was judged on its own
            fragments = fragments[1:]
        if not fragments:
            return None
        clf = ctx.classifier
        alone = clf.classify(ctx.msg.text)
        if alone.is_request and alone.location is not None and not is_place_only(ctx.msg.text, alone, clf):
            return None  # a whole complaint by itself
        text = " ".join([*(f.text.strip() for f in fragments), ctx.msg.text.strip()])
        joined = clf.classify(text)
        if not joined.is_request or is_place_only(text, joined, clf):
            return None
        if alone.is_request and (alone.location is not None or joined.location is None):
            return None  # the earlier words add nothing
        ids = [f.message_id for f in fragments]
        log.info("message %s joined with %d earlier message(s) of its sender", ctx.msg.id, len(ids))

        def link(done: Ctx) -> None:
            if done.ticket_id is not None:
                store.link(session=done.session, message_ids=ids, ticket_id=done.ticket_id)
        return Rewrite(replace(ctx.msg, text=text), after=link)

    def permit(self, ctx: Ctx, match: Rewrite) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: Rewrite) -> None:  # the dispatcher hands a Rewrite on instead
        raise AssertionError("a Rewrite is not handled")


# ---- a place alone -----------------------------------------------------------------------------------------------
PLACE_CHARS = 12  # a place spelled out ("10号楼3单元301"); a longer span runs across other words
# words of trouble keep a short message a complaint even when the classifier does not know them ("着伙了 十号楼 快")
_TROUBLE = re.compile(r"火|烟|救|急|快来|快点|漏|坏|堵|停|塌|臭|吵|响|冒|淹|困|关着|偷|抢|打|摔|伤|病|死|危险|不|没|难|封|锁"
                      r"|啥时候|什么时候|何时|怎么|咋|能不能|麻烦|请|帮")
PLACE_NOTICE_CHARS = 8  # "的快递到了": a notice about a place is short; a problem described at length is not one
_FILLER = re.compile(r"[的地在是啊呀呢吧了哦噢嗯哈么吗和跟与及\s，,。.!！?？~～…、]+")


def is_place_only(text: str, c: "Classification", clf) -> bool:  # noqa: ANN001
    """"3号楼", "A1的2单元", "10号楼3单元301的快递到了": a place, and no problem named there (no keyword fired,
    and what is left without the place is a few words that are no request)."""
    if keywords(c) or c.urgent:
        return False
    location = c.location or parse_location(text, clf.buildings)
    if location is None or not location.raw or len(location.raw) > PLACE_CHARS:
        return False
    rest = _FILLER.sub("", words_of(text.replace(location.raw, " ", 1)))
    if not rest:
        return True
    if len(rest) > PLACE_NOTICE_CHARS or _TROUBLE.search(rest):
        return False
    left = clf.classify(rest)
    return not left.is_request and not keywords(left)


class PlaceOnly:
    """Rule: a place alone, or a notice about a place, is never a complaint (at most an answer, taken earlier)."""

    name = "place_only"

    def check(self, ctx: Ctx) -> bool | None:
        if ctx.staff is not None or ctx.msg.kind != "text" or not ctx.msg.text.strip():
            return None
        c = ctx.classifier.classify(ctx.msg.text)
        return True if c.is_request and is_place_only(ctx.msg.text, c, ctx.classifier) else None

    def permit(self, ctx: Ctx, match: bool) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: bool) -> None:
        log.info("message %s names a place and no problem: not filed", ctx.msg.id)


# ---- several problems in one message -------------------------------------------------------------------------
# only an explicit "and also" separates problems: one problem is often told with several categories' words
_ALSO = re.compile(r"[，,。；;！!？?\s]*(?:(?<=[，,。；;！!？?])还有(?:就是)?(?![人个股些点])|另外|再就是|再有|此外|顺便说一下|顺便说下"
                   r"|顺便问下|顺便)[，,：:\s]*")
SEVERAL_MAX_CHARS = 120  # a long letter (12345 style) is one complaint told at length, not a list


@dataclass(frozen=True)
class Problem:
    text: str
    classification: "Classification"


def split_problems(text: str, clf) -> list[Problem]:  # noqa: ANN001
    """The distinct problems a message names, joined by 还有/另外: one per category, each with the place named
    before it when it names none itself."""
    problems: dict[str, Problem] = {}
    place = None
    for part in filter(None, (p.strip(" ，,。；;") for p in _ALSO.split(text))):
        c = clf.classify(part)
        place = c.location or place
        if not (c.is_request and keywords(c)) or c.category == "other":
            return []  # a part that is no problem of its own: the message is one complaint
        if c.location is None and place is not None:
            c = replace(c, location=place)
            part = f"{place.raw} {part}"
        if c.category in problems:
            return []
        problems[c.category] = Problem(part, c)
    return list(problems.values())


class SeveralProblems:
    """Rule: "2号楼楼道灯坏了，还有门口的垃圾三天没人清了": one ticket per problem, one group reply."""

    name = "several_problems"

    def check(self, ctx: Ctx) -> list[Problem] | None:
        if ctx.staff is not None or ctx.msg.kind != "text" or len(ctx.msg.text) > SEVERAL_MAX_CHARS:
            return None
        if ctx.msg.room_id is not None and ctx.config.is_staff_group(ctx.msg.room_id, ctx.msg.room_topic):
            return None
        clf = ctx.classifier
        if not clf.classify(ctx.msg.text).is_request:
            return None
        problems = split_problems(ctx.msg.text, clf)
        return problems if len(problems) > 1 else None

    def permit(self, ctx: Ctx, match: list[Problem]) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: list[Problem]) -> None:
        private = ctx.config.private_categories
        new: list[Ticket] = []
        for n, problem in enumerate(match):
            c = as_dispute(problem.classification, problem.text, private=private, classifier=ctx.classifier)
            existing = find_duplicate(ctx, c)
            if existing is not None:
                join(ctx, existing)
                continue
            msg = ctx.msg
            new.append(file_ticket(
                ctx, c, source_message_id=msg.id if n == 0 else f"{msg.id}#{n + 1}", text=problem.text,
                reporter_id=msg.sender_id, reporter_name=msg.sender_name, room_id=msg.room_id, room_topic=msg.room_topic))
        if not new:
            return
        ctx.ticket_id = ctx.ticket_id or new[0].id
        alone = [t for t in new if t.urgent or t.category in private or ctx.msg.room_id is None or is_late(ctx)]
        together = [t for t in new if t not in alone]
        for ticket in alone:
            dispatch_ticket(ctx, ticket)
        if len(together) == 1:
            dispatch_ticket(ctx, together[0])
        elif together and all(t.building is None for t in together):
            until = ctx.now + timedelta(minutes=ctx.config.tickets.place_wait_minutes)
            for ticket in together:
                ticket.place_asked_until = until
                ctx.session.add(ticket)
            ctx.reply(texts.ask_place_several(together))
        elif together:
            _dispatch_together(ctx, together)


def _dispatch_together(ctx: Ctx, tickets: list[Ticket]) -> None:
    """Routed one by one, acknowledged in one group message naming every number."""
    routes = [route(config=ctx.config, directory=ctx.deps.directory, building=t.building, room_id=t.room_id,
                    room_topic=t.room_topic) for t in tickets]
    first = routes[0]
    same = all(r is not None and first is not None and r.worker.id == first.worker.id for r in routes)
    ctx.say_room(ctx.msg.room_id, texts.filed_several(
        tickets, first.worker.name if same else None, first.grid.name if same and first.grid else None),
        mentions=(ctx.msg.sender_id,), ticket_id=tickets[0].id)
    for ticket, found in zip(tickets, routes):
        if found is not None:
            assign(ctx, ticket, found, actor_id=BOT_ACTOR, note=f"按{'楼栋' if ticket.building else '群默认网格'}派单")
        else:
            notify_secretaries(ctx, ticket, f"未能确定网格，请指派：指派 {ticket.id} 人员")


class PlaceReplyForAll(PlaceReply):
    """The place named after "几号楼几单元？" holds for every ticket asked about together."""

    def handle(self, ctx: Ctx, match: PlaceAnswer) -> None:
        super().handle(ctx, match)
        base = match.ticket.source_message_id.split("#", 1)[0]
        siblings = ctx.session.exec(select(Ticket).where(
            Ticket.status == TicketStatus.NEW, Ticket.place_asked_until > ctx.now, Ticket.id != match.ticket.id,
            (Ticket.source_message_id == base) | col(Ticket.source_message_id).startswith(f"{base}#"))).all()
        for ticket in siblings:
            super().handle(ctx, PlaceAnswer(ticket, match.location))
        ctx.ticket_id = match.ticket.id
