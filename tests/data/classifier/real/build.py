"""Builds train.jsonl, dev.jsonl and test.jsonl here from labels of real corpus lines.

    python tests/data/classifier/real/build.py LABELS_DIR [CORPUS_DIR]
    python tests/data/classifier/real/build.py --append LABELS_DIR [CORPUS_DIR]

--append keeps the lines already in the three files and adds the labelled lines of LABELS_DIR (a later batch, such
as labels/ here) whose source is not in them yet; the near-copy drop then runs over old and new lines alike.

LABELS_DIR holds in/NAME.jsonl (n, source, text: the lines handed out for labelling) and out/NAME.jsonl
(n, request, category, urgent: the labels written for them, see classifier/LABELS.md). CORPUS_DIR is
../shared/corpus (for the dataset names). The split is decided by the source row alone (a headline and its
body share a row, so they share a split): sha1 of the row's locator, 25 % test, 15 % dev, 60 % train.
A train or dev line that is a near-copy of a test line, or a train line that is a near-copy of a dev line, is
dropped, so no split is scored on a near-copy of training. A near-copy: at least half of the shorter line's
8-character runs (spaces and punctuation dropped) occur in the other line; shared boilerplate alone
("您的留言已收悉") is not enough.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from classifier.corpus import NearIndex, group_of, split_of

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    append = argv[:1] == ["--append"]
    argv = argv[1:] if append else argv
    labels = Path(argv[0])
    corpus = Path(argv[1]) if len(argv) > 1 else HERE.parents[4] / "shared" / "corpus"
    datasets = {}
    for name in ("appeals", "chat", "replies"):
        for line in (corpus / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            datasets[r["source"]] = r["dataset"]
    records: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    if append:
        for split, rows in records.items():
            rows += [json.loads(line) for line in (HERE / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    seen: set[str] = {r["source"] for rows in records.values() for r in rows}
    kept = {split: len(rows) for split, rows in records.items()}
    for out in sorted((labels / "out").glob("*.jsonl")):
        given = {}
        for line in (labels / "in" / out.name).read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            given[r["n"]] = r
        for line in out.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            lab = json.loads(line)
            src = given[lab["n"]]
            if src["source"] in seen:
                continue
            seen.add(src["source"])
            request = bool(lab["request"])
            dataset = datasets[src["source"]]
            records[split_of(src["source"])].append({
                "text": src["text"], "expect_request": request,
                "expect_category": lab.get("category") if request else None,
                "expect_urgent": bool(lab.get("urgent")) and request,
                "group": group_of(dataset, src["text"]), "dataset": dataset, "source": src["source"]})
    dropped = {"dev": 0, "train": 0}
    for held, splits in (("test", ("dev", "train")), ("dev", ("train",))):
        index = NearIndex(records[held])
        for split in splits:
            before = len(records[split])
            records[split] = [r for r in records[split] if not index.near(r["text"])]
            dropped[split] += before - len(records[split])
    for split, rows in records.items():
        rows.sort(key=lambda r: r["source"])
        with open(HERE / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        requests = sum(r["expect_request"] for r in rows)
        urgent = sum(r["expect_urgent"] for r in rows)
        print(f"{split}: {len(rows)} lines ({kept[split]} before), {requests} requests, {urgent} urgent, "
              f"{dropped.get(split, 0)} near-copies dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
