"""Writes in/cat_a.jsonl, in/cat_b.jsonl and in/cat_c.jsonl here: board appeals of ../shared/corpus not yet labelled,
250 rows each (headline and body), from a seeded shuffle, to be labelled by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_random.py [CORPUS_DIR]

"Not yet labelled": no line of the row is in the three split files nor in another batch here (in/*.jsonl other
than cat_*). The batches were selected with the split files as at commit 82dd892 (before any batch here was
appended); run against those files, this writes the same three files again. With later splits it selects other rows.
"""
from __future__ import annotations

import sys
from pathlib import Path

from select_urgent import shuffled_unlabelled, write_rows  # this folder: run as a script

HERE = Path(__file__).resolve().parent
BATCHES = ("cat_a", "cat_b", "cat_c")
ROWS = 250
SEED = 20261207


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    rows, keys = shuffled_unlabelled(corpus, "cat_", SEED)
    for b, name in enumerate(BATCHES):
        write_rows(name, rows, keys[b * ROWS:(b + 1) * ROWS])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
