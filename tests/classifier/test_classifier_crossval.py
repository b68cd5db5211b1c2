"""Cross-validation and the combiner grid search: folds are disjoint, and a search leaves the engine as it was."""
import io
import json

import pytest

from classifier import crossval, engine, train
from classifier.train import read_records


@pytest.fixture
def no_rule_phrases(monkeypatch):
    """The grid's mechanics, not its models, are under test: the category model learns from the few lines alone, not
    from the thousands of phrases the rules make (8 of a test's 9 seconds)."""
    monkeypatch.setattr(train, "rule_phrases", lambda rules: [])


def _records(n):
    return [{"text": f"消息{i}", "expect_request": i % 3 == 0, "expect_category": "water" if i % 3 == 0 else None}
            for i in range(n)]


def test_folds_are_disjoint_cover_everything_and_share_requests():
    records = _records(50)
    parts = crossval.folds(records, 5)
    texts = [r["text"] for part in parts for r in part]
    assert sorted(texts) == sorted(r["text"] for r in records) and len(set(texts)) == 50
    assert all(sum(r["expect_request"] for r in part) in (3, 4) for part in parts)


def test_read_records_keeps_each_text_once(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text(json.dumps({"text": "好的谢谢", "expect_request": False}, ensure_ascii=False) + "\n", encoding="utf-8")
    b.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (
        {"text": "好的谢谢", "expect_request": False}, {"text": "电梯坏了", "expect_request": True})) + "\n", encoding="utf-8")
    assert [r["text"] for r in read_records([a, b])] == ["好的谢谢", "电梯坏了"]


def test_grid_search_prints_every_combination_and_restores_the_constants(monkeypatch, no_rule_phrases):
    from classifier.rules import load_rules

    monkeypatch.setattr(crossval, "GRID", {"VOTE_MAX": (0.5, 3.0), "REQUEST_THRESHOLD": (0.5,)})
    before = (engine.VOTE_MAX, engine.REQUEST_THRESHOLD)
    records = [{"text": t, "expect_request": y, "expect_category": c} for t, y, c in (
        ("楼道灯不亮了", True, "lighting"), ("电梯坏了没人修", True, "elevator"), ("下水道堵了", True, "drainage"),
        ("暖气不热", True, "heating"), ("好的谢谢", False, None), ("大家早上好", False, None),
        ("收到", False, None), ("今天天气不错", False, None))]
    out = io.StringIO()
    crossval.grid_search(records, 2, load_rules(), None, out)
    lines = out.getvalue().splitlines()  # each setting, then its pooled metrics
    assert len(lines) == 4 and lines[0].startswith("VOTE_MAX=0.5") and lines[2].startswith("VOTE_MAX=3.0")
    assert all(line.startswith("pooled:") and "false_alarm" in line for line in lines[1::2])
    assert (engine.VOTE_MAX, engine.REQUEST_THRESHOLD) == before


def test_the_urgent_grid_moves_the_urgent_constants_and_restores_them(no_rule_phrases):
    from classifier.rules import load_rules

    before = (engine.URGENT_MODEL_SAYS, engine.URGENT_MODEL_DOUBTS)
    records = [{"text": t, "expect_request": True, "expect_category": c, "expect_urgent": u} for t, c, u in (
        ("楼道里一股煤气味", "gas", True), ("电梯里困了人", "elevator", True), ("楼道灯不亮了", "lighting", False),
        ("下水道堵了", "drainage", False))] + [{"text": t, "expect_request": False} for t in ("好的谢谢", "收到")]
    out = io.StringIO()
    crossval.grid_search(records, 2, load_rules(), None, out,
                         {"URGENT_MODEL_SAYS": (0.5, 2.0), "URGENT_MODEL_DOUBTS": (0.0,)})
    lines = out.getvalue().splitlines()
    assert [line.split()[0] for line in lines[0::2]] == ["URGENT_MODEL_SAYS=0.5", "URGENT_MODEL_SAYS=2.0"]
    assert all("urgent_precision" in line for line in lines[1::2])
    assert (engine.URGENT_MODEL_SAYS, engine.URGENT_MODEL_DOUBTS) == before
