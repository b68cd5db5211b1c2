"""WeChat's quote reply, read apart: who was quoted, what they said, and the reply that is to be judged.

Plain `re` only: `mulin classify` uses it and must start without the database layer."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

_DELIMITER = r"[ \t]*\n?[ \t]*(?:-[ \t]*){5,}\n?"
_QUOTE_FIRST = re.compile(r"^\s*「(?P<author>[^：:」\n]{1,40})[：:](?P<quoted>.*)」" + _DELIMITER + r"(?P<reply>.*)$", re.S)
_QUOTE_LAST = re.compile(r"^(?P<reply>.+?)\n[ \t]*「(?P<author>[^：:」\n]{1,40})[：:](?P<quoted>.*)」\s*$", re.S)
_TICKET_NO = re.compile(r"#(\d{1,9})(?!\d)")


@dataclass(frozen=True)
class Quote:
    author: str
    quoted: str
    reply: str

    @property
    def ticket_number(self) -> int | None:
        """The bot's own messages name their ticket (工单#3已办结, 正在处理（#3）)."""
        found = _TICKET_NO.search(self.quoted)
        return int(found.group(1)) if found else None


def parse_quote(text: str) -> Quote | None:
    """「author：quoted」, a line of dashes, then the reply (some clients put the reply first and the quote last)."""
    found = _QUOTE_FIRST.match(text) or _QUOTE_LAST.match(text)
    if found is None:
        return None
    return Quote(found.group("author").strip(), found.group("quoted").strip(), found.group("reply").strip())


def judged_record(line: str) -> str:
    """For `mulin classify`: a quote reply (a JSON line with "text", or a plain line) becomes a record whose
    "text" is the reply, the part that is judged, with the whole message and the quote beside it."""
    stripped = line.rstrip("\r\n")
    record = None
    if stripped.lstrip().startswith("{"):
        try:
            record = json.loads(stripped)
        except json.JSONDecodeError:
            record = None
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        record = {"text": stripped}
    quote = parse_quote(record["text"])
    if quote is None:
        return line
    record = {**record, "message": record["text"], "text": quote.reply,
              "quote": {"author": quote.author, "text": quote.quoted, "ticket": quote.ticket_number}}
    return json.dumps(record, ensure_ascii=False) + "\n"
