"""Which category keywords of classifier/data/rules.yaml disagree with the labelled lines: for every one-part keyword
word (a word a rule scores alone, such as 变电站 or 漏水), the labelled requests of the training and dev splits that
hold it, and the share of them labelled with the keyword's category. Prints the words under --share (0.3) among
those in at least --min (8) requests, lowest share first. The test split is never read.

    python tests/data/classifier/real/audit_rules.py [--share 0.3] [--min 8]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[3]))

from classifier.rules import load_rules  # noqa: E402


def audit(requests: list[dict], rules, share: float, least: int) -> list[tuple[float, str, str, int, Counter]]:
    """(share of the requests holding the word labelled with its category, word, category, weight, labels)."""
    found, seen = [], set()
    for cat in rules.categories:
        for kw in cat.keywords:
            if kw.weight <= 0 or len(kw.pattern.parts) != 1:
                continue
            for word in kw.pattern.parts[0]:
                if len(word) < 2 or (word, cat.code) in seen:
                    continue
                seen.add((word, cat.code))
                labels = Counter(r.get("expect_category") or "other" for r in requests if word in r["text"])
                total = sum(labels.values())
                if total >= least and labels[cat.code] / total < share:
                    found.append((labels[cat.code] / total, word, cat.code, kw.weight, labels))
    return sorted(found, key=lambda f: (f[0], f[1], f[2]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--share", type=float, default=0.3)
    parser.add_argument("--min", type=int, default=8)
    args = parser.parse_args(argv)
    requests = [r for name in ("train.jsonl", "dev.jsonl")
                for r in map(json.loads, (HERE / name).read_text(encoding="utf-8").splitlines())
                if r.get("expect_request")]
    for share, word, code, weight, labels in audit(requests, load_rules(), args.share, args.min):
        top = ", ".join(f"{c} {n}" for c, n in labels.most_common(3))
        print(f"{share:.2f}  {word}  {code} (weight {weight})  in {sum(labels.values())} requests: {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
