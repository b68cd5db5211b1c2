"""The @-names WeChat writes into a message that mentions the bot are taken out before the rules read it."""
import pytest

from handlers.addressed import without_mentions


@pytest.mark.parametrize("text, words", [
    ("@睦邻助手\u20053号楼电梯坏了", "3号楼电梯坏了"),
    ("@睦邻助手 @王芳\u20053号楼电梯坏了", "3号楼电梯坏了"),
    ("3号楼电梯坏了 @睦邻助手", "3号楼电梯坏了"),
    ("@睦邻助手\u2005接 12", "接 12"),
    ("@睦邻助手", "@睦邻助手"),  # nothing says where the name ends
    ("我在群里@了物业三次，没人回", "我在群里@了物业三次，没人回"),  # an @ inside the words is the words
    ("3号楼电梯坏了", "3号楼电梯坏了"),
    ("@睦邻助手，2号楼楼道灯坏了", "2号楼楼道灯坏了"),  # punctuation ends the name
    ("@睦邻助手2号楼楼道灯坏了", "@睦邻助手2号楼楼道灯坏了"),  # no separator: the words are kept, @-name and all
    ("3号楼电梯坏了 @睦邻助手，麻烦尽快来修", "3号楼电梯坏了 @睦邻助手，麻烦尽快来修"),  # not at the end: kept
])
def test_mentions_at_the_start_and_end_are_taken_out(text, words):
    assert without_mentions(text) == words
