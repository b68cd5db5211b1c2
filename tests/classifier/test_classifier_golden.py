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


BLIND3 = DEV.with_name("blind3.jsonl")
# blind3 was scored once, after every session-4 change (README.md beside it); these floors hold that score so a
# later change cannot quietly undo it. They are a guard, not the targets: false alarms were 2.4 % (target 2 %).
BLIND3_FLOORS = {"request_recall": 0.95, "category_accuracy": 0.85, "urgent_recall": 0.9}
BLIND3_FALSE_ALARM_MAX = 0.03


def test_blind3_does_not_regress(clf):
    tally = Tally(clf)
    for line in BLIND3.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            tally.add(record, clf.classify(record["text"]))
    metrics = tally.metrics()
    low = {m: round(metrics[m], 3) for m, floor in BLIND3_FLOORS.items() if metrics[m] < floor}
    assert not low and metrics["false_alarm"] <= BLIND3_FALSE_ALARM_MAX, (low, round(metrics["false_alarm"], 3))
