"""A complaint about a specific neighbour is a dispute: handled privately, whatever nuisance it describes.

The neighbour may read the group, so "楼上那家天天半夜跺脚，跟他说了也不听" must not be answered there, nor
its place asked for in public. The classifier names the nuisance (噪音扰民); this rule names the conflict.
"""
from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from classifier import Classification

DISPUTE = "dispute"
_PLACE = r"(?:楼上|楼下|隔壁|对门|对面|邻居)"
_PERSON = (r"(?:的|那|这|那个|这个)?(?:那家|这家|那户|这户|人家|住户|邻居|一家人?|两口子|夫妻|老两口|大爷|大妈|阿姨|"
           r"老太太|老太|老头|小伙子?|男的|女的|他们|她们|他家|她家|家|户|他|她)")
_NEIGHBOUR_RE = re.compile(_PLACE + _PERSON)
_BARE_PLACE_RE = re.compile(r"(?:楼上|楼下|隔壁|对门|邻居)")
# they were asked and did not listen: a conflict between people, not a fault
_CONFLICT_RE = re.compile(r"(?:说|讲|沟通|商量|提醒|敲门|找)[^，,。！!？?]{0,8}(?:不听|不理|没用|不管用|不改|不开门)|"
                          r"说不听|不讲理|蛮不讲理|根本不理|不搭理")
# nuisances a neighbour causes; a neighbour merely mentioned in a lift or lighting complaint is a witness
_NUISANCES = frozenset({"noise", "sanitation", "construction", "fire_safety", "parking"})


def names_a_neighbour(text: str, category: str) -> bool:
    if _CONFLICT_RE.search(text) and _BARE_PLACE_RE.search(text):
        return True
    return category in _NUISANCES and _NEIGHBOUR_RE.search(text) is not None


def as_dispute(c: "Classification", text: str, *, private: Iterable[str], classifier) -> "Classification":  # noqa: ANN001
    """The classification, filed as a dispute when it is a complaint about a neighbour and not private already."""
    if c.category in private or not names_a_neighbour(text, c.category):
        return c
    name = next((k.name for k in classifier.rules.categories if k.code == DISPUTE), "邻里纠纷")
    return dataclasses.replace(c, category=DISPUTE, category_name=name, matched=[*c.matched, f"neighbour:{c.category}"])
