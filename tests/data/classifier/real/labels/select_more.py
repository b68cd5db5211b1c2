"""Writes in/more_a.jsonl … in/more_f.jsonl here: board appeals of ../shared/corpus not yet labelled, 200 rows each
(headline and body), from a seeded shuffle, to be labelled by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_more.py [CORPUS_DIR]

"Not yet labelled": no line of the row is in the three split files nor in another batch here (in/*.jsonl other than
more_*). Chosen at random, never by the classifier.
"""
from __future__ import annotations

import sys
from pathlib import Path

from select_urgent import shuffled_unlabelled, write_rows  # this folder: run as a script

HERE = Path(__file__).resolve().parent
BATCHES = ("more_a", "more_b", "more_c", "more_d", "more_e", "more_f")
ROWS = 200
SEED = 20261209


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    rows, keys = shuffled_unlabelled(corpus, "more_", SEED)
    for b, name in enumerate(BATCHES):
        write_rows(name, rows, keys[b * ROWS:(b + 1) * ROWS])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
