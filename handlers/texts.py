"""Every sentence the bot says, in one place: short, polite, the way a good 网格员 writes.

Group messages are masked: phone and ID numbers never go into a 500-member group.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from storage.models import Ticket
from storage.tickets import status_name

_ID_RE = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")
_OLD_ID_RE = re.compile(r"(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)")  # the 15-digit ID cards issued before 1999
# a mobile number, also as +86 / 86 138 1234 5678 or 138-1234-5678
_PHONE_RE = re.compile(r"(?<!\d)((?:\+?86[ -]?)?1[3-9]\d)([ -]?)\d{4}([ -]?\d{4})(?!\d)")
_LANDLINE_RE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{4}(\d{3,4})(?!\d)")
_CARD_RE = re.compile(r"(?<!\d)(\d{4})\d{8,11}(\d{4})(?!\d)")  # a bank card: 16 to 19 digits (IDs are taken first)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－", "0123456789+-")


def mask(text: str) -> str:
    """Phone, ID and bank card numbers hidden, however typed (full-width digits are read as digits, and come out so)."""
    text = text.translate(_FULL_WIDTH)
    text = _ID_RE.sub(r"\1********\2", text)
    text = _OLD_ID_RE.sub(r"\1******\2", text)
    text = _CARD_RE.sub(r"\1********\2", text)
    text = _PHONE_RE.sub(r"\1\2****\3", text)
    return _LANDLINE_RE.sub(r"\1****\2", text)


FORWARD_LIMIT = 500  # characters of a resident's or worker's text that a chat message repeats


def excerpt(text: str, limit: int = FORWARD_LIMIT) -> str:
    """A long text cut for a chat message, saying how much was left out (the ticket keeps it whole)."""
    if len(text) <= limit:
        return text
    while limit > 0 and (text[limit - 1] + text[limit]).isascii() and (text[limit - 1] + text[limit]).isalnum():
        limit -= 1  # never half a phone or ID number, which masking would then miss
    return f"{text[:limit]}……（以下省略{len(text) - limit}字，全文见工单）"


def mask_name(name: str) -> str:
    """张阿姨 -> 张**: exports name the reporter without identifying them."""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def place(ticket: Ticket) -> str:
    unit = f"{ticket.unit}单元" if ticket.unit and ticket.unit.isdigit() else ticket.unit
    room = f"{ticket.room_no}室" if ticket.room_no and ticket.room_no.isdigit() else ticket.room_no
    parts = [p for p in (ticket.building, unit, room) if p]
    # "A1" + "2单元" would read as A12单元
    return "".join(p if i == 0 or not parts[i - 1][-1].isascii() else f" {p}" for i, p in enumerate(parts)) \
        or ticket.location_raw or "未注明"


def filed(ticket: Ticket, worker_name: str | None, grid_name: str | None) -> str:
    who = f"{grid_name}网格员{worker_name}" if worker_name else "社区工作人员"
    if ticket.urgent:
        return (f"情况紧急，已登记为工单#{ticket.id}（{ticket.category_name}），已通知{who}立即处理。"
                "如有危险请先远离，必要时拨打119/110。")
    return f"您反映的问题已登记为工单#{ticket.id}（{ticket.category_name}），已转{who}处理，请耐心等候。"


def filed_private_group() -> str:
    return "已收到，已私信您。"


def filed_private_dm(ticket: Ticket, worker_name: str | None) -> str:
    who = f"网格员{worker_name}" if worker_name else "社区工作人员"
    return f"您反映的情况已登记为工单#{ticket.id}（{ticket.category_name}），由{who}跟进，我们会私下联系您，不在群里公开。"


def worker_more_photos(ticket: Ticket, count: int, sender_name: str) -> str:
    return f"工单#{ticket.id} 补充照片{count}张（{sender_name}，{ticket.category_name}，{place(ticket)}）："


def after_photos(ticket: Ticket, count: int) -> str:
    return f"工单#{ticket.id} 整改后照片{'' if count == 1 else f'{count}张'}，请查看："


def photo_refused(state: str, max_mb: float) -> str:
    why = {"too_large": f"照片超过{max_mb:g}MB，未能保存，请压缩后重发。",
           "not_image": "这个文件不是图片或已损坏，未能保存，请重新发一张。",
           "flood": "短时间内照片太多，这张未保存，请挑最能说明情况的几张重发。"}
    return why.get(state, "照片暂时没能取到，请稍后重新发一张。")


def worker_photo_waits(minutes: float) -> str:
    return f"收到照片。如是整改后照片，请在{minutes:g}分钟内回复“办结 工单号 处理说明”，照片会一并发给居民。"


def worker_after_photos(ticket: Ticket, count: int) -> str:
    return f"已收到工单#{ticket.id}的整改后照片{count}张，已转给反映人。"


def worker_new_ticket(ticket: Ticket, note: str | None = None, photos: int = 0) -> str:
    flag = f"【紧急】{ticket.urgent_reason or ''}\n" if ticket.urgent else ""
    source = ticket.room_topic or "私聊"
    lines = [f"【新工单#{ticket.id}】{ticket.category_name}", flag.rstrip("\n") if flag else None,
             f"地点：{place(ticket)}", f"反映人：{ticket.reporter_name}（{source}）", f"内容：{excerpt(ticket.text)}",
             f"备注：{excerpt(note)}" if note else None,
             f"现场照片{photos}张，见下。" if photos else None,
             f"回复“接 {ticket.id}”接单；处理完回复“办结 {ticket.id} 处理说明”。"]
    return "\n".join(line for line in lines if line)


def accepted_group(ticket: Ticket, worker_name: str) -> str:
    return f"工单#{ticket.id}（{ticket.category_name}）网格员{worker_name}已接单，正在处理。"


def resolved_group(ticket: Ticket, worker_name: str) -> str:
    note = f"：{excerpt(ticket.resolution_note)}" if ticket.resolution_note else ""
    return f"工单#{ticket.id}已办结{note}。感谢您的反映，如仍有问题请随时告诉我们。"


def worker_accepted(ticket: Ticket) -> str:
    return f"已接单#{ticket.id}。处理完请回复“办结 {ticket.id} 处理说明”。"


def worker_resolved(ticket: Ticket) -> str:
    return f"工单#{ticket.id}已办结，已告知居民，辛苦了！"


def progress(ticket: Ticket, worker_name: str | None) -> str:
    who = f"，负责人：网格员{worker_name}" if worker_name else ""
    note = f"\n办理结果：{excerpt(ticket.resolution_note)}" if ticket.resolution_note else ""
    return f"工单#{ticket.id}（{ticket.category_name}，{place(ticket)}）状态：{status_name(ticket)}{who}。{note}"


def my_tickets(tickets: list[Ticket]) -> str:
    if not tickets:
        return "您目前没有未办结的工单。"
    lines = [f"#{t.id} {t.category_name} {place(t)} {status_name(t)}" for t in tickets]
    return "您的未办结工单（按时间先后）：\n" + "\n".join(lines)


STAFF_HELP = ("可用指令：\n接 N — 接单\n办结 N 说明 — 办结并告知居民\n转 N 网格或人员 原因 — 转办\n"
              "退回 N 原因 — 派错退回\n延期 N 天数 原因 — 申请延期\n撤销 N 原因 — 不是诉求，撤销工单\n进度 N — 查看工单\n"
              "我的 — 我的未办结工单\n帮助 — 本说明")
SECRETARY_HELP = ("\n书记另可用：\n指派 N 人员 — 指派\n督办 N 内容 — 督办\n待办 — 全部未办结工单\n"
                  "确认删除 微信号 — 确认居民的信息删除申请")
def resident_help(bot_name: str) -> str:
    return (f"您好，我是社区的{bot_name}。在居民群里直接说明问题和楼栋单元（如“3号楼2单元楼道灯不亮”），"
            "我会登记并转给网格员；私聊发“进度 工单号”可查询办理情况，发“我的信息”可查看保存了您的哪些信息。")


# a resident @-mentioned the bot in the group and it found nothing to file (handlers.addressed)
YOU_ARE_WELCOME = "不客气，有问题随时在群里说。"


def addressed_help() -> str:
    return ("您好，没看出要登记的问题。请说明遇到的问题和楼栋单元（如“3号楼2单元楼道灯不亮”），"
            "我会登记并转给网格员；查询办理情况请私聊发“进度 工单号”。")


# a staff member quoted a resident's message and wrote 登记 (handlers.staff_filing)
QUOTED_NOT_FOUND = "没找到被引用的这条消息（可能发得太早或已按规定删除），请让居民重新发一次，或私聊我描述问题。"
QUOTED_FROM_STAFF = "这条是工作人员发的消息，不代为登记；请引用居民本人的消息。"


def worker_voided(ticket: Ticket) -> str:
    return f"已撤销工单#{ticket.id}（不计入考核指标），已告知居民。"


def secretaries_voided(ticket: Ticket, staff_name: str, reason: str) -> str:
    return (f"【撤销】工单#{ticket.id}（{ticket.category_name}，{place(ticket)}）已由{staff_name}撤销，不计入指标。"
            f"原因：{excerpt(reason)}\n内容：{excerpt(ticket.text)}\n如撤销有误，请在群里引用居民原消息回复“登记”恢复。")


def restored_note(staff_name: str) -> str:
    return f"{staff_name}重新登记（撤销有误）"


def voided_group(ticket: Ticket) -> str:
    return f"工单#{ticket.id}经核实不是需要登记办理的问题，已撤销。如确有问题需要处理，请再说明一下具体情况和楼栋。"


def quoted_already_filed(ticket_id: int) -> str:
    return f"这条消息已登记为工单#{ticket_id}，不用重复登记。"


def malformed(need: str, example: str) -> str:
    return f"指令缺少{need}，请这样发：{example}。发“帮助”查看全部指令。"


def not_found(ticket_id: int | str) -> str:
    return f"没有找到工单#{ticket_id}，请核对工单号。"


def not_permitted(ticket_id: int | None = None) -> str:
    if ticket_id is None:
        return "该操作仅限社区工作人员使用。"
    return f"工单#{ticket_id}不是您负责的，只有负责的网格员或书记可以操作。"


def private_ok() -> str:
    return "暂时只能识别文字消息，请用文字描述问题和楼栋单元，谢谢。"


def late_summary(ticket_ids: list[int]) -> str:
    """One reply for a backlog delivered after an outage, instead of one per message."""
    shown = " ".join(f"#{i}" for i in ticket_ids[:20]) + (" 等" if len(ticket_ids) > 20 else "")
    return f"抱歉，助手刚才断线了，已补登记{len(ticket_ids)}条反映：{shown}，均已转网格员处理。"


def ask_place(ticket: Ticket) -> str:
    return f"收到，已登记为工单#{ticket.id}（{ticket.category_name}）。请问具体是几号楼几单元？方便我们尽快派人。"


def merged(ticket: Ticket) -> str:
    households = ticket.follower_count + 1
    return f"已有{households}户反映此问题，正在处理（#{ticket.id}），处理进展会及时告知大家。"


def already_reported(ticket: Ticket) -> str:
    return f"您反映的问题已在处理中（#{ticket.id}），请耐心等候，有进展会告诉您。"


def worker_merged(ticket: Ticket, name: str, text: str) -> str:
    return f"工单#{ticket.id}又有居民反映（共{ticket.follower_count + 1}户）：{name}：{excerpt(text)}"


def followup_question(ticket: Ticket) -> str:
    return (f"您好，您反映的工单#{ticket.id}（{ticket.category_name}）已办结。问题解决了吗？"
            "回复：1 满意 2 基本满意 3 不满意 4 没解决")


def rated(rating: str) -> str:
    if rating == "dissatisfied":
        return "收到您的评价，很抱歉没让您满意，社区会认真改进。"
    return "感谢您的评价！有问题随时在群里告诉我们。"


def reopened_group(ticket: Ticket, worker_name: str | None) -> str:
    who = f"网格员{worker_name}" if worker_name else "工作人员"
    return f"工单#{ticket.id}居民反映问题还没解决，已重新交{who}办理。"


def transferred_group(ticket: Ticket, worker_name: str) -> str:
    return f"工单#{ticket.id}（{ticket.category_name}）已转交网格员{worker_name}办理。"


def worker_done(action: str, ticket: Ticket) -> str:
    return f"已{action}工单#{ticket.id}。"


TRANSFER_TARGET_UNKNOWN = "没有找到这个网格或网格员，请写网格名（如 第二网格）或网格员姓名；书记和街道人员不接工单。"


# ---- deadlines -------------------------------------------------------------------------------
PHASE_NAMES = {"accept": "接单", "resolve": "办结", "reassign": "重新指派"}


def when(moment: datetime, tz: tzinfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def reminder(ticket: Ticket, phase: str, due: datetime, tz: tzinfo) -> str:
    flag = "【紧急】" if ticket.urgent else ""
    return (f"【提醒】{flag}工单#{ticket.id}（{ticket.category_name}，{place(ticket)}）请在{when(due, tz)}前"
            f"{PHASE_NAMES.get(phase, '处理')}。")


def escalation(ticket: Ticket, phase: str, worker: str | None, days_late: int, *, level_name: str, tz: tzinfo) -> str:
    late = f"，已超时{days_late}个工作日" if days_late else "，已超时"
    lines = [f"【超时督办·{level_name}】工单#{ticket.id}（{ticket.category_name}，{place(ticket)}）"
             f"未按时{PHASE_NAMES.get(phase, '处理')}{late}。",
             f"期限：{when(ticket.due_at, tz)}；责任人：{worker or '待指派'}；状态：{status_name(ticket)}。",
             f"内容：{excerpt(ticket.text)}",
             f"可回复“督办 {ticket.id} 要求”或“指派 {ticket.id} 人员”。"]
    return "\n".join(lines)


def overdue_worker(ticket: Ticket, level_name: str) -> str:
    return f"工单#{ticket.id}（{ticket.category_name}）已超过办理时限，已报{level_name}。请尽快处理，或回复“延期 {ticket.id} 天数 原因”。"


def escalated_reporter(ticket: Ticket, level_name: str) -> str:
    return f"您反映的工单#{ticket.id}（{ticket.category_name}）办理超时，已提请{level_name}督办，请您放心。"


def return_too_late(ticket: Ticket, window: str) -> str:
    return f"工单#{ticket.id}已超过退回时限（派单后{window}内），请先处理，或联系书记改派。"


def filed_several(tickets: list[Ticket], worker_name: str | None, grid_name: str | None) -> str:
    """Several problems in one message: one group reply naming every ticket."""
    who = f"{grid_name}网格员{worker_name}" if worker_name else "社区工作人员"
    listed = "、".join(f"#{t.id}（{t.category_name}）" for t in tickets)
    return f"您反映的{len(tickets)}个问题已分别登记为工单{listed}，已转{who}处理，请耐心等候。"


def ask_place_several(tickets: list[Ticket]) -> str:
    listed = "、".join(f"#{t.id}（{t.category_name}）" for t in tickets)
    return f"收到，已分别登记为工单{listed}。请问具体是几号楼几单元？方便我们尽快派人。"


def chased_reporter(ticket: Ticket, worker_name: str | None, times: int, overdue: bool) -> str:
    who = f"，负责人：网格员{worker_name}" if worker_name else ""
    late = "，已超过办理时限" if overdue else ""
    return (f"工单#{ticket.id}（{ticket.category_name}，{place(ticket)}）状态：{status_name(ticket)}{who}{late}。"
            f"已帮您催办（第{times}次），请耐心等候。")


def worker_chased(ticket: Ticket, name: str, text: str, times: int, overdue: bool) -> str:
    late = "（已超时）" if overdue else ""
    return (f"【居民催办】#{ticket.id}{late} {ticket.category_name}，{place(ticket)}\n"
            f"{name}第{times}次催办：{excerpt(text)}\n请尽快处理；处理完回复“办结 {ticket.id} 处理说明”。")


def worker_resident_note(ticket: Ticket, name: str, text: str) -> str:
    """A resident's word about a ticket that changes nothing by itself (e.g. a neighbour says it is fixed)."""
    return (f"工单#{ticket.id}（{ticket.category_name}，{place(ticket)}）居民{name}回复：{excerpt(text)}\n"
            f"请核实；如已处理完，回复“办结 {ticket.id} 处理说明”。")


def noted_for_worker(ticket: Ticket, worker_name: str | None) -> str:
    who = f"网格员{worker_name}" if worker_name else "社区工作人员"
    return f"谢谢告知，已转告{who}核实（#{ticket.id}）。"
