from pathlib import Path

import pytest

from bot.cli.main import main
from core.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "config.yaml").read_text(encoding="utf-8")


def test_shipped_config_loads_and_routes_buildings():
    config = load_config(ROOT / "config.yaml")
    assert config.grid_of_building("百意").id == "g1"
    assert config.grid_of_building("7号楼").worker == "liuyang"
    assert config.building_aliases()["百意"] == ["百意楼", "百意大厦"]
    assert [s.id for s in config.secretaries()] == ["lishuji"]


@pytest.mark.parametrize("old, new, expected", [
    ("  timezone: Asia/Shanghai", "  timezon: Asia/Shanghai", ["config.yaml:4", "community.timezon", "未知的键"]),
    ("  timezone: Asia/Shanghai", "  timezone: Asia/Peking", ["config.yaml:4", "community.timezone", "未知的时区"]),
    ("worker: zhaoqiang", "worker: nobody", ["grids[1].worker", "nobody", "不在 staff 中"]),
    ("buildings: [1号楼,", "buildings: [A1, 1号楼,", ["grids[1].buildings", "'A1'", "g1", "g2"]),
    ("{room: 东苑小区居民群, grid: g3}", "{room: 东苑小区居民群, grid: g9}", ["groups[2].grid", "g9"]),
    ("role: secretary", "role: boss", ["staff[3].role"]),
    ("wechat_id: wxid_liuyang", "wechat_id: wxid_wangfang", ["staff[2].wechat_id", "重复"]),
])
def test_bad_config_names_key_and_line(old, new, expected):
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        parse_config(GOOD.replace(old, new, 1), "config.yaml")
    for part in expected:
        assert part in str(err.value)


def test_error_line_points_at_the_bad_key():
    text = GOOD.replace("worker: zhaoqiang", "worker: nobody")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "worker: nobody" in l)
    with pytest.raises(ConfigError, match=f"config.yaml:{line}:"):
        parse_config(text, "config.yaml")


def test_invalid_yaml_and_non_mapping():
    with pytest.raises(ConfigError, match="YAML"):
        parse_config("community: [unclosed", "c.yaml")
    with pytest.raises(ConfigError, match="mapping"):
        parse_config("- just a list", "c.yaml")


