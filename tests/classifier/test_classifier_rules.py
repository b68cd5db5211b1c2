"""Rule files are data: communities edit them, and mistakes fail at load with file:line and reason."""
import re
import textwrap

import pytest

import classifier
from classifier import RulesError
from classifier.rules import DEFAULT_RULES, load_rules


def write(tmp_path, text):
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def with_change(tmp_path, old, new):
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    assert old in text
    return write(tmp_path, text.replace(old, new, 1))


def line_of(path, needle):
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if needle in line)


def test_shipped_rules_load():
    rules = load_rules()
    codes = [c.code for c in rules.categories]
    assert codes == ["water", "power", "heating", "gas", "drainage", "lighting", "elevator", "sanitation",
                     "greenery", "road", "parking", "fire_safety", "noise", "construction", "property",
                     "dispute", "public_safety", "services", "other"]
    assert set(rules.thresholds) == {"request_recall", "false_alarm_max", "category_accuracy", "urgent_recall"}


def test_bad_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, """\
        version: 1
        window: 5
        categories:
          - code: water
            name: [供水
        """)
    with pytest.raises(RulesError, match=re.escape(str(path)) + r":\d+: invalid YAML"):
        load_rules(path)


def test_unknown_field_names_line(tmp_path):
    path = with_change(tmp_path, "    name: 供水\n", "    name: 供水\n    colour: blue\n")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert f"{path}:{line_of(path, 'colour: blue')}:" in str(err.value)
    assert "unknown field 'colour'" in str(err.value)


@pytest.mark.parametrize("weight", ["high", "99", "2.5"])
def test_bad_weight_names_line(tmp_path, weight):
    path = with_change(tmp_path, "      油烟: 4\n", f"      油烟: {weight}\n")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert f"{path}:{line_of(path, '油烟: ')}:" in str(err.value)
    assert "weight of '油烟'" in str(err.value)


def test_duplicate_category_and_missing_fields(tmp_path):
    path = with_change(tmp_path, "  - code: power\n", "  - code: water\n")
    with pytest.raises(RulesError, match="duplicate category code 'water'"):
        load_rules(path)
    path = with_change(tmp_path, "  - code: other\n    name: 其他\n", "  - code: misc\n    name: 其他\n")
    with pytest.raises(RulesError, match="must include code 'other'"):
        load_rules(path)


def test_missing_rules_file(tmp_path):
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "nope.yaml")


def test_community_adds_category_and_keyword_without_code(tmp_path):
    path = with_change(tmp_path, "  - code: other\n", "  - code: pets\n    name: 宠物\n    keywords:\n"
                                                      "      流浪猫|野猫: 4\n  - code: other\n")
    clf = classifier.load(rules_path=path)
    assert ("pets", "宠物") in clf.categories
    result = clf.classify("小区里流浪猫太多了，晚上一直叫，麻烦管管")
    assert result.is_request and result.category == "pets" and result.category_name == "宠物"
    assert any(m.startswith("kw:流浪猫(pets,+4)") for m in result.matched)


def test_a_word_on_two_keyword_lines_of_a_category_counts_once(tmp_path):
    from classifier.engine import Classifier
    from classifier.linear import LinearModel

    path = tmp_path / "rules.yaml"
    text = DEFAULT_RULES.read_text(encoding="utf-8")
    head, sep, rest = text.partition("  - code: water\n    name: 供水\n    keywords:\n")
    assert sep, "the default rules changed shape: adjust this test"
    path.write_text(head + sep + "      扳手怪: 2\n      扳手怪|螺丝精: 3\n" + rest, encoding="utf-8")
    rules = load_rules(path)
    water = next(c for c in rules.categories if c.code == "water")
    lines = [kw for kw in water.keywords if "扳手怪" in kw.pattern.words()]
    assert [kw.weight for kw in lines] == [3]
    zero = LinearModel(["no", "yes"], [0.0, 0.0], {})
    clf = Classifier(rules, (zero, LinearModel([c.code for c in rules.categories], [0.0] * 19, {})))
    from classifier.engine import _Message
    message = _Message(clf, "扳手怪", ["扳"], 0.9)
    assert message.scores().get("water") == 3


def test_blocker_flags_are_read_and_checked(tmp_path):
    rules = load_rules()
    by_kind = {b.kind: b for b in rules.blockers}
    assert by_kind["story"].firm and by_kind["story"].not_now and by_kind["past"].not_now
    assert not by_kind["hypothetical"].not_now  # "万一井盖掉了…" beside a real open manhole stays urgent
    path = with_change(tmp_path, "      not_now: true\n", "      not_now: sometimes\n")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert f"{path}:{line_of(path, 'not_now: sometimes')}:" in str(err.value)


