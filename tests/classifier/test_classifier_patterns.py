"""Token patterns (classifier/patterns.py): every part as a whole token, the parts within a window of part one."""
import random

import pytest

from classifier.patterns import Pattern, token_index


def _index(text: str) -> dict[str, list[int]]:
    return token_index(text.split())


def test_parse_splits_parts_and_alternatives_and_rejects_empty_ones():
    p = Pattern.parse("电梯|直梯 困|关")
    assert p.parts == (frozenset({"电梯", "直梯"}), frozenset({"困", "关"})) and p.words() == {"电梯", "直梯", "困", "关"}
    for bad in ("", "电梯 |", "|"):
        with pytest.raises(ValueError):
            Pattern.parse(bad)


def test_find_takes_the_first_place_within_the_window():
    p = Pattern.parse("电梯 困")
    assert p.find(_index("电梯 里 困 了"), 8) == (0, 2, (0, 2))
    assert p.find(_index("困 了 一个 人 在 电梯"), 8) == (0, 5, (5, 0))  # part one anchors, the others may lie before
    assert p.find(_index("电梯 a b c 困"), 3) is None  # 4 tokens apart, window 3
    assert p.find(_index("电梯 坏 了"), 8) is None
    assert Pattern.parse("停电|停水").find(_index("又 停水 了 停电"), 8) == (1, 1, (1,))


def test_find_all_gives_every_anchor_and_every_choice_within_the_window_nearest_first():
    p = Pattern.parse("电梯 困")
    places = list(p.find_all(_index("去年 电梯 困 过 , 现在 又 困 了"), 8))
    assert places == [(1, 2, (1, 2)), (1, 7, (1, 7))]  # 困 at 2 is nearer to the one 电梯 than 困 at 7
    assert list(p.find_all(_index("电梯 困 a b c d e f g h i j 电梯 困"), 3)) == [(0, 1, (0, 1)), (12, 13, (12, 13))]
    assert list(p.find_all(_index("电梯 坏 了"), 8)) == []


def test_the_first_of_find_all_is_find():
    """On random token streams, find and the first of find_all agree for every multi-part pattern."""
    rng = random.Random(3)
    words = ["电梯", "困", "关", "里", "有人", ",", "又", "了"]
    patterns = [Pattern.parse(t) for t in ("电梯 困|关", "电梯 有人 困", "困 电梯|里")]
    for _ in range(500):
        index = token_index([rng.choice(words) for _ in range(rng.randint(1, 20))])
        for p in patterns:
            assert next(p.find_all(index, 4), None) == p.find(index, 4)
