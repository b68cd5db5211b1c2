"""`mulin tickets`: list tickets for operators."""
from __future__ import annotations

import json
import re
from datetime import tzinfo
from typing import TextIO

from handlers.texts import mask, place
from bot.cli.db import open_database
from storage import attachments
from storage.db import new_session
from storage.models import Attachment, TicketStatus
from storage.tickets import list_tickets, status_name

# C0 and C1 controls (ESC, CR, BEL, ...) and the bidi overrides that reorder what a terminal shows
_UNPRINTABLE_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """Residents' text for a terminal: a control character is shown as its escape (\\x1b, \\r), never obeyed."""
    return _UNPRINTABLE_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def attachment_record(photo: Attachment, tz: tzinfo) -> dict:
    """One photo of a ticket for operators: what it is, not whose it is or its bytes."""
    return {"id": photo.id, "kind": "photo", "role": photo.role, "state": photo.state.value, "size": photo.size,
            "sha256": photo.sha256, "at": photo.sent_at.astimezone(tz).isoformat()}


def print_tickets(url: str, *, statuses: list[str] | None, as_json: bool, out: TextIO, tz: tzinfo) -> int:
    try:
        wanted = tuple(TicketStatus(s) for s in statuses) if statuses else None
    except ValueError as exc:
        print(f"未知状态 (unknown status): {exc}", file=out)
        return 2
    engine = open_database(url)
    with new_session(engine) as session:
        tickets = list_tickets(session=session, statuses=wanted)
        photos = attachments.of_tickets(session=session, ticket_ids=[t.id for t in tickets]) if as_json else {}
    engine.dispose()
    for t in tickets:
        if as_json:
            row = t.model_dump(mode="json")
            row["text"] = mask(row["text"])
            row["attachments"] = [attachment_record(p, tz) for p in photos.get(t.id, [])]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            created = t.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            urgent = "紧急 " if t.urgent else ""
            out.write(visible(f"#{t.id:<5} {created} {status_name(t):<8} {urgent}{t.category_name} "
                              f"{place(t)} 负责:{t.assignee_staff_id or '—'} 反映人:{t.reporter_name} "
                              f"{mask(t.text)[:40]}") + "\n")
    if not as_json:
        out.write(f"共 {len(tickets)} 张工单\n")
    return 0
