"""Writes in/urgent_appeals.jsonl and in/urgent_chat.jsonl here: real corpus lines not yet in any split that hold a
danger word (a broader list than the urgent rules' words), to be labelled by reading under classifier/LABELS.md.

    python tests/data/classifier/real/labels/select_urgent.py [CORPUS_DIR]

Appeals: a seeded shuffle of the unlabelled board rows (no line of the row in a split) whose headline or body holds
a word, the first 250 rows, each as its headline and its body. Chat: every unlabelled chat line holding a word.
"""
from __future__ import annotations

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

from classifier.corpus import row_key

HERE = Path(__file__).resolve().parent
DANGER = ("燃气,煤气,天然气,液化气,漏气,气味,着火,起火,失火,火灾,冒烟,浓烟,爆炸,坍塌,倒塌,塌陷,垮塌,塌方,沉降,下沉,地陷,"
          "裂缝,开裂,裂痕,墙体裂,危房,电线,裸露,漏电,触电,电击,高压线,变压器,困人,被困,困在,井盖,窨井,坠落,掉落,脱落,"
          "高空坠物,高空抛物,砸伤,砸到,砸中,淹,倒灌,内涝,水浸,进水,爆管,爆裂,跑水,岌岌可危,安全隐患,随时,危险,险情,"
          "生命安全,人身安全,生命财产,伤亡,死亡,身亡,受伤,摔伤,溺水,滑坡,泥石流,摇摇欲坠,倾斜,紧急,十万火急,救命,事故,"
          "隐患,消防通道,堵塞消防,有毒,中毒,化学品,危化品,爆燃,电梯故障,电梯事故,下坠,防护栏,护栏,深坑,悬空,脚手架,"
          "塔吊,冰冻,严寒,断水,断电").split(",")
ROWS = 250
SEED = 20261206


def labelled_sources(batch_prefix: str) -> set[str]:
    """The sources already labelled: in the three split files, or handed out in a batch here (in/*.jsonl) other than
    the ones named batch_prefix* (the batches being written)."""
    files = [HERE.parent / f"{split}.jsonl" for split in ("train", "dev", "test")]
    files += [p for p in sorted((HERE / "in").glob("*.jsonl")) if not p.stem.startswith(batch_prefix)]
    return {json.loads(line)["source"] for path in files
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def appeal_rows(corpus: Path) -> dict[str, dict[str, dict]]:
    """The board appeals of the corpus by source row: row key -> {"留言主题": line, "留言详情": line}."""
    rows: dict[str, dict[str, dict]] = defaultdict(dict)
    for line in (corpus / "appeals.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        rows[row_key(r["source"])][r["source"].rsplit(".", 1)[1]] = r
    return rows


def shuffled_unlabelled(corpus: Path, batch_prefix: str, seed: int, words: tuple[str, ...] | None = None
                        ) -> tuple[dict[str, dict[str, dict]], list[str]]:
    """The corpus's board rows by row key, and the keys of those not yet labelled (see labelled_sources) in a shuffle
    seeded with `seed`; with words, only the rows whose headline or body holds one of them."""
    labelled = labelled_sources(batch_prefix)
    rows = appeal_rows(corpus)
    keys = [key for key, parts in sorted(rows.items())
            if not any(p["source"] in labelled for p in parts.values())
            and (words is None or any(w in p["text"] for p in parts.values() for w in words))]
    random.Random(seed).shuffle(keys)
    return rows, keys


def write_rows(name: str, rows: dict[str, dict[str, dict]], keys: list[str]) -> None:
    """in/NAME.jsonl: each row of `keys` as its headline and its body (when the row has them)."""
    write_batch(name, [rows[key][part] for key in keys for part in ("留言主题", "留言详情") if part in rows[key]])


def write_batch(name: str, lines: list[dict], folder: Path = HERE / "in") -> None:
    """FOLDER/NAME.jsonl (in/ here by default): the lines to label, numbered from 1 (n, source, text)."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / f"{name}.jsonl", "w", encoding="utf-8") as f:
        for n, r in enumerate(lines, 1):
            f.write(json.dumps({"n": n, "source": r["source"], "text": r["text"]}, ensure_ascii=False) + "\n")
    print(f"{name}: {len(lines)} lines")


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else HERE.parents[5] / "shared" / "corpus"
    labelled = {json.loads(line)["source"] for split in ("train", "dev", "test")
                for line in (HERE.parent / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()}
    rows = appeal_rows(corpus)
    candidates = [key for key, parts in sorted(rows.items())
                  if not any(p["source"] in labelled for p in parts.values())
                  and any(w in p["text"] for p in parts.values() for w in DANGER)]
    random.Random(SEED).shuffle(candidates)
    appeals = [rows[key][part] for key in candidates[:ROWS] for part in ("留言主题", "留言详情") if part in rows[key]]
    chat = [r for r in map(json.loads, (corpus / "chat.jsonl").read_text(encoding="utf-8").splitlines())
            if r["source"] not in labelled and any(w in r["text"] for w in DANGER)]
    for name, lines in (("urgent_appeals", appeals), ("urgent_chat", chat)):
        write_batch(name, lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