def test_cli_exits_2_with_chinese_error(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("worker: liuyang", "worker: ghost"), encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["tickets", "--config", str(bad)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "配置错误" in err and "ghost" in err and f"{bad}:" in err


def test_missing_config_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["tickets", "--config", str(tmp_path / "nope.yaml")])
    assert exit_info.value.code == 2
    assert "无法读取配置文件" in capsys.readouterr().err


STREET = (ROOT / "examples" / "street.yaml").read_text(encoding="utf-8")


def test_street_example_loads_with_two_communities():
    config = load_config(ROOT / "examples" / "street.yaml")
    assert [c.id for c in config.all_communities()] == ["kxl", "dy"]
    assert [g.id for g in config.grids_of("kxl")] == ["g1", "g2"] and [g.id for g in config.grids_of("dy")] == ["g3"]
    assert [s.id for s in config.secretaries_of("dy")] == ["chenshuji"]
    assert [g.room for g in config.groups_of("dy")] == ["东苑小区居民群"]
    assert config.community_of_grid("g2") == "kxl"
    assert config.community_of(None, "23456@chatroom", "东苑小区居民群") == "dy"  # unrouted: the group's community
    # a configured level names both secretaries; each ticket reaches only its own community's one
    assert [[s.id for s in people] for _, people in config.escalation_chain("kxl")] == [["lishuji"], ["jiedao_wang"]]
    assert config.community_of_staff(config.staff_by_id("jiedao_wang")) is None


def test_single_community_owns_everything_implicitly():
    config = parse_config(GOOD)
    only = config.all_communities()[0].id
    assert config.all_communities()[0].name == "奎星楼社区"
    assert {config.community_of_grid(g.id) for g in config.grids} == {only}
    assert config.community_of(None, "99999@chatroom", "广场舞交流群") == only
    assert [s.id for s in config.secretaries_of(only)] == ["lishuji"]
    assert config.escalation_chain(only) == config.escalation_chain()


@pytest.mark.parametrize("old, new, expected", [
    ("community: dy, worker: liuyang", "community: xx, worker: liuyang", ["grids[2].community", "'xx'", "不在 communities 中"]),
    ("community: dy, worker: liuyang", "worker: liuyang", ["grids[2]", "g3", "未指定社区"]),
    ("role: secretary, community: dy,", "role: secretary,", ["staff[4]", "chenshuji", "未指定社区"]),
    ("role: secretary, community: dy,", "role: secretary, community: xx,", ["staff[4].community", "'xx'"]),
    ("role: grid_worker, wechat_id: wxid_liuyang", "role: grid_worker, community: dy, wechat_id: wxid_liuyang",
     ["staff[2].community", "不是书记"]),
    ("{id: dy, name: 东苑社区}", "{id: kxl, name: 东苑社区}", ["communities[1].id", "重复", "'kxl'"]),
    ("{id: dy, name: 东苑社区}", "{id: dy, nam: 东苑社区}", ["communities[1].nam", "未知的键"]),
])
def test_bad_communities_name_key_and_line(old, new, expected):
    assert old in STREET
    text = STREET.replace(old, new, 1)
    with pytest.raises(ConfigError) as err:
        parse_config(text, "street.yaml")
    line = next(i for i, (a, b) in enumerate(zip(STREET.splitlines(), text.splitlines()), 1) if a != b)
    assert f"street.yaml:{line}:" in str(err.value)
    for part in expected:
        assert part in str(err.value)


def test_one_listed_community_needs_no_ids_and_ids_need_a_list():
    one = GOOD.replace("community:\n", "communities: [{id: kxl, name: 奎星楼社区}]\ncommunity:\n", 1)
    config = parse_config(one)
    assert config.community_of_grid("g3") == "kxl" and [s.id for s in config.secretaries_of("kxl")] == ["lishuji"]
    with pytest.raises(ConfigError, match=r"grids\[0\].community: .*'kxl' 不在 communities 中"):
        parse_config(GOOD.replace("    worker: wangfang", "    worker: wangfang\n    community: kxl", 1))


def _line(text: str, needle: str, nth: int = 1) -> int:
    return [i for i, l in enumerate(text.splitlines(), 1) if needle in l][nth - 1]


def test_an_unquoted_digest_time_is_read_as_that_time_of_day():
    config = parse_config(GOOD.replace('  at: "08:00"', "  at: 8:30"), "config.yaml")
    assert (config.digest.at.hour, config.digest.at.minute) == (8, 30)
    assert (config.sending.quiet_start.hour, config.sending.quiet_start.minute) == (22, 0)


def test_a_duplicate_key_is_refused_with_both_lines():
    text = GOOD + "\ndigest:\n  at: \"09:00\"\n"
    with pytest.raises(ConfigError) as err:
        parse_config(text, "config.yaml")
    assert f"config.yaml:{_line(text, 'digest:', 2)}:" in str(err.value)
    assert f"第 {_line(text, 'digest:')} 行" in str(err.value) and "'digest'" in str(err.value)


@pytest.mark.parametrize("old, new, expected", [
    ("buildings: [A1, A2,", "buildings: [A1, A2, A1,", ["grids[0].buildings", "'A1'", "在网格 g1 中重复"]),
    ("worker: zhaoqiang", "worker: lishuji", ["grids[1].worker", "secretary", "grid_worker"]),
    ("staff_groups: [", "staff_groups: [奎星楼社区A1A2号居民群, ", ["groups[0].room", "staff_groups"]),
    ("days: workdays", "days: weekdays", ["digest.days", "取值应为 'workdays' 或 'everyday'", "'weekdays'"]),
    ("  to_staff_groups: false", "  to_staff_groups: maybe", ["digest.to_staff_groups", "应为 true 或 false"]),
    ("  kpi_days: 30", "  kpi_days: 0", ["digest.kpi_days", "应不小于 1"]),
])
def test_mistakes_yaml_accepts_silently_are_refused_in_chinese(old, new, expected):
    assert old in GOOD, old
    with pytest.raises(ConfigError) as err:
        parse_config(GOOD.replace(old, new, 1), "config.yaml")
    for part in expected:
        assert part in str(err.value)
    assert "Input should" not in str(err.value)


@pytest.mark.parametrize("text, line, hint", [
    ("community:\n  name: 奎星楼\n\ttimezone: Asia/Shanghai\n", 3, "Tab"),
    ("community: {name: 奎星楼\nstaff: []\n", 2, "花括号"),
    ("community:\n  name: a: b\n", 2, "冒号"),
])
def test_yaml_syntax_errors_say_line_column_and_what_to_fix_in_chinese(text, line, hint):
    with pytest.raises(ConfigError) as err:
        parse_config(text, "c.yaml")
    assert str(err.value).startswith(f"c.yaml:{line}: 第{line}行") and hint in str(err.value)
