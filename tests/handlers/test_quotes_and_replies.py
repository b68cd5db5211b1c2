"""Pure parts of the thread step: reading a quote reply apart, judging a short reply, spotting a chase-up."""
import json

import pytest

from handlers.quotes import judged_record, parse_quote
from handlers.threads import is_chase, judge_reply

DELIMITER = "\n- - - - - - - - - - - - - - -\n"


def test_a_quote_reply_is_read_apart_and_a_bot_message_carries_its_ticket():
    quote = parse_quote(f"「张阿姨：3号楼2单元楼道灯坏了…」{DELIMITER}+1")
    assert (quote.author, quote.quoted, quote.reply, quote.ticket_number) == ("张阿姨", "3号楼2单元楼道灯坏了…", "+1", None)
    bot = parse_quote(f"「睦邻助手：@张阿姨\u2005工单#3已办结：已更换灯泡。」{DELIMITER}还是不亮")
    assert bot.ticket_number == 3 and bot.reply == "还是不亮"
    assert parse_quote("还是不亮\n「张阿姨：3号楼楼道灯坏了」").reply == "还是不亮"  # the reply first, as some clients
    assert parse_quote("「通知」明天停水") is None and parse_quote("3号楼楼道灯坏了") is None


@pytest.mark.parametrize("reply, verdict", [
    ("+1", "same"), ("我们单元也是", "same"), ("我家也一样", "same"), ("同上", "same"),
    ("还是不亮", "unsolved"), ("还是不亮啊", "unsolved"), ("没修好", "unsolved"), ("根本没解决", "unsolved"),
    ("已经修好了", "fixed"), ("@张阿姨 灯亮了", "fixed"), ("修好了谢谢", "fixed"),
    ("哈哈哈", None), ("谢谢", None), ("收到", None), ("哈哈张阿姨你家楼上又在装修吧", None),
])
def test_a_short_reply_under_a_problem_is_judged(reply, verdict):
    assert judge_reply(reply) == verdict


@pytest.mark.parametrize("text, chase", [
    ("2号楼的灯怎么还没修啊，都一天了", True), ("什么时候修啊", True), ("都三天了还没人来", True),
    ("2号楼楼道灯坏了", False), ("谢谢王芳", False),
])
def test_a_chase_up_is_spotted(text, chase):
    assert is_chase(text) is chase


def test_classify_records_show_which_part_was_judged():
    line = json.dumps({"text": f"「张阿姨：3号楼2单元楼道灯坏了」{DELIMITER}我们单元也是"}, ensure_ascii=False)
    record = json.loads(judged_record(line))
    assert record["text"] == "我们单元也是" and record["quote"]["author"] == "张阿姨"
    assert record["message"].startswith("「张阿姨")
    assert judged_record("3号楼楼道灯坏了\n") == "3号楼楼道灯坏了\n"


def test_mulin_classify_judges_a_quote_reply_by_its_reply():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    lines = [json.dumps({"text": f"「张阿姨：3号楼2单元楼道灯坏了」{DELIMITER}哈哈哈"}, ensure_ascii=False),
             "3号楼2单元楼道灯坏了"]
    run = subprocess.run([sys.executable, "-m", "bot.cli", "classify", "--config", str(root / "config.yaml")],
                         input="\n".join(lines) + "\n", capture_output=True, text=True, cwd=root, check=True)
    quoted, plain = (json.loads(line) for line in run.stdout.splitlines())
    assert quoted["text"] == "哈哈哈" and quoted["quote"]["text"] == "3号楼2单元楼道灯坏了" and not quoted["is_request"]
    assert plain["is_request"] and "quote" not in plain
