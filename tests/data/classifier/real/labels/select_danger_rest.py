"""Writes in/danger_a.jsonl, in/danger_b.jsonl and in/danger_c.jsonl here: every board appeal row of ../shared/corpus
not yet labelled whose headline or body holds a danger word of select_urgent.DANGER (the rows the first danger-word
batch of 250 left), each as its headline and its body, in a seeded shuffle dealt into three batches, to be labelled
by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_danger_rest.py [CORPUS_DIR]

"Not yet labelled": no line of the row is in the three split files nor in another batch here (in/*.jsonl other than
danger_*). Chosen by words alone, never by the classifier.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from select_urgent import DANGER, appeal_rows, labelled_sources, write_batch  # this folder: run as a script

HERE = Path(__file__).resolve().parent
BATCHES = ("danger_a", "danger_b", "danger_c")
SEED = 20261208


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    labelled = labelled_sources("danger_")
    rows = appeal_rows(corpus)
    candidates = [key for key, parts in sorted(rows.items())
                  if not any(p["source"] in labelled for p in parts.values())
                  and any(w in p["text"] for p in parts.values() for w in DANGER)]
    random.Random(SEED).shuffle(candidates)
    for b, name in enumerate(BATCHES):
        write_batch(name, [rows[key][part] for key in candidates[b::len(BATCHES)]
                           for part in ("留言主题", "留言详情") if part in rows[key]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
