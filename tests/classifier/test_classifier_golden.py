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


# Sets never trained on and never read (README.md beside them), with the score each had at the end of session 5:
#   blind6 (scored three times, totals only): recall 0.962, false alarms 1.7 %, category 0.961, urgent 0.935
#   blind8 (scored twice):                     recall 0.974, false alarms 2.1 %, category 0.955, urgent 0.891
#   blind9 (scored once):                      recall 0.982, false alarms 2.6 %, category 0.978, urgent 0.927
# The floors hold those levels so a later change cannot quietly undo them; they are a guard, not the targets
# (0.95 / 2 % / 0.85 / 0.9). When a set becomes training data, drop it here and add the next unseen one.
UNSEEN = {
    "blind6.jsonl": ({"request_recall": 0.94, "category_accuracy": 0.92, "urgent_recall": 0.89}, 0.03),
    "blind8.jsonl": ({"request_recall": 0.95, "category_accuracy": 0.92, "urgent_recall": 0.85}, 0.03),
    "blind9.jsonl": ({"request_recall": 0.96, "category_accuracy": 0.95, "urgent_recall": 0.88}, 0.035),
}


@pytest.mark.parametrize("name", sorted(UNSEEN))
def test_unseen_sets_do_not_regress(clf, name):
    floors, false_alarm_max = UNSEEN[name]
    tally = Tally(clf)
    for line in DEV.with_name(name).read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            tally.add(record, clf.classify(record["text"]))
    metrics = tally.metrics()
    low = {m: round(metrics[m], 3) for m, floor in floors.items() if metrics[m] < floor}
    assert not low and metrics["false_alarm"] <= false_alarm_max, (low, round(metrics["false_alarm"], 3))
