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


def _jieba_with(words: list[str]):
    """What make_tokenizer built before its dictionary was read in groups: jieba's whole dictionary, words added."""
    tok = jieba.Tokenizer()
    tok.initialize()
    for word, freq in sorted(({w: None for w in words} | tokenize.user_words()).items()):
        if freq is None:
            freq = max(tok.FREQ.get(word) or 0, tok.suggest_freq(word), tokenize.WORD_FREQ if len(word) > 1 else 0)
        tok.add_word(word, freq)
    return tok


def test_grouped_dictionary_and_added_words_cached_in_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MULIN_CACHE_DIR", str(tmp_path / "cache"))
    words = ["测试词语", "楼道灯不亮", "百意大厦"]
    tok = tokenize.make_tokenizer(words)
    assert len(list((tmp_path / "cache").glob("jieba-grouped-*.bin"))) == 1
    assert len(list((tmp_path / "cache").glob("jieba-words-*.marshal"))) == 1
    assert "测试词语" in tok.lcut("一个测试词语", HMM=False)

    def no_jieba_needed(*args, **kwargs):
        raise AssertionError("the added words' frequencies are read from the cache, not computed again")

    monkeypatch.setattr(jieba.Tokenizer, "suggest_freq", no_jieba_needed)
    again = tokenize.make_tokenizer(words)
    assert again.total == tok.total and again.FREQ.added == tok.FREQ.added
    assert again.lcut("一个测试词语", HMM=False) == tok.lcut("一个测试词语", HMM=False)


def test_grouped_dictionary_is_jiebas_own(tmp_path, monkeypatch):
    """Every entry, the total and the added words' frequencies as jieba's whole dictionary has them."""
    monkeypatch.setenv("MULIN_CACHE_DIR", str(tmp_path / "cache"))
    words = ["测试词语", "楼道灯不亮", "百意大厦", "电梯口", "飞线充电", "A2栋"]
    grouped, whole = tokenize.make_tokenizer(words), _jieba_with(words)
    assert grouped.total == whole.total
    assert all(grouped.FREQ.get(word) == freq for word, freq in whole.FREQ.items())
    assert grouped.FREQ.get("不在词典里的片段") is None and "不在词典里的片段" not in grouped.FREQ
    assert grouped.FREQ.get("") is None
    from_cache = tokenize.make_tokenizer(words)
    assert all(from_cache.FREQ.get(word) == freq for word, freq in whole.FREQ.items())


def test_unwritable_cache_dir_still_cuts(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("MULIN_CACHE_DIR", str(blocked / "cache"))
    tok = tokenize.make_tokenizer(["测试词语"])
    assert "测试词语" in tok.lcut("一个测试词语", HMM=False)
    assert tok.total == _jieba_with(["测试词语"]).total


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
        assert clf._words(norm) == jieba_cut(clf._tok, norm), norm


def jieba_cut(tok, text: str) -> list[str]:
    """jieba's tokens without HMM and whitespace, with each run of letters and digits one token: jieba joins single
    letters and digits itself, but cuts a dictionary word out of a longer run ("20119" as 20|119)."""
    out: list[str] = []
    for t in tok.lcut(text, HMM=False):
        if out and t.isascii() and t.isalnum() and out[-1].isascii() and out[-1].isalnum():
            out[-1] += t
        else:
            out.append(t)
    return [t for t in out if not t.isspace()]


def test_a_run_of_digits_stays_whole(clf):
    """jieba cuts the alarm numbers out of longer numbers; the segmenter keeps the run, and no rule looks inside it."""
    assert clf._tok.lcut("20119年暑假", HMM=False)[:2] == ["20", "119"]
    assert clf._words("20119年暑假")[0] == "20119"
    assert clf._words("住户1100余户")[1] == "1100"
    assert clf._words("快打119")[-1] == "119"
    assert clf.inner_words("20119") == ()
    fire = clf.classify("20119年暑假，学校强制学生补课，请教育局查处")
    assert not fire.urgent, fire.matched
    assert clf.classify("楼道着火了，已经打了119").urgent


def test_segmenter_memory_is_bounded_and_its_cut_unchanged(clf, monkeypatch):
    monkeypatch.setattr(tokenize, "KNOWN_LIMIT", 50)
    segmenter = tokenize.Segmenter(clf._tok)
    text = "二单元下水道堵了污水流了一地楼道灯又不亮了电梯口有人吵架" * 3
    expected = jieba_cut(clf._tok, text)
    assert segmenter.words(text) == expected
    assert 0 < len(segmenter._known) <= 50
    assert segmenter.words(text) == expected  # after clearing, the same cut
