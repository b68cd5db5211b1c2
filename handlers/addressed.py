"""A group message that @-mentions the bot: the writer asks the bot.

WeChat writes the mention into the text ("@睦邻助手\u20053号楼电梯又坏了"); the rules after this one read the words
without it (a complaint, a command in a staff group), and the classifier hears the mention as an explicit ask
(classifier.engine.ADDRESSED_CUE). What nobody else takes is answered, not left unanswered: a resident who asks the bot
directly and hears nothing has been ignored.
"""
from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import timedelta

from handlers import texts
from handlers.context import Ctx
from handlers.threads import Rewrite
from storage.nodes import bot_wechat_ids
from storage.outbox import answered_since

log = logging.getLogger("mulin.addressed")

# one @-name as WeChat writes it: "@" and the name, then the mention separator (U+2005), a space or punctuation. A
# name holds no punctuation here: "@睦邻助手，2号楼楼道灯坏了" loses its @-name, not its words. An @-name with nothing
# after it to say where it ends ("@睦邻助手2号楼楼道灯坏了", or "@睦邻助手" alone) is left as it is: the words are worth
# more than a clean text, and the classifier still reads them.
_NAME = r"@[^\s\u2005@，。！？、：；,.!?;:]{1,40}"
_LEADING = re.compile(r"^(?:\s*" + _NAME + r"(?:[\u2005\s]+|[，。！？、：；,.!?;:]+\s*))+")
_TRAILING = re.compile(r"(?:[\u2005\s]+" + _NAME + r")+\s*$")
# what needs no answer beyond a short one: thanks and acknowledgements
_THANKS = re.compile(r"^(谢谢|多谢|感谢|辛苦|麻烦了|好的|好嘞|收到|知道了|明白|嗯|ok|OK|👍|🙏)")


def without_mentions(text: str) -> str:
    """The text with the @-names WeChat put at its start and end taken out."""
    return _TRAILING.sub("", _LEADING.sub("", text)).strip()


class AddressedMessage:
    """Rule: a group text that @-mentions the bot or a staff member goes on to the other rules without the @-names
    in its words, marked as asking (Incoming.asks_staff when it names staff: "@王芳 停车场好多油渍啊" is a report to
    the grid worker)."""

    name = "addressed"

    def check(self, ctx: Ctx) -> Rewrite | None:
        msg = ctx.msg
        if msg.kind != "text" or msg.is_private or not msg.mentions:
            return None
        directory = ctx.deps.directory
        asks_staff = any(directory.staff_id_of(m) is not None for m in msg.mentions if m != msg.sender_id)
        # the receiving account knows its own id; another bot account in the group is known by its node row
        addressed = msg.addressed or not bot_wechat_ids(session=ctx.session).isdisjoint(msg.mentions)
        if not addressed and not asks_staff:
            return None
        text = without_mentions(msg.text)
        if (text, addressed, asks_staff) == (msg.text, msg.addressed, msg.asks_staff):
            return None
        return Rewrite(replace(msg, text=text, addressed=addressed, asks_staff=asks_staff))

    def permit(self, ctx: Ctx, match: Rewrite) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: Rewrite) -> None:  # a Rewrite is handed on, never handled
        raise AssertionError("a Rewrite is handed on by the dispatcher")


class AddressedFallback:
    """Rule: a resident asked the bot in a group and no rule took it (a greeting, a question, a problem the
    classifier does not see): answer with what the bot does, or briefly to thanks. Staff talk to it by commands."""

    name = "addressed_fallback"

    def check(self, ctx: Ctx) -> bool | None:
        msg = ctx.msg
        if msg.is_private or not msg.addressed or msg.kind != "text" or ctx.staff is not None:
            return None
        if ctx.config.is_staff_group(msg.room_id, msg.room_topic):
            return None
        return True

    def permit(self, ctx: Ctx, match: bool) -> str | None:
        return None

    def handle(self, ctx: Ctx, match: bool) -> None:
        answer = texts.YOU_ARE_WELCOME if _THANKS.match(ctx.msg.text.strip()) else texts.addressed_help()
        window = timedelta(minutes=ctx.config.tickets.repeat_reply_minutes)
        if answered_since(session=ctx.session, room_id=ctx.msg.room_id, contact_id=ctx.msg.sender_id,
                          texts=(texts.mask(answer),), since=ctx.now - window):
            log.info("message %s asks the bot again within %s: answered already", ctx.msg.id, window)
            return  # one answer per person and window: mentioning the bot ten times does not make it talk ten times
        ctx.reply(answer)
