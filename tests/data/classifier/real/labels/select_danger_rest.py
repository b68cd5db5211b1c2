"""Writes in/danger_a.jsonl, in/danger_b.jsonl and in/danger_c.jsonl here: every board appeal row of ../shared/corpus
not yet labelled whose headline or body holds a danger word of select_urgent.DANGER (the rows the first danger-word
batch of 250 left), each as its headline and its body, in a seeded shuffle dealt into three batches, to be labelled
by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_danger_rest.py [CORPUS_DIR]

"Not yet labelled": no line of the row is in the three split files nor in another batch here (in/*.jsonl other than
danger_*). Chosen by words alone, never by the classifier.
"""
from __future__ import annotations

import sys
from pathlib import Path

from select_urgent import DANGER, shuffled_unlabelled, write_rows  # this folder: run as a script

HERE = Path(__file__).resolve().parent
BATCHES = ("danger_a", "danger_b", "danger_c")
SEED = 20261208


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    rows, keys = shuffled_unlabelled(corpus, "danger_", SEED, tuple(DANGER))
    for b, name in enumerate(BATCHES):
        write_rows(name, rows, keys[b::len(BATCHES)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
