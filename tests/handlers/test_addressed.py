"""The @-names WeChat writes into a message that mentions the bot are taken out before the rules read it."""
import pytest

from handlers.addressed import without_mentions


@pytest.mark.parametrize("text, words", [
    ("@睦邻助手\u20053号楼电梯坏了", "3号楼电梯坏了"),
    ("@睦邻助手 @王芳\u20053号楼电梯坏了", "3号楼电梯坏了"),
    ("3号楼电梯坏了 @睦邻助手", "3号楼电梯坏了"),
    ("@睦邻助手\u2005接 12", "接 12"),
    ("@睦邻助手", ""),
    ("我在群里@了物业三次，没人回", "我在群里@了物业三次，没人回"),  # an @ inside the words is the words
    ("3号楼电梯坏了", "3号楼电梯坏了"),
])
def test_mentions_at_the_start_and_end_are_taken_out(text, words):
    assert without_mentions(text) == words
