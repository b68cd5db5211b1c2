"""The real corpus lines the classifier is trained and measured on: which spreadsheet row a line belongs to,
which split a row falls in, which source group a line reports under, and near-copy detection across splits.
Used by tests/data/classifier/real/build.py (which writes the splits) and classifier.train (weak labels)."""
from __future__ import annotations

import hashlib
import re

RUN = 8
NEAR = 0.5
_STRIP = re.compile(r"[\W_]+")
# keywords that mark a chat line as about home or community life (the corpus README's list and a few more)
KEYWORDS = ("停水,停电,没水了,水压,电梯,楼道,路灯,下水道,马桶,堵了,暖气,供暖,物业,垃圾,噪音,扰民,装修,施工,邻居,"
            "高空抛物,停车,车位,充电桩,小区,燃气,漏水,房东,业主,门禁,广场舞,井盖,水管,热水器,居委会,楼上,楼下,跳闸,"
            "保安,臭味,蟑螂,老鼠,违建,占道,遛狗,维修,报修,宽带,没电,来电,断电,断水,煤气,天然气,积水,漏电,物管,社区,"
            "街道办,城管,污水,渗水,电表,水表,没暖气,暖气片,停暖").split(",")


def row_key(source: str) -> str:
    """The spreadsheet row of an appeal (its headline, body and reply share it); any other line is its own row."""
    return source.rsplit(".", 1)[0] if "#row=" in source and source.endswith(("留言主题", "留言详情", "答复意见")) else source


def split_of(source: str) -> str:
    h = int(hashlib.sha1(row_key(source).encode("utf-8")).hexdigest()[:8], 16) % 100
    return "test" if h < 25 else "dev" if h < 40 else "train"


def group_of(dataset: str, text: str) -> str:
    """The per-source breakdown `mulin classify --eval` reports."""
    if dataset.endswith("_reply"):
        return "reply"
    if dataset.startswith("teddycup"):
        return "appeal_title" if dataset.endswith("_title") else "appeal"
    return "chat_keyword" if any(k in text for k in KEYWORDS) else "chat"


def runs(text: str) -> set[str]:
    s = _STRIP.sub("", text)
    return {s[i:i + RUN] for i in range(len(s) - RUN + 1)} or {s}


class NearIndex:
    """The lines of one split, indexed by their runs, to ask whether a line is a near-copy of any of them."""

    def __init__(self, rows: list[dict]):
        self.sizes: list[int] = []
        self.lines_of: dict[str, list[int]] = {}
        for i, row in enumerate(rows):
            mine = runs(row["text"])
            self.sizes.append(len(mine))
            for run in mine:
                self.lines_of.setdefault(run, []).append(i)

    def near(self, text: str) -> bool:
        mine = runs(text)
        shared: dict[int, int] = {}
        for run in mine:
            for i in self.lines_of.get(run, ()):
                shared[i] = shared.get(i, 0) + 1
        return any(n >= NEAR * min(len(mine), self.sizes[i]) for i, n in shared.items())
