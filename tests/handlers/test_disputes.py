"""Complaints about a specific neighbour are disputes; a neighbour who only witnessed a fault is not."""
from __future__ import annotations

import pytest

from handlers.disputes import names_a_neighbour

CASES = [
    ("楼上那家天天半夜跺脚弹琴，吵得孩子睡不着，跟他说了也不听", "noise", True, "a person upstairs, told in vain"),
    ("楼上邻居每天晚上都很吵", "noise", True, "the upstairs neighbour makes the noise"),
    ("隔壁那户把鞋柜杂物堆在楼道里", "fire_safety", True, "a neighbour's things in the stairwell"),
    ("百意楼对门邻居把垃圾放门口好几天了，臭死了", "sanitation", True, "the neighbour opposite"),
    ("楼下的空调外机太吵了，说了好几次都没用", "noise", True, "asked in vain"),
    ("A1楼道灯不亮了，楼下的大爷说好几天了", "lighting", False, "the neighbour is a witness of a fault"),
    ("3号楼电梯坏了，邻居们都说没人管", "elevator", False, "neighbours as witnesses"),
    ("小区广场舞太吵了，晚上睡不着", "noise", False, "no neighbour named"),
    ("A2单元门坏了关不上", "property", False, "a fault"),
]


@pytest.mark.parametrize("text, category, expected, why", CASES)
def test_names_a_neighbour(text, category, expected, why):
    assert names_a_neighbour(text, category) is expected, why
