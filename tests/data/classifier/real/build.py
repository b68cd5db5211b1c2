"""Builds train.jsonl, dev.jsonl and test.jsonl here from labels of real corpus lines.

    python tests/data/classifier/real/build.py LABELS_DIR [CORPUS_DIR]

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

import hashlib
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUN = 8
NEAR = 0.5
_STRIP = re.compile(r"[\W_]+")
# keywords that mark a chat line as about home or community life (the corpus README's list and a few more)
KEYWORDS = ("停水,停电,没水了,水压,电梯,楼道,路灯,下水道,马桶,堵了,暖气,供暖,物业,垃圾,噪音,扰民,装修,施工,邻居,"
            "高空抛物,停车,车位,充电桩,小区,燃气,漏水,房东,业主,门禁,广场舞,井盖,水管,热水器,居委会,楼上,楼下,跳闸,"
            "保安,臭味,蟑螂,老鼠,违建,占道,遛狗,维修,报修,宽带,没电,来电,断电,断水,煤气,天然气,积水,漏电,物管,社区,"
            "街道办,城管,污水,渗水,电表,水表,没暖气,暖气片,停暖").split(",")


def row_key(source: str) -> str:
    """The spreadsheet row of an appeal (its headline, body and reply share it); any other line is its own row."""
    return source.rsplit(".", 1)[0] if "#row=" in source and source.endswith(("留言主题", "留言详情", "答复意见")) else source


def split_of(source: str) -> str:
    h = int(hashlib.sha1(row_key(source).encode("utf-8")).hexdigest()[:8], 16) % 100
    return "test" if h < 25 else "dev" if h < 40 else "train"


def group_of(dataset: str, text: str) -> str:
    """The per-source breakdown `mulin classify --eval` reports."""
    if dataset.endswith("_reply"):
        return "reply"
    if dataset.startswith("teddycup"):
        return "appeal_title" if dataset.endswith("_title") else "appeal"
    return "chat_keyword" if any(k in text for k in KEYWORDS) else "chat"


def runs(text: str) -> set[str]:
    s = _STRIP.sub("", text)
    return {s[i:i + RUN] for i in range(len(s) - RUN + 1)} or {s}


class NearIndex:
    """The lines of one split, indexed by their runs, to ask whether a line is a near-copy of any of them."""

    def __init__(self, rows: list[dict]):
        self.sizes: list[int] = []
        self.lines_of: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            mine = runs(row["text"])
            self.sizes.append(len(mine))
            for run in mine:
                self.lines_of.setdefault(run, []).append(i)

    def near(self, text: str) -> bool:
        mine = runs(text)
        shared: dict[int, int] = {}
        for run in mine:
            for i in self.lines_of.get(run, ()):
                shared[i] = shared.get(i, 0) + 1
        return any(n >= NEAR * min(len(mine), self.sizes[i]) for i, n in shared.items())


def main(argv: list[str]) -> int:
    labels = Path(argv[0])
    corpus = Path(argv[1]) if len(argv) > 1 else HERE.parents[4] / "shared" / "corpus"
    datasets = {}
    for name in ("appeals", "chat", "replies"):
        for line in (corpus / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            datasets[r["source"]] = r["dataset"]
    records: dict[str, list[dict]] = {"train": [], "dev": [], "test": []}
    seen: set[str] = set()
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
        print(f"{split}: {len(rows)} lines, {requests} requests, {dropped.get(split, 0)} near-copies dropped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
