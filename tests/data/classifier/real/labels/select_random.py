"""Writes in/cat_a.jsonl, in/cat_b.jsonl and in/cat_c.jsonl here: board appeals of ../shared/corpus not yet labelled,
250 rows each (headline and body), from a seeded shuffle, to be labelled by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_random.py [CORPUS_DIR]

"Not yet labelled": no line of the row is in the three split files nor in another batch here (in/*.jsonl other
than cat_*). The batches were selected with the split files as at commit 82dd892 (before any batch here was
appended); run against those files, this writes the same three files again. With later splits it selects other rows.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

from select_urgent import appeal_rows, labelled_sources, write_batch  # this folder: run as a script

HERE = Path(__file__).resolve().parent
BATCHES = ("cat_a", "cat_b", "cat_c")
ROWS = 250
SEED = 20261207


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    labelled = labelled_sources("cat_")
    rows = appeal_rows(corpus)
    candidates = [key for key, parts in sorted(rows.items())
                  if not any(p["source"] in labelled for p in parts.values())]
    random.Random(SEED).shuffle(candidates)
    for b, name in enumerate(BATCHES):
        write_batch(name, [rows[key][part] for key in candidates[b * ROWS:(b + 1) * ROWS]
                           for part in ("留言主题", "留言详情") if part in rows[key]])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
