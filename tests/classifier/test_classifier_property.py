"""Property tests: any text classifies without an exception, and invisible or full-width forms change nothing."""
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.model import Classification

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
# words the rules care about, so examples reach tokenising and scoring rather than the prefilter alone
WORDS = ["3号楼", "A1", "2单元", "楼道灯", "不亮", "电梯", "坏了", "积水", "下水道", "堵", "没人管", "麻烦", "尽快",
         "谢谢", "着火", "煤气味", "【通知】", "[图片]", "好几天了", "不", "没有", "吗", "？", "！", " ", "\n"]
any_text = st.text(max_size=300)
community_text = st.lists(st.sampled_from(WORDS) | st.text(max_size=3), max_size=25).map("".join)
full_width = {ord(c): chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}


@settings(max_examples=300)
@given(any_text | community_text)
def test_any_text_classifies_without_raising(classifier, text):
    result = classifier.classify(text)
    assert isinstance(result, Classification)
    assert 0.0 <= result.confidence <= 1.0
    assert result.is_request or not result.urgent


@settings(max_examples=200)
@given(community_text, st.data())
def test_zero_width_characters_change_nothing(classifier, text, data):
    positions = data.draw(st.lists(st.integers(0, len(text)), max_size=6))
    noisy = text
    for i in sorted(positions, reverse=True):
        noisy = noisy[:i] + data.draw(st.sampled_from(ZERO_WIDTH)) + noisy[i:]
    assert classifier.classify(noisy) == classifier.classify(text)


@settings(max_examples=200)
@given(community_text)
def test_full_width_letters_and_digits_change_nothing(classifier, text):
    assert classifier.classify(text.translate(full_width)) == classifier.classify(text)


def test_very_long_text_is_classified_on_its_head(classifier):
    head = "3号楼电梯坏了好几天了，麻烦尽快来修"
    result = classifier.classify(head + "。" + "楼里老人多，上下楼很不方便" * 1000)
    assert result.is_request and result.category == classifier.classify(head).category
