"""Property tests: a scenario file of any content loads or fails with ScenarioError, never anything else."""
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import ConfigError, parse_config
from bot.sim.scenario import Scenario, ScenarioError, load_scenario, parse_scenario

KEYS = ["start", "self", "contacts", "rooms", "steps", "id", "name", "topic", "members", "room", "from", "dm",
        "text", "kind", "wait", "rename", "to", "image"]
# scalars YAML turns into dates, times, floats and booleans, some of them invalid ("2026-13-45")
TRICKY = ["2026-11-23T08:57:00+08:00", "2026-11-23", "2026-13-45", "2026-02-30T25:61:00", "30s", "1.5h", "-3m",
          "1e309", ".nan", "yes", "~", "0x1F", "12:30:00"]
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8)
           | st.sampled_from(TRICKY))
values = st.recursive(scalars, lambda children: st.lists(children, max_size=3)
                      | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=4),
                      max_leaves=20)
yaml_text = (values.map(lambda v: yaml.safe_dump(v, allow_unicode=True))
             | st.lists(st.sampled_from(KEYS + TRICKY + [":", "- ", "\n", "  ", "{", "}", "[", "]", "&a", "*a", "!!"]),
                        max_size=30).map(" ".join)
             | st.text(max_size=80))


def _load(text: str) -> Scenario:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.yaml"
        path.write_text(text, encoding="utf-8")
        return load_scenario(path)


@settings(max_examples=400)
@given(yaml_text)
def test_any_yaml_file_loads_or_raises_scenario_error(text):
    try:
        assert isinstance(_load(text), Scenario)
    except ScenarioError as exc:
        assert str(exc)


@settings(max_examples=300)
@given(st.dictionaries(st.sampled_from(KEYS), values, max_size=6) | values)
def test_any_data_parses_or_raises_scenario_error(data):
    try:
        parse_scenario(data)
    except ScenarioError as exc:
        assert str(exc)


def test_impossible_dates_in_a_config_file_are_a_config_error():
    with pytest.raises(ConfigError, match="YAML"):
        parse_config("community: {name: 0000-00-00}\n")
