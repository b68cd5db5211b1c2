"""What a command message means (the rule), apart from who may send it (the permission).

Tolerant of spacing, full-width characters and "#": "接 1", "接单#1", "办结１ 已清理".
The verb always comes first; the ticket number may carry a "#".
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# verb -> canonical command name; longer verbs first so "接单" wins over "接"
VERBS: dict[str, str] = {
    "接单": "accept", "接": "accept",
    "办结": "resolve", "完成": "resolve",
    "转办": "transfer", "转": "transfer",
    "退回": "return", "退单": "return",
    "延期": "extend",
    "进度": "progress", "查询": "progress",
    "我的": "mine", "我的工单": "mine",
    "帮助": "help", "菜单": "help", "help": "help",
    "指派": "assign",
    "督办": "supervise",
    "待办": "todo",
    "绑定": "bind",
    "撤销": "void", "作废": "void", "非诉求": "void",
}
NEEDS_TICKET = {"accept", "resolve", "transfer", "return", "extend", "progress", "assign", "supervise", "void"}
NEEDS_ARGUMENT = {"resolve": "办结说明", "transfer": "网格或人员", "return": "退回原因", "extend": "天数",
                  "assign": "人员", "supervise": "督办内容", "bind": "绑定码", "void": "撤销原因"}

# zero-width characters vanish; full-width digits, "＃" and the ideographic space become ASCII.
# Only these: the worker's note (办结 N 已清理，排水口已疏通) keeps its Chinese punctuation.
_FOLD = {**dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff")),
         **{0xFF10 + i: str(i) for i in range(10)}, ord("＃"): "#", ord("\u3000"): " "}
_VERB_RE = re.compile("^(" + "|".join(sorted(map(re.escape, VERBS), key=len, reverse=True)) + r")(?![\u4e00-\u9fff])")
_NUMBER_RE = re.compile(r"^#?\s*(-?\d+)")  # any digits, to say "no such ticket" rather than "no number"
MAX_TICKET_DIGITS = 9


@dataclass(frozen=True)
class Command:
    name: str
    ticket_id: int | None = None
    argument: str = ""


@dataclass(frozen=True)
class NoSuchTicket:
    """A ticket number that cannot be one: 0, negative, too long, or digits of another script (٣)."""

    name: str
    number: str


@dataclass(frozen=True)
class Malformed:
    """Looks like a command but is missing a part; `need` says what, in Chinese."""

    name: str
    need: str


def normalize(text: str) -> str:
    """Full-width digits and "#" to ASCII, zero-width characters gone, spaces collapsed."""
    text = text.translate(_FOLD)
    return re.sub(r"\s+", " ", text).strip()


def parse_command(text: str) -> Command | Malformed | NoSuchTicket | None:
    """None when the text is not a command at all (a resident's sentence, say)."""
    text = normalize(text)
    match = _VERB_RE.match(text)
    if match is None:
        return None
    name = VERBS[match.group(1)]
    rest = text[match.end():].strip()
    ticket_id = None
    if name in NEEDS_TICKET:
        number = _NUMBER_RE.match(rest)
        if number is None:
            if rest and not rest.startswith("#") and not rest[0].isdigit() and name in ("accept", "progress", "void"):
                return None  # "接孩子去了", "进度怎么样" or "作废了别管了" is conversation, not a command
            return Malformed(name, "工单号")
        digits = number.group(1)
        if not digits.isascii() or digits.startswith("-") or len(digits) > MAX_TICKET_DIGITS or int(digits) == 0:
            return NoSuchTicket(name, digits)
        ticket_id = int(digits)
        rest = rest[number.end():].strip(" ,，:：")
    elif name in ("mine", "help", "todo") and rest:
        return None  # "我的车被划了" is a resident's sentence
    if name in NEEDS_ARGUMENT and not rest:
        return Malformed(name, NEEDS_ARGUMENT[name])
    return Command(name, ticket_id, rest)
