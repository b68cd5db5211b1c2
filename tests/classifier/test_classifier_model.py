"""The statistical model: trained from committed data (checked by a hash of the inputs, not by retraining here),
deterministic, reads character n-grams, and the rules' context overrides still win over it."""
import json

import pytest

from classifier import train
from classifier.features import char_features
from classifier.linear import LinearModel
from classifier.rules import load_rules


def test_committed_model_was_trained_from_the_committed_inputs():
    committed = json.loads(train.MODEL_PATH.read_text(encoding="utf-8"))
    assert committed["inputs_sha256"] == train.inputs_hash(), \
        "classifier/data/model.json is stale (labels, rules or feature code changed): run python -m classifier.train"
    corpus = train.corpus_hash()
    if corpus is None:
        pytest.skip("../shared/corpus is not here: the weak labels' source cannot be checked")
    assert committed["corpus_sha256"] == corpus, "../shared/corpus changed since training: run python -m classifier.train"


def test_inputs_hash_sees_a_changed_label(tmp_path, monkeypatch):
    labelled = tmp_path / "train.jsonl"
    labelled.write_text('{"text": "停电了", "expect_request": true, "expect_category": "power"}\n', encoding="utf-8")
    monkeypatch.setattr(train, "TRAIN_SETS", [labelled])
    before = train.inputs_hash()
    labelled.write_text('{"text": "停电了", "expect_request": false}\n', encoding="utf-8")
    assert train.inputs_hash() != before


def test_training_is_deterministic_and_depends_on_the_data():
    records = train.read_records(train.REAL_TRAIN)
    part = records[::24]
    once, twice = (train.train(part, load_rules()) for _ in range(2))
    assert train.dump(once) == train.dump(twice)
    other = records[1::24]
    assert once["request"] != train.fit_request(other, [train.features_of(r["text"]) for r in other]).to_json()


def test_training_records_take_each_text_once_and_real_lines_as_real():
    records = train.training_records()
    real = {r["text"] for r in train.read_records(train.REAL_TRAIN)}
    assert real and all(r["_weight"] == 1.0 and r["group"] for r in records if r["text"] in real)
    assert all(r["_weight"] == train.WRITTEN_WEIGHT and "group" not in r for r in records if r["text"] not in real)
    assert len({r["text"] for r in records}) == len(records)


def _group_file(tmp_path, *records) -> "Path":
    path = tmp_path / "2026-12.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_reviewed_group_lines_train_as_real_lines(tmp_path, monkeypatch):
    """A corrected group message a person reviewed trains at a real line's weight, once, ahead of a written copy."""
    written = train.read_records(train.WRITTEN_SETS)[0]
    path = _group_file(tmp_path,
                       {"text": "停车场好多油渍啊", "expect_request": True, "expect_category": "sanitation",
                        "expect_urgent": False, "source": "mulin:ticket#7", "reviewed_by": "王芳"},
                       {"text": written["text"], "expect_request": False, "expect_category": None,
                        "expect_urgent": False, "source": "mulin:ticket#8", "reviewed_by": "王芳"})
    monkeypatch.setattr(train, "GROUP_SETS", [path])
    records = [r for r in train.training_records() if r["text"] in ("停车场好多油渍啊", written["text"])]
    assert [(r["text"], r["_weight"], r.get("_from_groups"), r["expect_request"]) for r in records] == [
        ("停车场好多油渍啊", 1.0, True, True), (written["text"], 1.0, True, False)]


@pytest.mark.parametrize("record, says", [
    ({"text": "停水了", "expect_request": True, "expect_category": "water", "reviewed_by": None}, "no reviewed_by"),
    ({"text": "停水了", "expect_request": True, "expect_category": "water", "reviewed_by": " "}, "no reviewed_by"),
    ({"text": "哈哈", "expect_request": False, "expect_category": "water", "reviewed_by": "王芳"}, "labels do not fit"),
    ({"text": "停水了", "expect_request": True, "expect_category": "plumbing", "reviewed_by": "王芳"}, "labels do not fit"),
    ({"text": "哈哈", "expect_request": False, "expect_category": None, "expect_urgent": True, "reviewed_by": "王芳"},
     "labels do not fit"),
])
def test_a_group_line_nobody_reviewed_or_mislabelled_stops_training_with_its_place(tmp_path, record, says):
    ok = {"text": "A2积水", "expect_request": True, "expect_category": "drainage", "reviewed_by": "王芳"}
    path = _group_file(tmp_path, ok, record)
    with pytest.raises(train.UnreviewedLine, match=f"{path}:2: {says}"):
        train.group_records([path])


