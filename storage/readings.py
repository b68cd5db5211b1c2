"""The earlier readings a signed review row keeps (`earlier`, JSON): when someone re-signs a correction (更正审核) or a
drawn message (抽查) with other labels, the reading it replaces is kept on the row, newest last, so a page can show
who read the line how before. The history lives on the row: erasing or purging the reading removes it too."""
from __future__ import annotations

import json
from datetime import datetime, timezone

KEPT = 10  # earlier readings kept per line: enough to see a disagreement, never a log that grows without end


def _as_utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def entries(row) -> list[dict]:  # noqa: ANN001 (LabelReview or MessageReview)
    """The earlier readings of a review row, oldest first: {request, category, urgent, by, at (datetime, UTC)}."""
    if row is None or not getattr(row, "earlier", None):
        return []
    out = []
    for e in json.loads(row.earlier):
        out.append({**e, "at": datetime.fromisoformat(e["at"])})
    return out


def after(previous, *, is_request: bool, category: str | None, urgent: bool) -> str | None:  # noqa: ANN001
    """The `earlier` a row gets when this reading replaces `previous` (None: nothing signed before): the previous
    reading is added when its labels differ from the new ones; the same labels signed again add nothing."""
    if previous is None:
        return None
    kept = json.loads(previous.earlier) if previous.earlier else []
    if (bool(previous.is_request), previous.category, bool(previous.urgent)) != (bool(is_request), category,
                                                                               bool(urgent)):
        kept.append({"request": bool(previous.is_request), "category": previous.category,
                     "urgent": bool(previous.urgent), "by": previous.reviewer_name,
                     "at": _as_utc(previous.reviewed_at).isoformat()})
    return json.dumps(kept[-KEPT:], ensure_ascii=False) if kept else None
