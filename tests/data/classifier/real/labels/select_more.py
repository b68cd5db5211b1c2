"""Writes in/more_a.jsonl … in/more_f.jsonl here: board appeals of ../shared/corpus not yet labelled, 200 rows each
(headline and body), from a seeded shuffle, to be labelled by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_more.py [CORPUS_DIR]

"Not yet labelled": no line of the row is in the three split files nor in another batch here (in/*.jsonl other than
more_*). Chosen at random, never by the classifier. Once labelled, the six batches were moved to unbuilt/ (in/ and out/),
which build.py's `--append labels` does not read: see the data README, twenty-third round.
"""
from __future__ import annotations

import sys

from select_random import deal  # this folder: run as a script

BATCHES = ("more_a", "more_b", "more_c", "more_d", "more_e", "more_f")
ROWS = 200
SEED = 20261209


def main(argv: list[str]) -> int:
    return deal(argv, "more_", BATCHES, ROWS, SEED)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