def test_training_refuses_an_unreviewed_group_file_and_leaves_the_model(tmp_path, monkeypatch, capsys):
    path = _group_file(tmp_path, {"text": "停水了", "expect_request": True, "expect_category": "water",
                                  "reviewed_by": None})
    monkeypatch.setattr(train, "GROUP_SETS", [path])
    before = train.MODEL_PATH.read_bytes()
    assert train.main([]) == 2
    assert f"not trained: {path}:1: no reviewed_by" in capsys.readouterr().err
    assert train.MODEL_PATH.read_bytes() == before


def test_one_class_or_no_feature_trains_a_prior_not_an_error():
    model = train.fit([(["甲"], 1), (["乙"], 1)], ["no", "yes"], 1.0)
    assert model.yes_probability(["甲"]) > 0.5
    assert train.fit([(["甲"], 0), (["乙"], 1)], ["no", "yes"], 1.0).yes_probability(["丙"]) == 0.5


def test_place_codes_read_as_places():
    """Anonymised places ("A3区") must not teach the model that a Latin letter means a request."""
    assert char_features("A市A3区金桥小区停电") == char_features("某市某区金桥小区停电")
    assert "a0栋" in char_features("A2栋停电") and "a" in char_features("A2栋停电")


def test_char_features_ignore_punctuation_style():
    assert char_features("堵了，污水流了") == char_features("堵了 污水流了") == char_features("堵了!!污水流了")
    assert "^0号" in char_features("3号楼") and "楼道灯" in char_features("楼道灯不亮")


def test_unseen_words_classified_from_character_bigrams(bare):
    # 水龙头 / 化粪池 misspelt so no rule word of the category matches; the model still reads 水, 关不住 / 粪, 冒
    for text, category in [("水笼头关不住了一直在滴", "water"), ("化粪持满了往外冒", "drainage")]:
        result = bare.classify(text)
        assert result.is_request and result.category == category, result.matched
        assert any(m.startswith(f"model:category {category}") for m in result.matched)
        assert not any(m.startswith("kw:") and f"({category}," in m for m in result.matched)


def test_context_overrides_beat_the_model(clf, forced):
    lobby = clf.classify("电梯口有人吵架，骂得可难听了")
    assert lobby.category != "elevator" and any("电梯口" in m for m in lobby.matched if m.startswith("ctx:"))
    ebike = clf.classify("电动车推进电梯里了")
    assert ebike.is_request and ebike.category == "fire_safety"
    assert not clf.classify("电梯已经修好了").is_request
    # a hard block wins even when the model is sure: drive the full path with the model's say forced to 0.99
    sure = forced("电梯已经修好了", 0.99)
    assert not sure.is_request and "block:resolved" in sure.matched


def test_confidence_tracks_the_evidence(clf):
    clear = clf.classify("3号楼电梯坏了，困了两个人在里面，快来人")
    vague = clf.classify("那个东西又不行了")
    assert clear.is_request and clear.confidence > 0.6
    assert not vague.is_request or vague.confidence < clear.confidence


def test_linear_model_round_trips_and_explains():
    model = LinearModel(["no", "yes"], [0.0, 0.0], {"坏": [-1.0, 1.0], "好": [1.0, -1.0]})
    again = LinearModel.from_json(json.loads(json.dumps(model.to_json())))
    assert again.probabilities(["坏", "了"])[1] > 0.5 > again.probabilities(["好"])[1]
    assert again.top_features(["坏", "好"], 1) == [("坏", 1.0)]
    assert abs(again.yes_probability(["坏", "了"]) - again.probabilities(["坏", "了"])[1]) < 1e-12