@pytest.mark.parametrize("field, entry, old, new", [
    ("contains", "网友:您好", "    - kind: official_reply\n", "    - kind: official_reply\n      soft: true\n"),
    ("starts", "网友", '      starts: ["网友"', '      firm: true\n      starts: ["网友"'),
])
def test_a_contains_or_starts_blocker_is_normalised_and_decides_alone(tmp_path, field, entry, old, new):
    reply = next(b for b in load_rules().blockers if getattr(b, field))
    assert entry in getattr(reply, field) and reply.kind == "official_reply"  # full-width in the file, normalised
    path = with_change(tmp_path, old, new)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert f"{path}:" in str(err.value) and "decides alone" in str(err.value)


def test_doubts_are_read_and_checked(tmp_path):
    rules = load_rules()
    assert rules.doubts and rules.doubts_unless
    assert set(rules.doubts) <= set(rules.patterns())  # their words segment as units like every rule word
    path = with_change(tmp_path, "  doubts:\n    patterns:\n", "  doubts:\n    words:\n")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert f"{path}:{line_of(path, '    words:')}:" in str(err.value) and "'words'" in str(err.value)


def test_states_are_read_and_checked(tmp_path):
    rules = load_rules()
    assert rules.states and rules.states_unless and rules.states_before and rules.states_max_chars == 60
    assert set(rules.states_before) <= set(rules.patterns())
    assert set(rules.states) <= set(rules.patterns())  # their words segment as units like every rule word
    path = with_change(tmp_path, "    max_chars: 60\n", "    max_chars: 0\n")
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert f"{path}:{line_of(path, 'max_chars: 0')}:" in str(err.value)



@pytest.mark.parametrize("old, new, message", [
    ("  after: [隐患,", "  after: [火灾 隐患,", "one word"),
    ("  after: [隐患,", "  after: ['，', 隐患,", "one word"),
    ("  after: [隐患,", "  after: [1, 隐患,", "must be a word"),
    ("  after: [隐患,", "  after: [隐患, 隐患,", "listed twice"),
    ("  after: [隐患,", "  after: [一旦, 隐患,", "both before and after"),
    ("  scope: 4", "  scope: 40", "urgent_talk.scope"),
    ("  sentence: [一旦,", "  sentence: [担心, 一旦,", "must be `before` words too"),
    ("urgent_talk:\n  scope:", "urgent_talk:\n  range:", "'range'"),
])
def test_urgent_talk_is_read_and_checked(tmp_path, old, new, message):
    rules = load_rules()
    assert {"一旦", "经常", "去年"} <= rules.talk_before and {"隐患", "风险"} <= rules.talk_after
    assert rules.talk_scope == 4 and {"又", "现在", "今天"} <= rules.talk_unless
    assert {"一旦", "如果", "万一"} <= rules.talk_sentence <= rules.talk_before
    assert rules.talk_before | rules.talk_after | rules.talk_unless <= rules.words()  # they segment as units
    path = with_change(tmp_path, old, new)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert re.match(re.escape(str(path)) + r":\d+: ", str(err.value)) and message in str(err.value), str(err.value)


def test_the_rules_audit_reports_a_keyword_its_labelled_lines_file_elsewhere():
    """tests/data/classifier/real/audit_rules.py: a keyword word whose labelled requests mostly carry another code."""
    import importlib.util

    path = DEFAULT_RULES.parents[2] / "tests" / "data" / "classifier" / "real" / "audit_rules.py"
    spec = importlib.util.spec_from_file_location("audit_rules", path)
    audit_rules = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(audit_rules)
    requests = ([{"text": f"小区{i}号楼旁边要建变电站", "expect_category": "power"} for i in range(9)]
                + [{"text": f"{i}路公交站牌被撞坏", "expect_category": "other"} for i in range(9)])
    found = audit_rules.audit(requests, load_rules(), share=0.3, least=8)
    # words are found as substrings: 公交站, 站牌 and 公交站牌 are all in "公交站牌"; 变电站 agrees with its labels
    assert {(word, code) for _, word, code, _, _ in found} == {("公交站", "road"), ("公交站牌", "road"), ("站牌", "road")}
    assert all(labels == {"other": 9} for *_, labels in found)
