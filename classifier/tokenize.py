"""Text normalisation and the classifier's own jieba tokenizer (the global jieba.dt is never touched)."""
from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import Iterable

from core.cache import cache_dir

_UNSEEN = object()

USER_DICT = Path(__file__).parent / "data" / "userdict.txt"
MAX_CHARS = 2000
# Frequency floor for community and rule words, so "楼道灯不亮" cuts as 楼道灯/不亮, not 楼道/灯不亮.
WORD_FREQ = 2000
KNOWN_LIMIT = 200_000  # fragments whose dictionary status the segmenter remembers (~20 MB at most)
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def normalise(text: str) -> str:
    """NFKC folds full-width letters/digits; zero-width characters would split keywords."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text[:MAX_CHARS]))


def user_words() -> dict[str, int | None]:
    """The community dictionary in jieba's format (word [freq] [tag]); freq None means 'use the floor'."""
    words: dict[str, int | None] = {}
    for line in USER_DICT.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if parts and not parts[0].startswith("#"):
            words[parts[0]] = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    return words


def make_tokenizer(extra_words: Iterable[str]):
    """A private jieba.Tokenizer with the community dictionary plus `extra_words` (rule words, buildings). Its FREQ is
    a PrefixDict (read a first character at a time); the frequencies jieba gives the added words are computed once
    per word list and dictionary and kept in the cache directory."""
    import jieba  # deferred: not needed to read rules

    from classifier import prefixdict

    directory = cache_dir()
    grouped_path, grouped = prefixdict.grouped_file(directory)
    words = sorted(({w: None for w in extra_words if w.strip()} | user_words()).items())
    kept = prefixdict.added_words_file(directory, grouped_path.name, words, WORD_FREQ)
    tok = jieba.Tokenizer()
    tok.initialized = True  # its FREQ and total are set here: jieba must not load its own dictionary
    found = prefixdict.read_added(kept)
    if found is not None:
        tok.total, added = found
        tok.FREQ = prefixdict.PrefixDict(grouped, added)
        return tok
    tok.FREQ, tok.total = prefixdict.PrefixDict(grouped), grouped.total
    for word, freq in words:
        if freq is None:
            # single characters keep jieba's own frequency: boosting them would split ordinary words
            freq = max(tok.FREQ.get(word) or 0, tok.suggest_freq(word), WORD_FREQ if len(word) > 1 else 0)
        tok.add_word(word, freq)
    prefixdict.write_added(kept, tok.total, tok.FREQ.added)
    return tok


class Segmenter:
    """jieba's accurate mode without HMM, word for word what [t for t in tok.lcut(text, HMM=False) if not
    t.isspace()] gives, except that a run of letters and digits is always one token (jieba cuts a dictionary word such
    as 119 out of "20119"; see _block). Each word's log frequency is computed once per process and there are no
    generators: jieba recomputes a log per candidate word in every call, about half of its time."""

    def __init__(self, tok):
        import jieba

        self._han = jieba.re_han_default  # jieba's blocks; its single-letter pattern [a-zA-Z0-9] is isascii+isalnum
        self._freq = tok.FREQ
        self._logtotal = math.log(tok.total)
        # fragment -> its log probability, False for a mere prefix of a word, None for neither (the scan stops);
        # filled as fragments are met, and emptied when it reaches KNOWN_LIMIT entries
        self._known: dict[str, float | bool | None] = {}

    def words(self, text: str) -> list[str]:
        out: list[str] = []
        for i, blk in enumerate(self._han.split(text)):
            if i % 2:  # split with a group: odd pieces are the blocks jieba segments
                self._block(blk, out)
            else:  # the rest is one token per character, whitespace dropped
                out.extend(ch for ch in blk if not ch.isspace())
        return out

    def _learn(self, frag: str) -> float | bool | None:
        freq = self._freq.get(frag)
        if len(self._known) >= KNOWN_LIMIT:
            self._known.clear()  # arbitrary text must not grow the cache for ever: start over
        value = self._known[frag] = None if freq is None else math.log(freq) - self._logtotal if freq else False
        return value

    def _single(self, ch: str) -> float:
        """A character no dictionary word starts with (freq 0 or absent) counts as frequency 1, as in jieba."""
        return math.log(self._freq.get(ch) or 1) - self._logtotal

    def _block(self, s: str, out: list[str]) -> None:
        known = self._known
        n = len(s)
        score = [0.0] * (n + 1)
        end = [0] * (n + 1)
        for k in range(n - 1, -1, -1):
            best, best_x = None, k
            i = k
            while i < n:
                frag = s[k:i + 1]
                lp = known.get(frag, _UNSEEN)
                if lp is _UNSEEN:
                    lp = self._learn(frag)
                if lp is None:  # no dictionary word starts with frag: stop extending
                    break
                if lp is not False:  # a word, not just a prefix of one
                    value = lp + score[i + 1]
                    if best is None or value >= best:  # jieba's max over (score, end): a tie goes to the longer word
                        best, best_x = value, i
                i += 1
            if best is None:  # no dictionary word starts here: the character alone
                best = self._single(s[k]) + score[k + 1]
            score[k], end[k] = best, best_x
        x, buf = 0, ""
        while x < n:
            y = end[x] + 1
            word = s[x:y]
            # single letters and digits join into one token, as in jieba; so does a dictionary word of letters and
            # digits that touches them, which jieba cuts out ("20119" is no 20|119, "1100余户" no 110 for the police)
            if word.isascii() and word.isalnum() and (
                    y - x == 1 or buf or (y < n and s[y].isascii() and s[y].isalnum())):
                buf += word
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(word)
            x = y
        if buf:
            out.append(buf)