def test_compiled_model_cache_is_keyed_by_content(tmp_path, monkeypatch):
    from classifier.linear import load_models

    monkeypatch.setenv("MULIN_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "model.json"

    def write(weight):
        model = {"request": LinearModel(["no", "yes"], [0.0, 0.0], {"坏": [0.0, weight]}).to_json(),
                 "category": LinearModel(["water", "other"], [0.0, 0.0], {"水": [1.0, 0.0]}).to_json()}
        path.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")

    write(2.0)
    first = load_models(path)[0].yes_probability(["坏"])
    cached = list((tmp_path / "cache").glob("model-*.marshal"))
    assert len(cached) == 1
    again = load_models(path)  # read from the compiled copy
    assert again[0].yes_probability(["坏"]) == first and again[1].top_features(["水"], 0) == [("水", 1.0)]
    write(-2.0)  # retrained: a new key, the old copy removed, the new weights used
    assert load_models(path)[0].yes_probability(["坏"]) < 0.5 < first
    assert [p.name for p in (tmp_path / "cache").glob("model-*.marshal")] != [cached[0].name]


def test_explain_names_the_features_behind_the_category(bare):
    """The bot's path skips the feature names (a tenth of a request's time); `mulin classify` asks for them.
    The decision is the same either way."""
    text = "化粪持满了往外冒"
    plain, explained = bare.classify(text), bare.classify(text, explain=True)
    said = [m for m in plain.matched if m.startswith("model:category")]
    why = [m for m in explained.matched if m.startswith("model:category")]
    assert said and "(" not in said[0]
    assert why[0].startswith(said[0] + " (") and "粪" in why[0]
    assert (plain.is_request, plain.category, plain.urgent) == (explained.is_request, explained.category,
                                                                explained.urgent)


def test_the_register_model_learns_only_from_where_corpus_rows_come_from():
    records = [{"text": t, "expect_request": False, "_register": reg}
               for t, reg in (("恳请有关部门尽快处理小区噪音问题", "appeal"), ("现回复如下：经调查核实", "reply"),
                              ("哈哈今天好冷啊", "chat"))] * 3
    records.append({"text": "楼道灯不亮了", "expect_request": True})  # a labelled line: no register label
    feats = [train.features_of(r["text"]) for r in records]
    model = train.fit_register(records, feats)
    assert model.labels == list(train.REGISTERS)
    probs = dict(zip(model.labels, model.probabilities(train.features_of("经调查核实，现回复如下"))))
    assert max(probs, key=probs.get) == "reply", probs
    assert train.fit_register(records[-1:], feats[-1:]) is None  # no corpus rows: no register model


def test_the_shipped_register_model_tells_real_lines_apart(clf):
    """On the real dev split (lines the register model never saw: it learns from unlabelled rows only) each source
    is read as its own register."""
    from collections import Counter

    assert clf.register_model is not None
    right, total = Counter(), Counter()
    want = {"appeal": "appeal", "appeal_title": "appeal", "reply": "reply", "chat": "chat", "chat_keyword": "chat"}
    for record in train.read_records([train.DEV_SET]):
        probs = clf.register_model.probabilities(char_features(train.normalise(record["text"])))
        got = clf.register_model.labels[probs.index(max(probs))]
        total[record["group"]] += 1
        right[record["group"]] += got == want[record["group"]]
    share = {g: right[g] / total[g] for g in total}
    assert min(share.values()) >= 0.9, share


def test_models_are_read_in_order_up_to_the_first_one_missing():
    """The Classifier takes its models by position: a register model without an urgent model must not be read as
    the urgent one."""
    from classifier.linear import models_from

    def model(labels):
        return LinearModel(labels, [0.0] * len(labels), {}).to_json()

    full = {"request": model(["no", "yes"]), "category": model(["water", "other"]), "urgent": model(["no", "yes"]),
            "register": model(["appeal", "reply", "chat"])}
    assert [m.labels for m in models_from(full)][-1] == ["appeal", "reply", "chat"] and len(models_from(full)) == 4
    no_urgent = {k: v for k, v in full.items() if k != "urgent"}
    assert [m.labels for m in models_from(no_urgent)] == [["no", "yes"], ["water", "other"]]
