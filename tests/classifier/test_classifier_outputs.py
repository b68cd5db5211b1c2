"""How the classifier is loaded and stored (model file format, dictionary, caches) must not change what it decides:
every real dev and test line gets the recorded decision, reasons and scores (to 1e-9), with the shipped config's
buildings and without. A failure names the file, the line number and the field, never the text.

After a deliberate change of the model, rules or data, record anew (the old file is replaced):
    .venv/bin/python -c 'from tests.classifier.test_classifier_outputs import record; record()'
"""
from __future__ import annotations

import gzip
import hashlib
import json
import math
from pathlib import Path

import pytest

from classifier.features import char_features
from classifier.tokenize import normalise

REAL = Path(__file__).resolve().parents[1] / "data" / "classifier" / "real"
RECORDED = Path(__file__).resolve().parents[1] / "data" / "classifier_outputs" / "real_outputs.json.gz"
SPLITS = ("dev.jsonl", "test.jsonl")
TOLERANCE = 1e-9


def outputs(clf, text: str) -> dict:
    """Everything a decision rests on: the result as the bot gets it, as `mulin classify` explains it, the request
    model's probability and the scorer's logits (category logits, then the urgent log-odds)."""
    norm = normalise(text)
    features = char_features(norm)
    return {"sha1": hashlib.sha1(text.encode()).hexdigest()[:12],
            "result": clf.classify(text).to_dict(),
            "explained": clf.classify(text, explain=True).to_dict(),
            "p_request": clf.request_model.yes_probability(features) if features else None,
            "scores": clf._scorer.logits(features) if features else None}


def _texts(name: str) -> list[str]:
    return [json.loads(line)["text"] for line in (REAL / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _all(clfs: dict) -> dict:
    return {f"{which}/{name}": [outputs(clf, t) for t in _texts(name)] for which, clf in clfs.items() for name in SPLITS}


def record() -> None:
    """Writes the outputs of the current code; prints only the file written."""
    import classifier
    from tests.classifier.conftest import CONFIG
    from classifier.cli import ConfigBuildings

    RECORDED.parent.mkdir(parents=True, exist_ok=True)
    data = _all({"config": classifier.load(ConfigBuildings(str(CONFIG))), "bare": classifier.load()})
    RECORDED.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False, sort_keys=True).encode(), mtime=0))
    print(RECORDED)


def _differences(path: str, want, got) -> list[str]:
    if isinstance(want, float) and isinstance(got, float):
        return [] if math.isclose(want, got, rel_tol=0, abs_tol=TOLERANCE) else [path]
    if isinstance(want, dict) and isinstance(got, dict):
        if want.keys() != got.keys():
            return [f"{path} keys"]
        return [d for k in want for d in _differences(f"{path}.{k}", want[k], got[k])]
    if isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            return [f"{path} length"]
        return [d for i, (w, g) in enumerate(zip(want, got)) for d in _differences(f"{path}[{i}]", w, g)]
    return [] if want == got and type(want) is type(got) else [path]


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(gzip.decompress(RECORDED.read_bytes()))


@pytest.mark.parametrize("which", ["config", "bare"])
@pytest.mark.parametrize("name", SPLITS)
def test_every_real_line_decided_as_recorded(recorded, clf, bare, which, name):
    want = recorded[f"{which}/{name}"]
    texts = _texts(name)
    assert len(texts) == len(want), "the split changed since the outputs were recorded: record anew"
    on = clf if which == "config" else bare
    differences = []
    for number, (text, expected) in enumerate(zip(texts, want), 1):
        got = outputs(on, text)
        assert got["sha1"] == expected["sha1"], f"{name} line {number} changed since the outputs were recorded"
        differences += [f"{name} line {number}: {d}" for d in _differences("", expected, got)]
    assert not differences, differences[:20]


def test_the_comparison_sees_a_change():
    base = {"result": {"is_request": True, "confidence": 0.5}, "p_request": 0.25, "scores": [1.0, -2.0]}
    assert not _differences("", base, json.loads(json.dumps(base)))
    assert _differences("", base, {**base, "p_request": 0.25 + 2e-9}) == [".p_request"]
    assert _differences("", base, {**base, "result": {"is_request": False, "confidence": 0.5}}) == [".result.is_request"]
    assert _differences("", base, {**base, "scores": [1.0]}) == [".scores length"]
