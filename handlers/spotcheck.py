"""抽查: which residents' group messages that filed nothing are kept for a person to read (web console, 抽查 page).

A message is drawn by its fingerprint (room, sender, time, text: storage.inbox.fingerprint), so the draw is the same
in every process, on every retry and for every bot account in the group: "random"
at spot_check.random_rate among all such messages (the sample the miss estimate rests on), else "near" at
spot_check.near_rate among those holding the rules' words of a problem (where misses gather)."""
from __future__ import annotations

import hashlib

from core.config import Config
from core.types import Incoming
from handlers.context import Ctx
from handlers.quotes import parse_quote
from storage.inbox import fingerprint
from storage.nodes import bot_wechat_ids
from storage.spotcheck import Visible

RANDOM, NEAR = "random", "near"
SAMPLES = {RANDOM: "随机抽取", NEAR: "含问题用词"}


def drawing(config: Config) -> bool:
    """Is any share of messages drawn at all (both rates 0: 抽查 is off)?"""
    return config.spot_check.random_rate > 0 or config.spot_check.near_rate > 0


def drawn(key: str, rate: float) -> bool:
    """True for a share `rate` of keys, always the same ones."""
    if rate <= 0:
        return False
    bucket = int.from_bytes(hashlib.sha1(key.encode("utf-8")).digest()[:8], "big") / 2 ** 64
    return bucket < rate


def stratum(ctx: Ctx, msg: Incoming) -> str | None:
    """The sample the message `msg` (as received and stored: handling may have rewritten ctx.msg) joins, or None.
    Only a resident's own text in a residents' group that filed or joined no ticket is drawn: not a staff member's,
    not another bot account's (its replies repeat residents' words), not a quote reply (it holds someone else's)."""
    policy = ctx.config.spot_check
    if (not drawing(ctx.config) or ctx.ticket_id is not None or ctx.staff is not None or msg.kind != "text" or msg.room_id is None
            or not msg.text.strip() or ctx.config.group_for(msg.room_id, msg.room_topic) is None):
        return None
    key = fingerprint(msg) or msg.id
    if drawn(key, policy.random_rate):
        found = RANDOM
    elif drawn(f"{key}#near", policy.near_rate) and ctx.classifier.names_a_problem(msg.text):
        found = NEAR
    else:
        return None
    if parse_quote(msg.text) is not None or msg.sender_id in bot_wechat_ids(session=ctx.session):
        return None
    return found


def kept_days(config: Config) -> float:
    """How long a drawn message's text is kept (and offered for reading): keep_days, never less than any chatter's."""
    return max(config.privacy.chatter_days, config.spot_check.keep_days)


def visible_in(config: Config, community_id: str | None) -> Visible:
    """The groups of one community (None: all of them): whose drawn messages its secretary reads and its digest counts."""
    if community_id is None or len(config.all_communities()) == 1:
        return lambda room_id, topic: True
    return lambda room_id, topic: config.community_of(None, room_id, topic) == community_id
