"""What a handler gets: the classifier keeps a text's classification while one message is handled, no longer."""
from __future__ import annotations

from datetime import datetime, timezone

from handlers.context import Ctx, Deps
from storage.staff import StaffDirectory


class Counting:
    """The real classifier, counting what it is asked."""

    def __init__(self, classifier) -> None:  # noqa: ANN001
        self.classifier = classifier
        self.asked: list[str] = []

    def classify(self, text: str, explain: bool = False):  # noqa: ANN201
        self.asked.append(text)
        return self.classifier.classify(text, explain=explain)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self.classifier, name)


def _ctx(config, classifier) -> Ctx:  # noqa: ANN001
    deps = Deps(config=config, classifier=classifier, directory=StaffDirectory(), calendar=None)  # type: ignore[arg-type]
    return Ctx(deps=deps, session=None, msg=None, now=datetime(2026, 12, 6, tzinfo=timezone.utc), staff=None)  # type: ignore[arg-type]


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
