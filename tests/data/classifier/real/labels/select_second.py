"""Writes second/in/*.jsonl: every labelled board row (headline and body) and every labelled keyword-chat line of the
train and dev splits, for a second, blind reading under classifier/LABELS.md (the readers see the text only, not the
labels nor any model's output).

    python tests/data/classifier/real/labels/select_second.py          # train and dev
    python tests/data/classifier/real/labels/select_second.py test     # the test split (test_*.jsonl)

The readers of the test split's lines read them to label them, as its first readers did; nobody tuning the classifier
reads them, and only totals are printed from them.

Appeals: the rows in a shuffle seeded with SEED, dealt into the appeal batches of BATCHES (each row as its headline
and its body, as in the first reading). Keyword chat: the lines in a seeded shuffle, dealt into the chat batches.
`second.py` compares the two readings and applies the consensus (see the data README).
"""
from __future__ import annotations

import random
import sys

from second import SECOND, read_jsonl, unit_of  # this folder: run as a script
from select_urgent import HERE, write_batch

BATCHES = {("train", "dev"): (tuple(f"appeals_{c}" for c in "abcdef"), ("chat_a", "chat_b")),
           ("test",): (("test_appeals_a", "test_appeals_b", "test_appeals_c"), ("test_chat",))}
SEED = 20261208


def split_lines(splits: tuple[str, ...]) -> list[dict]:
    return [r for split in splits for r in read_jsonl(HERE.parent / f"{split}.jsonl")]


def deal(items: list, names: tuple[str, ...]) -> list[list]:
    return [items[i::len(names)] for i in range(len(names))]


def main(argv: list[str]) -> int:
    splits = ("test",) if argv[:1] == ["test"] else ("train", "dev")
    appeal_batches, chat_batches = BATCHES[splits]
    lines = split_lines(splits)
    rows: dict[str, list[dict]] = {}
    for r in lines:
        if r["group"] in ("appeal", "appeal_title"):
            rows.setdefault(unit_of(r), []).append(r)
    keys = sorted(rows)
    random.Random(SEED).shuffle(keys)
    title_first = {"appeal_title": 0, "appeal": 1}
    for name, part in zip(appeal_batches, deal(keys, appeal_batches)):
        write_batch(name, [r for key in part for r in sorted(rows[key], key=lambda r: title_first[r["group"]])],
                    SECOND / "in")
    chat = sorted((r for r in lines if r["group"] == "chat_keyword"), key=lambda r: r["source"])
    random.Random(SEED).shuffle(chat)
    for name, part in zip(chat_batches, deal(chat, chat_batches)):
        write_batch(name, part, SECOND / "in")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
