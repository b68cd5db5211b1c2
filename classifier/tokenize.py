"""Text normalisation and the classifier's own jieba tokenizer (the global jieba.dt is never touched)."""
from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Iterable

USER_DICT = Path(__file__).parent / "data" / "userdict.txt"
MAX_CHARS = 2000
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalise(text: str) -> str:
    """NFKC folds full-width letters/digits; zero-width characters would split keywords."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text[:MAX_CHARS]))


def cache_dir() -> Path:
    if os.environ.get("MULIN_CACHE_DIR"):
        return Path(os.environ["MULIN_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mulin"


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
    tok.load_userdict(str(USER_DICT))
    for word in sorted(set(extra_words)):
        if word.strip():
            tok.add_word(word)  # freq just high enough that the word is cut whole
    return tok
