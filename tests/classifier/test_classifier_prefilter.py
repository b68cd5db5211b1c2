"""The prefilter only skips messages the full rules would not file: checked against the full path itself."""
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.engine import REQUEST_THRESHOLD, _Message
from classifier.features import char_features
from classifier.prefilter import Prefilter
from classifier.rules import load_rules
from classifier.tokenize import normalise

WORDS = ["3号楼", "楼道灯", "不亮", "电梯", "坏了", "困", "积水", "下水道", "堵", "没人管", "麻烦", "尽快", "井盖",
         "谢谢", "着火", "煤气", "味", "好几天了", "不", "没有", "吗", "漏水", "物业", "停电", "整栋", "家里", "冒烟"]
community_text = st.lists(st.sampled_from(WORDS) | st.text(max_size=3), max_size=20).map("".join)


def test_words_in_finds_overlapping_and_nested_words():
    found = Prefilter(load_rules()).words_in("有煤气味")
    assert {"煤气", "煤气味"} <= found


@settings(max_examples=400)
@given(community_text)
def test_a_skipped_message_is_never_filed_by_the_full_rules(clf, text):
    norm = normalise(text)
    if not norm.strip():
        return
    features = char_features(norm)
    p = clf.request_model.yes_probability(features)
    if p >= REQUEST_THRESHOLD or clf._may_lift(norm, p) or clf._urgent_heard(features, p):
        return
    result = _Message(clf, norm, features, p).decide()
    assert not result.is_request, result.matched
