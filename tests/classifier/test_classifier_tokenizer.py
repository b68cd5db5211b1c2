"""The classifier owns its jieba.Tokenizer; the process-wide jieba.dt is never changed."""
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
