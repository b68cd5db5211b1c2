"""Text normalisation and the classifier's own jieba tokenizer (the global jieba.dt is never touched)."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable

USER_DICT = Path(__file__).parent / "data" / "userdict.txt"
MAX_CHARS = 2000
# Frequency floor for community and rule words, so "楼道灯不亮" cuts as 楼道灯/不亮, not 楼道/灯不亮.
WORD_FREQ = 2000
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalise(text: str) -> str:
    """NFKC folds full-width letters/digits; zero-width characters would split keywords."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text[:MAX_CHARS]))


def cache_dir() -> Path:
    if os.environ.get("MULIN_CACHE_DIR"):
        return Path(os.environ["MULIN_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mulin"


def user_words() -> dict[str, int | None]:
    """The community dictionary in jieba's format (word [freq] [tag]); freq None means 'use the floor'."""
    words: dict[str, int | None] = {}
    for line in USER_DICT.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            words[parts[0]] = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return words


def make_tokenizer(extra_words: Iterable[str]):
    """A private jieba.Tokenizer with the community dictionary plus `extra_words` (rule words, buildings)."""
    import jieba  # deferred: importing jieba costs ~0.2 s, not needed to read rules

    tok = jieba.Tokenizer()
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tok.tmp_dir = str(directory)
        tok.cache_file = "jieba.cache"
    except OSError:
        pass  # unwritable cache dir: jieba falls back to its default temp dir
    tok.initialize()
    words = {w: None for w in extra_words if w.strip()} | user_words()
    for word, freq in sorted(words.items()):
        if freq is None:
            # single characters keep jieba's own frequency: boosting them would split ordinary words
            freq = max(tok.FREQ.get(word) or 0, tok.suggest_freq(word), WORD_FREQ if len(word) > 1 else 0)
        tok.add_word(word, freq)
    return tok
