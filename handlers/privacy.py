"""Residents' privacy: the retention purge (a due-scan sweep), the private-chat requests 我的信息 / 删除我的信息
with a secretary's 确认删除 WXID, and the notice an office posts when the bot joins a group."""
from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from handlers import spotcheck, texts
from handlers.commands import normalize
from handlers.context import Ctx
from storage import privacy
from storage.models import Ticket

if TYPE_CHECKING:
    from core.config import Config

log = logging.getLogger("mulin.privacy")
DAYS_PER_YEAR = 365.25


# ---- retention ----------------------------------------------------------------------------------
def purge_retention(ctx: Ctx) -> int:
    """Remove what is past its window, in batches of `privacy.batch` rows, each committed on its own: one batch of each
    kind per scan, more while `privacy.scan_seconds` lasts, so a big backlog is worked off over several scans
    instead of stalling the bot."""
    policy = ctx.config.privacy
    now, session = ctx.now, ctx.session
    steps = (
        ("chatter", lambda: privacy.purge_chatter(
            session=session, before=now - timedelta(days=policy.chatter_days), now=now, limit=policy.batch,
            drawn_before=now - timedelta(days=spotcheck.kept_days(ctx.config)))),
        ("sent", lambda: privacy.purge_sent(session=session, before=now - timedelta(days=policy.sent_days),
                                            now=now, limit=policy.batch)),
        ("readings", lambda: privacy.purge_readings(
            session=session, before=now - timedelta(days=policy.ticket_years * DAYS_PER_YEAR), limit=policy.batch)),
        ("tickets", lambda: privacy.pseudonymise_closed(
            session=session, before=now - timedelta(days=policy.ticket_years * DAYS_PER_YEAR), now=now,
            limit=policy.batch, mask=texts.mask)),
    )
    started = time.monotonic()
    removed = dict.fromkeys((name for name, _ in steps), 0)
    for name, step in steps:  # one batch of each kind every scan, more while time is left
        while True:
            done = step()
            session.commit()
            removed[name] += done
            if done < policy.batch or time.monotonic() - started >= policy.scan_seconds:
                break
    if any(removed.values()):
        log.info("retention purge: text of %d chatter message(s) and %d sent message(s) removed, %d closed "
                 "ticket(s) pseudonymised", removed["chatter"], removed["sent"], removed["tickets"])
    return sum(removed.values())


# ---- the notice -------------------------------------------------------------------------------
def _number(value: float) -> str:
    return f"{value:g}"


def _spot_check(config: "Config") -> str:
    """The notice's words on 抽查 (none when it is off)."""
    if not spotcheck.drawing(config):
        return ""
    return (f"（其中抽出的一小部分保存{_number(spotcheck.kept_days(config))}天，由社区书记或街道查看有没有漏登的问题；"
            f"看过的打码后保存{_number(config.privacy.ticket_years)}年，用于改进识别）")


def notice(config: "Config") -> str:
    """What the bot reads, what it keeps and for how long, and how to ask: posted when the bot joins a group."""
    p, bot = config.privacy, config.community.bot_name
    return (f"【{bot}个人信息说明】\n"
            f"{config.community.name}用“{bot}”受理本群居民反映的问题。\n"
            f"一、读取：{bot}读取本群的文字消息，用来识别报修、求助等诉求并登记为工单；居民反映问题前后"
            f"{_number(config.photos.window_minutes)}分钟内发的照片随工单保存，其他图片一小时内删除；语音等不读取。\n"
            f"二、保存：登记为工单的诉求（内容、地点、反映人微信号和昵称）随工单保存，用于派单、办理、回访和统计；"
            f"其他聊天的文字保存{_number(p.chatter_days)}天后删除，只留时间等记录{_spot_check(config)}；{bot}发出的消息保存"
            f"{_number(p.sent_days)}天。\n"
            f"三、期限：工单办结{_number(p.ticket_years)}年后，反映人和附议人改为化名，只保留统计需要的内容。"
            f"手机号、身份证号在群里和导出中一律打码。\n"
            f"四、查询和删除：私聊{bot}发送“我的信息”，可查看保存了您的哪些信息；发送“删除我的信息”申请删除，"
            f"经社区书记确认后办理，工单和统计数字保留，反映人改为化名。")


# ---- private-chat requests ------------------------------------------------------------------------
SHOW = frozenset({"我的信息", "查询我的信息", "查看我的信息", "我的个人信息"})
ERASE = frozenset({"删除我的信息", "删除我的个人信息"})
_CONFIRM_RE = re.compile(r"^确认删除\s*(\S+)$")
CONFIRMERS = ("secretary", "street")


@dataclass(frozen=True)
class PrivacyAsk:
    what: str                   # show | erase | confirm
    contact_id: str | None = None  # confirm: whose data


