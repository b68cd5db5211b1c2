from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.sim.scenario import ScenarioError, parse_duration, parse_scenario

BASE = {"start": "2026-11-23T08:57:00+08:00", "contacts": [{"id": "a", "name": "张"}],
        "rooms": [{"id": "r", "topic": "群", "members": ["a"]}]}


def test_valid_scenario_and_durations():
    s = parse_scenario({**BASE, "steps": [{"room": "r", "from": "a", "text": "hi"}, {"wait": "45m"},
                                          {"dm": "a", "text": "接 1"}, {"rename": "a", "to": "王芳"}]})
    assert [step.delay for step in s.steps] == [timedelta(0), timedelta(minutes=45), timedelta(0), timedelta(0)]
    assert parse_duration("26h") == timedelta(hours=26) and parse_duration("3d") == timedelta(days=3)


@pytest.mark.parametrize("steps, message", [
    ([{"room": "r", "from": "ghost", "text": "x"}], "ghost"),
    ([{"room": "nope", "from": "a", "text": "x"}], "nope"),
    ([{"wait": "soon"}], "duration"),
    ([{"room": "r", "text": "x"}], "from"),
    ([{"dm": "a", "text": "x", "wait": "1m"}], "exactly one"),
    ([{"typo": 1}], "typo"),
])
def test_bad_steps_are_named(steps, message):
    with pytest.raises(ScenarioError, match=message):
        parse_scenario({**BASE, "steps": steps})


def test_start_needs_a_timezone():
    with pytest.raises(ScenarioError, match="timezone"):
        parse_scenario({**BASE, "start": "2026-11-23T08:57:00"})


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda children: st.lists(children, max_size=3)
                           | st.dictionaries(st.text(max_size=6), children, max_size=3), max_leaves=12)


@settings(max_examples=200)
@given(st.dictionaries(st.sampled_from(["start", "self", "contacts", "rooms", "steps", "x"]), json_values, max_size=5))
def test_loader_never_raises_anything_but_scenario_error(data):
    try:
        parse_scenario(data)
    except ScenarioError:
        pass
