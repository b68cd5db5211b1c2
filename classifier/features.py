"""Features the statistical model reads: character n-grams (robust to typos and unseen words) and jieba tokens."""
from __future__ import annotations

import re
from operator import add

# Long appeals say what matters early; more characters only add cost.
FEATURE_CHARS = 160
_DIGIT = re.compile(r"\d+")
# Spaces and punctuation are one clause break: "堵了，污水" and "堵了 污水" are the same message in two styles.
_BREAK = re.compile(r"[\W_]+")


def char_features(norm: str) -> set[str]:
    """Character unigrams, bigrams and trigrams of the normalised text, with ^/$ marking its ends; digits folded.
    A set: training sorts it, so the summation order (and the model file) is the same in every process."""
    text = "^" + _BREAK.sub(" ", _DIGIT.sub("0", norm[:FEATURE_CHARS].lower())).strip() + "$"
    bigrams = list(map(add, text, text[1:]))  # map over shifted copies: no Python-level loop per character
    grams = set(bigrams)
    grams.update(map(add, bigrams, text[2:]))
    grams.update(text[1:-1])
    grams.discard(" ")
    return grams

