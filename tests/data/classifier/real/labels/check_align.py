"""Checks that the labels in out/ belong to the lines in in/.

    python tests/data/classifier/real/labels/check_align.py [LABELS_DIR]

Every out record's n must exist in in/NAME.jsonl, each line must be labelled once, and a record that carries
"head" must have the first 6 characters of its line's text there. A headline and its body (one source row) must
carry the same request and category. Exits 1 on any error.
"""
from __future__ import annotations

import collections
import json
import sys
from pathlib import Path


def check(labels: Path) -> int:
    errors = 0
    for out in sorted((labels / "out").glob("*.jsonl")):
        given = {}
        for line in (labels / "in" / out.name).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            given[r["n"]] = r
        records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
        bad = 0
        seen: set[int] = set()
        rows = collections.defaultdict(set)
        heads = 0
        for lab in records:
            n = lab["n"]
            if n not in given:
                print(f"{out.name}: n={n} is not in the in file")
                bad += 1
                continue
            if n in seen:
                print(f"{out.name}: n={n} labelled twice")
                bad += 1
            seen.add(n)
            if "head" in lab:
                heads += 1
                if lab["head"] != given[n]["text"][:6]:
                    print(f"{out.name}: n={n} head {lab['head']!r} != line {given[n]['text'][:6]!r}")
                    bad += 1
            src = given[n]["source"]
            row = src.rsplit(".", 1)[0] if src.endswith(("留言主题", "留言详情")) else src
            rows[row].add((bool(lab["request"]), lab.get("category")))
        missing = sorted(set(given) - seen)
        if missing:
            print(f"{out.name}: unlabelled n {missing}")
            bad += len(missing)
        split = sum(len(v) > 1 for v in rows.values())
        print(f"{out.name}: {len(records)} labels for {len(given)} lines, {heads} with head, "
              f"{bad} alignment errors, {split} rows whose headline and body disagree")
        errors += bad + split
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(check(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent))
