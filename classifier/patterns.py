"""Token patterns used by every rule: "电梯 坏了|故障" means each space-separated part
(alternatives split by "|") occurs as a whole token, the parts within a window of each other."""
from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import product
from dataclasses import dataclass


@dataclass(frozen=True, eq=False)  # identity hash: patterns are looked up per message, so hashing must be cheap
class Pattern:
    text: str
    parts: tuple[frozenset[str], ...]

    @classmethod
    def parse(cls, text: str) -> "Pattern":
        parts = tuple(frozenset(a for a in part.split("|") if a) for part in text.split())
        if not parts or any(not p for p in parts):
            raise ValueError(f"empty pattern or alternative in {text!r}")
        return cls(text, parts)

    def words(self) -> set[str]:
        return set().union(*self.parts)

    def find(self, index: dict[str, list[int]], window: int) -> tuple[int, int, tuple[int, ...]] | None:
        """First (start, end, matched positions) where every part lies within `window` tokens of part one."""
        if len(self.parts) == 1:  # most rules are one word list: its first occurrence will do
            first = min(p for alt in index.keys() & self.parts[0] for p in index[alt][:1]) \
                if not index.keys().isdisjoint(self.parts[0]) else None
            return None if first is None else (first, first, (first,))
        positions = self._positions(index)
        if positions is None:
            return None
        for anchor in positions[0]:
            chosen = [anchor]
            for other in positions[1:]:
                near = _nearest(other, anchor)
                if abs(near - anchor) > window:
                    break
                chosen.append(near)
            else:
                return min(chosen), max(chosen), tuple(chosen)
        return None

    def find_all(self, index: dict[str, list[int]], window: int) -> Iterator[tuple[int, int, tuple[int, ...]]]:
        """Every (start, end, matched positions): per place of part one, each choice of the other parts' places
        within `window` of it, nearest first (so the first is find's); a one-part pattern's every place."""
        positions = self._positions(index)
        if positions is None:
            return
        for anchor in positions[0]:
            near = [sorted((p for p in other if abs(p - anchor) <= window), key=lambda p: (abs(p - anchor), p))
                    for other in positions[1:]]
            for chosen in product(*near):
                places = (anchor, *chosen)
                yield min(places), max(places), places

    def _positions(self, index: dict[str, list[int]]) -> list[list[int]] | None:
        """Each part's places in the message, sorted; None when a part is absent."""
        positions = []
        for part in self.parts:
            found = sorted(p for alt in index.keys() & part for p in index[alt])
            if not found:
                return None
            positions.append(found)
        return positions


def _nearest(sorted_positions: list[int], target: int) -> int:
    """The position closest to target; of two equally close, the earlier."""
    i = bisect_left(sorted_positions, target)
    if i == 0:
        return sorted_positions[0]
    before = sorted_positions[i - 1]
    if i == len(sorted_positions):
        return before
    after = sorted_positions[i]
    return before if target - before <= after - target else after


def token_index(tokens: list[str]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for i, tok in enumerate(tokens):
        index.setdefault(tok, []).append(i)
    return index
