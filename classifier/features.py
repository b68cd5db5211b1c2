"""Features the statistical model reads: character n-grams (robust to typos and unseen words) and jieba tokens."""
from __future__ import annotations

import re
from operator import add

# A long appeal is judged on its start and its end, where it says what is wrong and what it asks ("望处理");
# the middle of a 600-character letter adds cost more than evidence.
HEAD_CHARS = 300
TAIL_CHARS = 100
_DIGIT = re.compile(r"\d+")
# Spaces and punctuation are one clause break: "堵了，污水" and "堵了 污水" are the same message in two styles.
_BREAK = re.compile(r"[\W_]+")
# Place codes ("A市", "A3区", "K4县": how anonymised appeals name places) read as 某市, 某区: a letter there is a place,
# and a model must not learn that any Latin letter means a request ("A2栋" keeps its letter).
_PLACE_CODE = re.compile(r"[A-Za-z]\d{0,2}(?=[市区县镇乡])")


def char_features(norm: str) -> set[str]:
    """Character unigrams, bigrams and trigrams of the normalised text, with ^/$ marking its ends; digits folded.
    A set: training sorts it, so the summation order (and the model file) is the same in every process."""
    if len(norm) > HEAD_CHARS + TAIL_CHARS:
        norm = norm[:HEAD_CHARS] + " " + norm[-TAIL_CHARS:]
    text = "^" + _BREAK.sub(" ", _DIGIT.sub("0", _PLACE_CODE.sub("某", norm).lower())).strip() + "$"
    bigrams = list(map(add, text, text[1:]))  # map over shifted copies: no Python-level loop per character
    grams = set(bigrams)
    grams.update(map(add, bigrams, text[2:]))
    grams.update(text[1:-1])
    grams.discard(" ")
    return grams

