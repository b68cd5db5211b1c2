"""Check, then handle: handlers are tried in order, the first whose rule matches wins; then its permission."""
from __future__ import annotations

import logging
from typing import Any, Callable, Protocol

from core.types import SILENT_KINDS
from handlers import texts
from handlers.addressed import AddressedFallback, AddressedMessage
from handlers.context import Ctx
from handlers.followup import RatingReply
from handlers.intake import ResidentComplaint
from handlers.photos import PhotoMessage, attach_earlier
from handlers.privacy import PrivacyRequest
from handlers.staff_commands import ChatCommand
from handlers.staff_filing import StaffFilesQuoted
from handlers.threads import ChaseUp, PlaceOnly, PlaceReplyForAll, QuoteReply, Rewrite, SeveralProblems, SplitJoin

log = logging.getLogger("mulin.dispatch")


class Handler(Protocol):
    name: str

    def check(self, ctx: Ctx) -> Any | None:
        """Pure: does this message concern me? Returns what it matched, or None."""

    def permit(self, ctx: Ctx, match: Any) -> str | None:
        """Who may: None to go ahead, or the polite refusal to send."""

    def handle(self, ctx: Ctx, match: Any) -> None:
        """Do it: change tickets and queue replies through ctx."""


class PrivateFallback:
    """A private message nobody else took: answer with help rather than silence."""

    name = "private_fallback"

    def check(self, ctx: Ctx) -> bool | None:
        return True if ctx.msg.is_private and ctx.msg.kind not in SILENT_KINDS else None

    def permit(self, ctx: Ctx, match: bool) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: bool) -> None:
        if ctx.msg.kind != "text":
            ctx.reply(texts.private_ok())
        elif ctx.staff is not None:
            ctx.reply("没看懂这条指令。" + texts.STAFF_HELP)
        else:
            ctx.reply(texts.resident_help(ctx.config.community.bot_name))


class Dispatcher:
    def __init__(self, handlers: list[Handler], after: tuple[Callable[[Ctx], None], ...] = ()) -> None:
        self.handlers = handlers
        self.after = after  # run once the message was handled, whichever handler took it

    def handle(self, ctx: Ctx) -> str | None:
        taken = self.dispatch(ctx)
        for step in self.after:
            step(ctx)
        return taken

    def dispatch(self, ctx: Ctx, start: int = 0) -> str | None:
        """Run the first matching handler; return its name (None when the message needs nothing).
        A handler that rewrites the message (a quote's own reply, a split message joined) hands it on."""
        for n, handler in enumerate(self.handlers[start:], start):
            match = handler.check(ctx)
            if match is None:
                continue
            if isinstance(match, Rewrite):
                ctx.msg = match.msg
                taken = self.dispatch(ctx, n + 1)
                if match.after is not None:
                    match.after(ctx)
                return taken or handler.name
            refusal = handler.permit(ctx, match)
            if refusal is not None:
                log.info("refused %s for %s: %s", handler.name, ctx.msg.sender_id, refusal)
                ctx.reply(refusal)
            else:
                handler.handle(ctx, match)
            return handler.name
        return None


def build_dispatcher() -> Dispatcher:
    """Every handler, in order, listed in one place."""
    return Dispatcher([AddressedMessage(), PhotoMessage(), StaffFilesQuoted(), QuoteReply(), PrivacyRequest(),
                       ChatCommand(), RatingReply(), PlaceReplyForAll(), SplitJoin(), ChaseUp(), PlaceOnly(),
                       SeveralProblems(), ResidentComplaint(), AddressedFallback(), PrivateFallback()],
                      after=(attach_earlier,))
