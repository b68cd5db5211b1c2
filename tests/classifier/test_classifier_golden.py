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
