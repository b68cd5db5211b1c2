from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config, parse_config

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
