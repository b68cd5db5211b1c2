"""Writes in/home_a.jsonl, in/home_b.jsonl and in/home_c.jsonl here: the chat lines of ../shared/corpus not yet
labelled that hold a word of home life (the source groups' KEYWORDS, or one of HOME_WORDS below), in a seeded shuffle,
dealt into three batches, to be labelled by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_home_chat.py [CORPUS_DIR]

The selection uses words only, never the classifier, so the lines that fall into the dev and test splits are as hard
for it as any. "Not yet labelled": the line's source is in none of the three split files nor in another batch here
(in/*.jsonl other than home_*). Selected with the split files as at commit 3c07abc.
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from classifier.corpus import KEYWORDS
from select_urgent import labelled_sources, write_batch  # this folder: run as a script

HERE = Path(__file__).resolve().parent
BATCHES = ("home_a", "home_b", "home_c")
SEED = 20261208
# where residents write of a home problem without a word of KEYWORDS: outages, noise, the flat and its rooms, repairs
HOME_WORDS = ("停,断网,没网,网速,信号,水电,电费,水费,物业费,单元,楼梯,车库,挪车,狗叫,吵,鞭炮,放炮,油烟,蚊子,苍蝇,霉,下水,"
              "堵,暖和,冻死,冷死,热水,洗澡,空调,路面,坑,快递,保洁,环卫,隔壁,楼里,家里,宿舍,寝室,屋里,房子,房间,门口,"
              "窗户,阳台,厕所,卫生间,厨房,漏,修,坏了,臭").split(",")


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    labelled = labelled_sources("home_")
    words = (*KEYWORDS, *HOME_WORDS)
    lines = [r for r in map(json.loads, (corpus / "chat.jsonl").read_text(encoding="utf-8").splitlines())
             if r["source"] not in labelled and any(w in r["text"] for w in words)]
    lines.sort(key=lambda r: r["source"])
    random.Random(SEED).shuffle(lines)
    for b, name in enumerate(BATCHES):
        write_batch(name, lines[b::len(BATCHES)])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
