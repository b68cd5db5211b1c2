"""The classifier owns its jieba.Tokenizer; the process-wide jieba.dt is never changed."""
import json
import random
from pathlib import Path

import jieba

from classifier import tokenize


def test_global_jieba_untouched(clf):
    jieba.dt.check_initialized()
    for word in ("楼道灯", "飞线充电", "电梯口", "百意大厦", "东苑小区"):
        assert not jieba.dt.FREQ.get(word), word
    assert clf.tokens("楼道灯不亮了")[:2] == ["楼道灯", "不亮"]
    assert "楼道灯" not in jieba.lcut("楼道灯不亮了")


def test_user_dictionary_and_buildings_segment_whole(clf):
    assert "化粪池" in clf.tokens("化粪池又满了")
    assert "电梯口" in clf.tokens("电梯口有人吵架")
    assert "百意大厦" in clf.tokens("百意大厦门口")


def test_prefix_dict_cached_in_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MULIN_CACHE_DIR", str(tmp_path / "cache"))
    tok = tokenize.make_tokenizer(["测试词语"])
    assert (tmp_path / "cache" / "jieba.cache").exists()
    assert "测试词语" in tok.lcut("一个测试词语", HMM=False)


def test_normalise():
    assert tokenize.normalise("ＡＢ１２３！") == "AB123!"
    assert tokenize.normalise("楼\u200b道\u2060灯\ufeff") == "楼道灯"
    assert len(tokenize.normalise("哈" * 5000)) == tokenize.MAX_CHARS


def test_segmenter_cuts_exactly_like_jieba_without_hmm(clf):
    """The classifier's own segmenter must give jieba's tokens, or rule matches would drift."""
    data = Path(__file__).resolve().parent.parent / "data" / "classifier"
    texts = [json.loads(line)["text"] for name in ("written/dev.jsonl", "real/dev.jsonl")
             for line in (data / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    texts += ["", "  ", "abc12 3号楼2单元 WiFi坏了!!", "C++和#号、100%  \r\n换行\t制表", "楼道灯不亮了——谁管？"]
    rng = random.Random(7)
    alphabet = "".join(sorted({ch for t in texts for ch in t}))
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(500)]
    for text in texts:
        norm = tokenize.normalise(text)
        assert clf._words(norm) == [t for t in clf._tok.lcut(norm, HMM=False) if not t.isspace()], norm


def test_segmenter_memory_is_bounded_and_its_cut_unchanged(clf, monkeypatch):
    monkeypatch.setattr(tokenize, "KNOWN_LIMIT", 50)
    segmenter = tokenize.Segmenter(clf._tok)
    text = "二单元下水道堵了污水流了一地楼道灯又不亮了电梯口有人吵架" * 3
    expected = [t for t in clf._tok.lcut(text, HMM=False) if not t.isspace()]
    assert segmenter.words(text) == expected
    assert 0 < len(segmenter._known) <= 50
    assert segmenter.words(text) == expected  # after clearing, the same cut
