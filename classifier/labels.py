"""Which labels classifier/LABELS.md allows on a line: a request has one known category code, a non-request none,
and only a request may be urgent. Read by training (classifier.train.group_records) and by the console's review of
the staff's corrections, so both refuse the same lines."""
from __future__ import annotations


def label_problem(request: object, category: object, urgent: object, codes: set[str]) -> str | None:
    """What is wrong with these labels, in Chinese for the reviewer; None when LABELS.md allows them."""
    if not isinstance(request, bool):
        return "请选择“是诉求”或“不是诉求”。"
    if request and category not in codes:
        return "是诉求时请选择一个分类。" if not category else f"没有这个分类：{category}。"
    if not request and category is not None:
        return "不是诉求的消息不选分类。"
    if urgent and not request:
        return "不是诉求的消息不能标为紧急。"
    return None
