"""What a handler gets: the classifier keeps a text's classification while one message is handled, no longer."""
from __future__ import annotations

from datetime import datetime, timezone

from core.types import Incoming
from handlers.context import Ctx, Deps
from storage.staff import StaffDirectory


class Counting:
    """The real classifier, counting what it is asked."""

    def __init__(self, classifier) -> None:  # noqa: ANN001
        self.classifier = classifier
        self.asked: list[str] = []

    def classify(self, text: str, explain: bool = False, addressed: bool = False):  # noqa: ANN201
        self.asked.append(text + (" (addressed)" if addressed else ""))
        return self.classifier.classify(text, explain=explain, addressed=addressed)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.classifier, name)


def _ctx(config, classifier, msg: Incoming | None = None) -> Ctx:  # noqa: ANN001
    deps = Deps(config=config, classifier=classifier, directory=StaffDirectory(), calendar=None)  # type: ignore[arg-type]
    return Ctx(deps=deps, session=None, msg=msg, now=datetime(2026, 12, 6, tzinfo=timezone.utc), staff=None)  # type: ignore[arg-type]


def test_a_text_is_classified_once_per_message_and_again_for_the_next(config, classifier):
    counting = Counting(classifier)
    ctx = _ctx(config, counting)
    first = ctx.classifier.classify("3号楼2单元楼道灯不亮了")
    assert ctx.classifier.classify("3号楼2单元楼道灯不亮了") is first
    assert first == classifier.classify("3号楼2单元楼道灯不亮了")
    ctx.classifier.classify("好的谢谢")
    assert counting.asked == ["3号楼2单元楼道灯不亮了", "好的谢谢"]

    _ctx(config, counting).classifier.classify("3号楼2单元楼道灯不亮了")  # the next message asks again
    assert counting.asked == ["3号楼2单元楼道灯不亮了", "好的谢谢", "3号楼2单元楼道灯不亮了"]


def test_an_explained_classification_is_not_kept_and_the_rest_is_the_classifiers(config, classifier):
    counting = Counting(classifier)
    ctx = _ctx(config, counting)
    ctx.classifier.classify("暖气不热", explain=True)
    ctx.classifier.classify("暖气不热", explain=True)
    assert counting.asked == ["暖气不热", "暖气不热"]
    assert ctx.classifier.buildings is classifier.buildings


def test_the_text_of_a_message_that_asks_the_bot_is_classified_as_asked_and_no_other(config, classifier):
    counting = Counting(classifier)
    msg = Incoming(id="m1", sender_id="wxid_a", sender_name="张阿姨", text="停车场好多油渍啊",
                   at=datetime(2026, 12, 6, tzinfo=timezone.utc), room_id="r1", addressed=True)
    ctx = _ctx(config, counting, msg)
    assert ctx.classifier.classify("停车场好多油渍啊").is_request  # asked: a vent told to the bot is filed
    assert not ctx.classifier.classify("好多油渍啊").is_request  # a part of it is not the message
    assert counting.asked == ["停车场好多油渍啊 (addressed)", "好多油渍啊"]
