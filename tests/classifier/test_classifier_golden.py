"""Golden messages: tests/data/classifier/dev.jsonl (text, expect_*, why), looped like flashtext's cases."""
import io
import json
from pathlib import Path

import pytest

from classifier.evaluate import Tally

DEV = Path(__file__).resolve().parents[1] / "data" / "classifier" / "dev.jsonl"


def test_dev_set_meets_thresholds(clf):
    if not DEV.exists():
        pytest.skip("dev.jsonl not written yet")
    tally = Tally(clf)
    failures = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            result = clf.classify(record["text"])
            for error in tally.add(record, result):
                failures.append(f"{record['text'][:40]!r}: {error} (why: {record.get('why', '')}; {result.matched})")
    report = io.StringIO()
    status = tally.report(report)
    assert status == 0, report.getvalue() + "\nfailures:\n" + "\n".join(failures)


NEWEST_BLIND = DEV.with_name("blind6.jsonl")
# blind6 is not training data (README.md beside it). Scored at session 5 (totals only): recall 0.948, false alarms
# 1.9 %, category 0.960, urgent 0.826 before the session's urgent-pattern changes. These floors hold that level so a
# later change cannot quietly undo it; they are a guard, not the targets (0.95 / 2 % / 0.85 / 0.9). When blind6
# becomes training data, point this at the next unseen set.
FLOORS = {"request_recall": 0.93, "category_accuracy": 0.9, "urgent_recall": 0.8}
FALSE_ALARM_MAX = 0.03


def test_newest_blind_set_does_not_regress(clf):
    tally = Tally(clf)
    for line in NEWEST_BLIND.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            tally.add(record, clf.classify(record["text"]))
    metrics = tally.metrics()
    low = {m: round(metrics[m], 3) for m, floor in FLOORS.items() if metrics[m] < floor}
    assert not low and metrics["false_alarm"] <= FALSE_ALARM_MAX, (low, round(metrics["false_alarm"], 3))
