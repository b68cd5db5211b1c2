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


def deal(argv: list[str], prefix: str, batches: tuple[str, ...], rows_each: int, seed: int) -> int:
    """Writes the batches: consecutive runs of `rows_each` rows of the seeded shuffle of the unlabelled rows."""
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    rows, keys = shuffled_unlabelled(corpus, prefix, seed)
    for b, name in enumerate(batches):
        write_rows(name, rows, keys[b * rows_each:(b + 1) * rows_each])
    return 0


def main(argv: list[str]) -> int:
    return deal(argv, "cat_", BATCHES, ROWS, SEED)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
