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


# Sets never trained on and never read (README.md beside them), with the score each had at the end of session 6
# (mulin classify --eval, totals only; the number of times each was scored is in the README):
#   blind6:  recall 0.973, false alarms 2.2 %, category 0.954, urgent 0.978
#   blind8:  recall 0.982, false alarms 1.6 %, category 0.948, urgent 0.964
#   blind9:  recall 0.989, false alarms 2.6 %, category 0.978, urgent 0.964
#   blind10: recall 0.951, false alarms 1.3 %, category 0.941, urgent 0.981
#   blind11: recall 0.982, false alarms 2.4 %, category 0.944, urgent 1.000
#   blind12: recall 0.953, false alarms 1.0 %, category 0.909, urgent 0.983
#   blind13: recall 0.965, false alarms 2.1 %, category 0.960, urgent 1.000
#   blind14: recall 0.974, false alarms 1.8 %, category 0.958, urgent 0.964  (scored once)
#   blind15: recall 0.960, false alarms 1.0 %, category 0.935, urgent 0.982  (scored once)
# The floors hold those levels so a later change cannot quietly undo them; they are a guard, not the targets
# (0.95 / 2 % / 0.85 / 0.9). When a set becomes training data, drop it here and add the next unseen one.
UNSEEN = {
    "blind6.jsonl": ({"request_recall": 0.96, "category_accuracy": 0.94, "urgent_recall": 0.95}, 0.03),
    "blind8.jsonl": ({"request_recall": 0.97, "category_accuracy": 0.93, "urgent_recall": 0.94}, 0.025),
    "blind9.jsonl": ({"request_recall": 0.97, "category_accuracy": 0.96, "urgent_recall": 0.94}, 0.035),
    "blind10.jsonl": ({"request_recall": 0.94, "category_accuracy": 0.92, "urgent_recall": 0.96}, 0.02),
    "blind11.jsonl": ({"request_recall": 0.97, "category_accuracy": 0.93, "urgent_recall": 0.97}, 0.03),
    "blind12.jsonl": ({"request_recall": 0.94, "category_accuracy": 0.89, "urgent_recall": 0.96}, 0.02),
    "blind13.jsonl": ({"request_recall": 0.95, "category_accuracy": 0.94, "urgent_recall": 0.97}, 0.03),
    "blind14.jsonl": ({"request_recall": 0.96, "category_accuracy": 0.94, "urgent_recall": 0.94}, 0.025),
    "blind15.jsonl": ({"request_recall": 0.95, "category_accuracy": 0.92, "urgent_recall": 0.96}, 0.02),
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
