"""Finds building/unit/room/floor in a message and maps the building to a configured name."""
from __future__ import annotations

import re
from dataclasses import dataclass

from classifier.model import Location

_CN = "零〇一二两三四五六七八九十"
_NUM = rf"(?:\d{{1,3}}|[{_CN}]{{1,3}})"
_COMPACT = re.compile(r"(?<![\d.:/-])(\d{1,2})-(\d{1,2})-(\d{3,4})(?![\d.:/-])")
# "三栋楼" counts buildings; "3栋" / "三号楼" name one.
_BUILDING = re.compile(rf"(?<![A-Za-z\d])([A-Za-z]?{_NUM})\s*(?:号楼|号院|(?:栋|幢|座)(?!楼))|(?<![A-Za-z\d])([A-Za-z]?\d{{1,3}})\s*(?:栋|幢|座)楼")
_LETTER = re.compile(r"(?<![A-Za-z\d])([A-Za-z]\d{1,2})(?![A-Za-z\d])(?:\s*(?:号楼|楼|栋|幢|座))?")
_UNIT = re.compile(rf"({_NUM})\s*单元")
_ROOM = re.compile(r"(?:单元|号楼|栋|幢|座|[A-Za-z]\d{1,2}[-\s]?)\s*(\d{3,4})(?!\d)|(?<!\d)(\d{3,4})\s*(?:室|房间|户)")
_FLOOR = re.compile(rf"(?<![A-Za-z\d号{_CN}])({_NUM})\s*(?:楼|层)(?![道梯下上顶房顶梯])")
# Every pattern above needs a digit, a Latin letter, or a Chinese numeral before 号/栋/幢/座/单元/楼/层: one search
# for that rules all six out for most messages ("楼道灯不亮了"), which then only look for building names.
_MAYBE = re.compile(rf"[\dA-Za-z]|[{_CN}]\s*(?:号|栋|幢|座|单元|楼|层)")
_TRAILING = re.compile(r"^\s*(?:中间|之间|门口|楼下|楼上|附近|对面|旁边|后面|前面|东侧|西侧|南侧|北侧)")
_SUFFIX = re.compile(r"(?:号楼|号院|楼|栋|幢|座|号)$")
FUZZY_CUTOFF = 75  # partial_ratio (0..100) a building name must reach in a message with no exact name
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}


def cn_number(text: str) -> str:
    """'三' -> '3', '十二' -> '12', '二十三' -> '23'; digits pass through."""
    if text.isdigit():
        return str(int(text))
    if "十" not in text:
        return "".join(str(_DIGITS[c]) for c in text if c in _DIGITS)
    tens, _, ones = text.partition("十")
    return str(_DIGITS.get(tens, 1) * 10 + _DIGITS.get(ones, 0))


def building_key(name: str) -> str:
    """One spelling per building: 'a2栋' -> 'A2', '三号楼' -> '3'."""
    name = _SUFFIX.sub("", name.strip()).upper()
    if name and all(c in _CN for c in name):
        return cn_number(name)
    if name.isdigit():
        return str(int(name))
    return name


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    building: str


class BuildingIndex:
    """Config building names and aliases, looked up exactly by key and then fuzzily with rapidfuzz."""

    def __init__(self, aliases: dict[str, list[str]]):
        self.canonical: dict[str, str] = {}
        for name, others in aliases.items():
            for spelling in [name, *others]:
                self.canonical.setdefault(building_key(spelling), name)
        # Named spellings (百意大厦) are searched for in the text; numbered ones come from the regexes.
        self.named = sorted((s for s in self.canonical if not s.isdigit() and not _LETTER.fullmatch(s)),
                            key=len, reverse=True)

    def words(self) -> set[str]:
        return set(self.canonical) | set(self.canonical.values())

    def resolve(self, key: str) -> str | None:
        if key in self.canonical:
            return self.canonical[key]
        if key.isdigit() or len(key) < 3:
            return None  # '11' is not a typo of '1': numbers and short keys match exactly only
        from rapidfuzz import fuzz, process

        best = process.extractOne(key, list(self.canonical), scorer=fuzz.ratio, score_cutoff=80)
        return self.canonical[best[0]] if best else None

    def named_mentions(self, text: str, fuzzy: bool = True) -> list[_Mention]:
        found: list[_Mention] = []
        upper = text.upper()
        for spelling in self.named:
            at = upper.find(spelling)
            if at >= 0 and not any(m.start <= at < m.end for m in found):
                found.append(_Mention(at, at + len(spelling), spelling))
        if found or not fuzzy or not self.named:
            return found
        from rapidfuzz import fuzz

        for spelling in self.named:
            if len(spelling) >= 3 and _may_resemble(spelling, upper):
                hit = fuzz.partial_ratio_alignment(spelling, upper, score_cutoff=FUZZY_CUTOFF)
                if hit:
                    found.append(_Mention(hit.dest_start, hit.dest_end, spelling))
        return found


def _may_resemble(spelling: str, text: str) -> bool:
    """False when no part of `text` can reach FUZZY_CUTOFF against `spelling` (most messages name no building).
    partial_ratio scores 2*M/(L+k) for a window of k characters, with M common characters in order, M <= k and
    M <= c, the spelling's characters found anywhere in the text: at most 2c/(L+c), below the cutoff when c is
    small. Only for a text at least as long as the spelling (otherwise the text itself is the needle)."""
    if len(text) < len(spelling):
        return True
    c = sum(ch in text for ch in spelling)
    return 200 * c >= FUZZY_CUTOFF * (len(spelling) + c)


def parse_location(text: str, index: BuildingIndex | None) -> Location | None:
    mentions: list[_Mention] = []
    unit = room = floor = None
    if not _MAYBE.search(text):
        named = index.named_mentions(text, fuzzy=True) if index is not None else []
        return _located(text, named, index, None, None, None) if named else None
    compact = _COMPACT.search(text)
    if compact:
        mentions.append(_Mention(compact.start(), compact.end(), compact.group(1)))
        unit, room = compact.group(2), compact.group(3)
    for rx in (_BUILDING, _LETTER):
        for m in rx.finditer(text):
            if not any(o.start <= m.start() < o.end for o in mentions):
                mentions.append(_Mention(m.start(), m.end(), building_key(m.group(1) or m.group(2))))
    if index is not None:
        named = index.named_mentions(text, fuzzy=not mentions)
        mentions += [m for m in named if not any(o.start <= m.start < o.end for o in mentions)]
    if unit is None and (m := _UNIT.search(text)):
        unit, mentions = cn_number(m.group(1)), mentions + [_Mention(m.start(), m.end(), "")]
    if room is None and (m := _ROOM.search(text)):
        room = m.group(1) or m.group(2)
        mentions.append(_Mention(m.start(), m.end(), ""))
    if m := _FLOOR.search(text):
        floor = cn_number(m.group(1))
        mentions.append(_Mention(m.start(), m.end(), ""))
    elif room:
        floor = str(int(room[:-2]))
    if not mentions:
        return None
    return _located(text, mentions, index, unit, room, floor)


def _located(text: str, mentions: list[_Mention], index: BuildingIndex | None, unit, room, floor) -> Location:
    mentions.sort(key=lambda m: m.start)
    start, end = mentions[0].start, max(m.end for m in mentions)
    if tail := _TRAILING.match(text[end:]):
        end += tail.end()
    building = next((m.building for m in mentions if m.building), None)
    if building is not None:
        building = index.resolve(building) if index is not None else _display(building)
    return Location(building, unit, room, floor, text[start:end].strip())


def _display(key: str) -> str:
    return f"{key}号楼" if key.isdigit() else key
