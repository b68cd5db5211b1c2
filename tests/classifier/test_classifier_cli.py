"""run_classify: plain and JSON lines in, JSON lines out; --eval scores labelled lines."""
import io
import json

from classifier.cli import ConfigBuildings, run_classify


def test_plain_and_json_lines(clf):
    out = io.StringIO()
    lines = ["楼道灯不亮了\n", "\n", json.dumps({"text": "早上好", "msg_id": 7}, ensure_ascii=False) + "\n", "{not json\n"]
    assert run_classify(lines, out, clf, evaluate=False) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["text"] for r in rows] == ["楼道灯不亮了", "早上好", "{not json"]
    assert rows[0]["is_request"] and rows[0]["category"] == "lighting"
    assert rows[1]["msg_id"] == 7 and not rows[1]["is_request"]
    assert "楼道灯" in out.getvalue()  # ensure_ascii=False


def label(text, request, category="other", urgent=False):
    return json.dumps({"text": text, "expect_request": request, "expect_category": category,
                       "expect_urgent": urgent}, ensure_ascii=False)


def test_eval_passes_and_fails(clf):
    good = [label("楼道灯不亮了", True, "lighting"), label("有煤气味", True, "gas", True), label("谢谢", False)]
    out = io.StringIO()
    assert run_classify(good, out, clf, evaluate=True) == 0
    report = out.getvalue()
    assert "request recall      1.000" in report and "lighting" in report
    assert "urgent precision    1.000  (no threshold)  1 of 1 filed as urgent" in report

    bad = good + [label("今天天气不错", True, "other"), label("电梯坏了", True, "water")]
    out = io.StringIO()
    assert run_classify(bad, out, clf, evaluate=True) == 1
    failures = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]
    assert [f["errors"] for f in failures] == [["missed request"], ["category elevator != water"]]
    assert "FAIL" in out.getvalue()


def test_config_buildings_reads_aliases(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("grids:\n  - id: g1\n    buildings: [A1, {name: 百意, aliases: [百意楼]}]\n", encoding="utf-8")
    assert ConfigBuildings(str(path)).building_aliases() == {"A1": [], "百意": ["百意楼"]}


def test_eval_per_source_falls_back_to_dataset_and_locator(clf):
    """Lines without `group` are reported under their `dataset`, else the file their `source` names."""
    def row(text, request, category="other", **where):
        return json.dumps({"text": text, "expect_request": request, "expect_category": category, **where},
                          ensure_ascii=False)

    lines = [row("楼道灯不亮了", True, "lighting", dataset="hotline_2025_appeals"),
             row("谢谢大家", False, dataset="hotline_2025_appeals"),
             row("电梯坏了", True, "elevator", source="someone/sms-corpus:data/sms_2019.csv#row=17"),
             row("早上好", False, group="chat", dataset="ignored_when_group_is_there"),
             row("有煤气味", True, "gas")]
    out = io.StringIO()
    run_classify(lines, out, clf, evaluate=True, totals_only=True)
    table = out.getvalue().split("\nsource", 1)[1].splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in table[1:] if line.strip()}
    assert set(rows) == {"hotline_2025_appeals", "sms_2019.csv", "chat"}
    assert rows["hotline_2025_appeals"][:5] == ["2", "1", "1.000", "1", "0.000"]
    assert rows["sms_2019.csv"][:3] == ["1", "1", "1.000"]
    assert rows["chat"][:2] == ["1", "0"]
    assert "messages: 5" in out.getvalue()  # the line with no source still counts in the total


def test_eval_reads_labels_written_as_words_and_names_and_refuses_the_rest(clf):
    """"false" is no request (a bare bool() made it one), 供水 is water; a label that cannot be read fails the run."""
    rows = [{"text": "楼道灯不亮了", "expect_request": "false"}, {"text": "早上好", "expect_request": "否"},
            {"text": "电梯坏了", "expect_request": 1, "expect_category": "电梯"},
            {"text": "家里停水了", "expect_request": "yes", "expect_category": " Water ", "expect_urgent": "no"}]
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    out = io.StringIO()
    run_classify(lines, out, clf, evaluate=True, totals_only=True)
    report = out.getvalue()
    assert "1 of 2 non-requests filed" in report and "2 of 2 requests" in report
    assert "on 2 recognised requests" in report and "category accuracy   1.000" in report
    assert "unknown category code" not in report and "unreadable" not in report

    bad = lines + [json.dumps({"text": "停水了", "expect_request": "maybe"}, ensure_ascii=False),
                   json.dumps({"text": "停电了", "expect_request": True, "expect_urgent": 2}, ensure_ascii=False)]
    out = io.StringIO()
    assert run_classify(bad, out, clf, evaluate=True) == 1
    errors = [json.loads(line)["errors"] for line in out.getvalue().splitlines() if line.startswith("{")]
    assert ["unreadable label: expect_request 'maybe' (not scored)"] in errors
    assert ["unreadable label: expect_urgent 2 (not scored)"] in errors
    assert "messages: 4" in out.getvalue() and "unreadable labels: 2 line(s) not scored (FAIL)" in out.getvalue()


def test_eval_refuses_lines_without_labels_and_reads_past_a_byte_order_mark(clf):
    """A labelled file saved with a BOM keeps its first line; a plain line or labels under other names are no
    non-request (they were counted as one) but an unreadable line."""
    first = "\ufeff" + json.dumps({"text": "楼道灯不亮了", "expect_request": True, "expect_category": "lighting"},
                                  ensure_ascii=False)
    lines = [first, "早上好", json.dumps({"text": "停水了", "label": 1}, ensure_ascii=False)]
    out = io.StringIO()
    assert run_classify(lines, out, clf, evaluate=True) == 1
    report = out.getvalue()
    assert "messages: 1" in report and "1 of 1 requests" in report and "category accuracy   1.000" in report
    errors = [json.loads(line)["errors"] for line in report.splitlines() if line.startswith("{")]
    assert errors == [["unreadable label: expect_request missing (not scored)"]] * 2
