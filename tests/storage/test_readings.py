"""storage.readings: the earlier readings a re-signed review row keeps."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from storage import readings

AT = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def row(request, category, urgent, by, at, earlier=None):
    return SimpleNamespace(is_request=request, category=category, urgent=urgent, reviewer_name=by, reviewed_at=at,
                           earlier=earlier)


def test_a_changed_reading_is_kept_the_same_one_signed_again_is_not():
    assert readings.after(None, is_request=True, category="water", urgent=False) is None
    first = row(False, None, False, "李书记", AT.replace(tzinfo=None))  # SQLite gives naive UTC back
    kept = readings.after(first, is_request=True, category="water", urgent=False)
    assert [(e["request"], e["category"], e["by"], e["at"]) for e in readings.entries(row(1, 1, 1, 1, 1, kept))] == [
        (False, None, "李书记", AT)]
    second = row(True, "water", False, "王主任", AT + timedelta(hours=1), kept)
    assert readings.after(second, is_request=True, category="water", urgent=False) == kept  # agreement adds nothing
    assert len(readings.entries(row(1, 1, 1, 1, 1, readings.after(second, is_request=True, category="water",
                                                                     urgent=True)))) == 2  # urgent alone differs


def test_only_the_last_readings_are_kept():
    current = row(True, "water", False, "甲", AT)
    for i in range(1, 15):
        earlier = readings.after(current, is_request=i % 2 == 0, category="water" if i % 2 == 0 else None,
                                 urgent=False)
        current = row(i % 2 == 0, "water" if i % 2 == 0 else None, False, f"审核人{i}", AT + timedelta(minutes=i),
                      earlier)
    kept = readings.entries(current)
    assert len(kept) == readings.KEPT and kept[-1]["by"] == "审核人13" and kept[0]["by"] == "审核人4"
