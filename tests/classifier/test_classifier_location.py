"""Where a message is about: building, unit, room, floor, mapped to config building names."""
import pytest

from classifier.location import BuildingIndex, cn_number, parse_location

ALIASES = {"A1": [], "A2": [], "百意": ["百意楼", "百意大厦"], "3号楼": [], "东苑": ["东苑小区", "东院"]}


@pytest.fixture(scope="module")
def index():
    return BuildingIndex(ALIASES)


@pytest.mark.parametrize("text, building, unit, room, floor", [
    ("3号楼2单元301楼道灯不亮", "3号楼", "2", "301", "3"),
    ("三号楼二单元门口积水", "3号楼", "2", None, None),
    ("3-2-301 家里停水了", "3号楼", "2", "301", "3"),
    ("3栋五楼楼道堆满杂物", "3号楼", None, None, "5"),
    ("A2楼下路灯不亮", "A2", None, None, None),
    ("a2栋电梯坏了", "A2", None, None, None),
    ("百意大厦门口井盖丢了", "百意", None, None, None),
    ("东院小区的路灯坏了", "东苑", None, None, None),
    ("百意大夏后面有积水", "百意", None, None, None),
])
def test_parse_with_config(index, text, building, unit, room, floor):
    loc = parse_location(text, index)
    assert (loc.building, loc.unit, loc.room, loc.floor) == (building, unit, room, floor)
    assert loc.raw and loc.raw in text


def test_two_buildings_first_mentioned_wins_and_raw_kept(index):
    loc = parse_location("百意和A2中间路面存在积水", index)
    assert loc.building == "百意"
    assert loc.raw == "百意和A2中间"
    loc = parse_location("A2和百意中间路面存在积水", index)
    assert loc.building == "A2" and loc.raw == "A2和百意中间"


def test_unknown_building_with_config_is_none_but_raw_kept(index):
    loc = parse_location("11号楼停电了", index)
    assert loc.building is None and loc.raw == "11号楼"


def test_without_config_building_is_normalised():
    assert parse_location("三号楼停水", None).building == "3号楼"
    assert parse_location("A2门口积水", None).building == "A2"


def test_no_place():
    assert parse_location("停水了", None) is None
    assert parse_location("明天3号停水", None) is None


@pytest.mark.parametrize("text, value", [("三", "3"), ("十", "10"), ("十二", "12"), ("二十", "20"), ("二十三", "23"),
                                         ("两", "2"), ("07", "7")])
def test_chinese_numerals(text, value):
    assert cn_number(text) == value


def test_classifier_reports_place(clf):
    result = clf.classify("百意和A2中间路面存在积水")
    assert result.location.building == "百意"
    assert "place:百意" in result.matched


def test_fuzzy_prefilter_never_skips_a_name_rapidfuzz_would_find():
    """_may_resemble is a bound: whenever it says no, partial_ratio stays below the cutoff. Checked on random
    texts over a small alphabet that shares characters with the names, so near misses are common."""
    import random

    from rapidfuzz import fuzz

    from classifier.location import FUZZY_CUTOFF, _may_resemble

    rng = random.Random(7)
    alphabet = "百意大厦东苑小区楼院号门口积水灯坏了"
    skipped = found = 0
    for _ in range(20000):
        spelling = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 5)))
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        score = fuzz.partial_ratio(spelling, text)
        if not _may_resemble(spelling, text):
            skipped += 1
            assert score < FUZZY_CUTOFF, (spelling, text, score)
        elif score >= FUZZY_CUTOFF:
            found += 1
    assert skipped > 1000 and found > 100  # both branches were exercised