def held_summary(held: privacy.Held, config: "Config") -> str:
    lines = ["目前保存的与您有关的信息："]
    kept = f"闲聊{_number(config.privacy.chatter_days)}天后删除内容"
    if spotcheck.drawing(config):
        kept += f"，抽查抽中的{_number(spotcheck.kept_days(config))}天后"
    lines.append(f"· 您发的消息：{held.messages}条有内容" + (f"，{held.purged_messages}条只留时间" if held.purged_messages
                                                      else "") + f"（{kept}）")
    if held.reported:
        lines.append("· 您反映的工单：" + " ".join(f"#{n}" for n in held.reported))
    if held.followed:
        lines.append("· 您附议的工单：" + " ".join(f"#{n}" for n in held.followed))
    if held.ratings:
        lines.append(f"· 您的评价：{held.ratings}次")
    if held.readings:
        lines.append(f"· 抽查看过的消息：{held.readings}条（打码保存，用于改进识别）")
    lines.append("如需删除，请回复“删除我的信息”。")
    return "\n".join(lines)


class PrivacyRequest:
    """Rule: 我的信息 / 删除我的信息 in private chat; 确认删除 WXID from a secretary (private or staff group)."""

    name = "privacy"

    def check(self, ctx: Ctx) -> PrivacyAsk | None:
        if ctx.msg.kind != "text":
            return None
        text = normalize(ctx.msg.text).rstrip("。.!！?？~～ ")
        confirm = _CONFIRM_RE.match(text)
        in_staff_group = ctx.msg.room_id is not None and ctx.config.is_staff_group(ctx.msg.room_id, ctx.msg.room_topic)
        if confirm is not None and (ctx.msg.is_private or in_staff_group):
            return PrivacyAsk("confirm", confirm.group(1))
        if not ctx.msg.is_private:
            return None
        if text in SHOW:
            return PrivacyAsk("show")
        if text in ERASE:
            return PrivacyAsk("erase")
        return None

    def permit(self, ctx: Ctx, match: PrivacyAsk) -> str | None:
        if match.what == "confirm" and (ctx.staff is None or ctx.staff.role not in CONFIRMERS):
            return "只有社区书记可以确认删除居民信息。"
        return None

    def handle(self, ctx: Ctx, match: PrivacyAsk) -> None:
        {"show": self._show, "erase": self._erase, "confirm": self._confirm}[match.what](ctx, match)

    @staticmethod
    def _show(ctx: Ctx, match: PrivacyAsk) -> None:
        held = privacy.held(session=ctx.session, contact_id=ctx.msg.sender_id)
        ctx.reply(held_summary(held, ctx.config))

    @staticmethod
    def _erase(ctx: Ctx, match: PrivacyAsk) -> None:
        contact = ctx.msg.sender_id
        if not privacy.request_erase(session=ctx.session, contact_id=contact, now=ctx.now):
            ctx.reply("您的删除申请正在等待社区书记确认，确认后会通知您。")
            return
        held = privacy.held(session=ctx.session, contact_id=contact)
        tickets = " ".join(f"#{n}" for n in held.reported + held.followed) or "无"
        note = (f"【信息删除申请】居民{texts.mask_name(ctx.msg.sender_name)}（微信号 {contact}）申请删除个人信息：消息"
                f"{held.messages}条，相关工单 {tickets}。删除后工单和统计保留，反映人改为化名。\n"
                f"确认请回复：确认删除 {contact}")
        told = 0
        for secretary in _secretaries_for(ctx, held.reported + held.followed):
            wechat_id = ctx.deps.directory.wechat_id_of(secretary.id)
            if wechat_id:
                ctx.say_private(wechat_id, note)
                told += 1
        if not told:  # the request is stored; `mulin privacy erase` remains
            log.warning("erase request of %s: no secretary has a bound WeChat id to confirm it", contact)
        ctx.reply("已收到您的删除申请。删除会改动工单记录，需社区书记确认，确认后会通知您。")

    @staticmethod
    def _confirm(ctx: Ctx, match: PrivacyAsk) -> None:
        contact = match.contact_id
        request = privacy.pending_erase(session=ctx.session, contact_id=contact)
        if request is None:
            ctx.reply(f"没有 {contact} 待确认的删除申请。")
            return
        try:  # refused before anything changed
            erased = privacy.erase_contact(session=ctx.session, contact_id=contact, actor_id=ctx.staff.id, now=ctx.now,
                                           mask=texts.mask)
        except privacy.ErasureRefused as exc:
            ctx.reply(str(exc))
            return
        privacy.confirm_erase(session=ctx.session, request=request, staff_id=ctx.staff.id, now=ctx.now)
        tickets = " ".join(f"#{n}" for n in erased.tickets) or "无"
        log.info("erased contact %s on confirmation by %s: %d messages, tickets %s", contact, ctx.staff.id,
                 erased.messages, tickets)
        ctx.reply(f"已删除 {contact} 的个人信息：消息{erased.messages}条，工单 {tickets} 的反映人改为化名（工单和统计保留）。")
        ctx.say_private(contact, "您的个人信息已按申请删除：消息内容已清除，相关工单保留，反映人改为化名。")


def _secretaries_for(ctx: Ctx, ticket_ids: list[int]):  # noqa: ANN202
    """The secretaries of the communities of these tickets; every secretary when none is known."""
    communities = {ctx.community_of(t) for t in (ctx.session.get(Ticket, n) for n in ticket_ids) if t is not None}
    found = {s.id: s for c in communities if c is not None for s in ctx.config.secretaries_of(c)}
    return list(found.values()) or ctx.config.secretaries()
