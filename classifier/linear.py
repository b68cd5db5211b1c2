"""A trained softmax (multinomial logistic) model over sparse binary features, stored as JSON; each process
loads a compiled copy (feature names and a float64 matrix, marshalled) from the cache directory, which is
written the first time a model file is seen and keyed by its content, so a retrained model is never stale."""
from __future__ import annotations

import hashlib
import json
import marshal
import math
import os
from itertools import repeat
from operator import sub
from pathlib import Path

import numpy as np


class LinearModel:
    """The weights live in one numpy table with a row per feature (row 0 all zeros, see known()), so scoring a
    message is one gather and one column sum instead of a Python loop over ~100 features x 19 labels. The JSON
    form (`weights`) is derived from it when training writes the model file."""

    def __init__(self, labels: list[str], bias: list[float], weights: dict[str, list[float]] | None = None,
                 *, names: list[str] | None = None, matrix: np.ndarray | None = None):
        self.labels = labels
        self.bias = bias
        if weights is not None:
            names, matrix = list(weights), list(weights.values())
        self._names = names
        self._rows: dict[str, int] | None = None
        self._table = np.zeros((len(names) + 1, len(labels)), dtype=np.float64)
        if len(names):
            self._table[1:] = matrix
        self._bias = np.array(bias, dtype=np.float64)
        self._diff: dict[str, float] | None = None

    @property
    def _row(self) -> dict[str, int]:
        """feature -> its row, counted from 1 over a table whose row 0 is zeros: "no such feature" is 0, so
        filter(None, map(...)) drops unknown features in C, with no Python-level test per feature. Built on first
        use: a model only asked for yes_probability (the request model), or merged into another (with_urgency),
        never needs it, and a dict of ~100k features costs memory in every process."""
        if self._rows is None:
            self._rows = dict(zip(self._names, range(1, len(self._names) + 1)))
        return self._rows

    @property
    def _matrix(self) -> np.ndarray:
        """The feature rows without the zero row (a view, not a copy)."""
        return self._table[1:]

    @property
    def weights(self) -> dict[str, list[float]]:
        """feature -> one weight per label (the JSON form)."""
        return dict(zip(self._names, self._matrix.tolist()))

    def known(self, features) -> tuple[list[int], np.ndarray]:
        """The row numbers of the features this model has weights for, and those rows: gathered once for
        logits and top_features."""
        rows = list(filter(None, map(self._row.get, features)))
        return rows, self._table.take(rows, axis=0)

    def _logits(self, features, known) -> np.ndarray:
        rows, block = known
        if not rows:
            return self._bias
        # each feature scaled by 1/sqrt(n) so long texts do not shout
        return self._bias + block.sum(axis=0) * (1.0 / math.sqrt(len(features)))

    def logits(self, features, known=None) -> list[float]:
        """Bias plus each present feature's weights, the features scaled by 1/sqrt(n)."""
        return self._logits(features, known or self.known(features)).tolist()

    def probabilities(self, features, known=None) -> list[float]:
        z = self._logits(features, known or self.known(features))
        e = np.exp(z - z.max())
        return (e / e.sum()).tolist()

    def log_probabilities(self, features, known=None) -> list[float]:
        return log_softmax(self.logits(features, known))

    def top_features(self, features, label: int, n: int = 3, known=None) -> list[tuple[str, float]]:
        """The present features with the largest positive weights for `label`. Every feature tied with the n-th
        is considered and ties go to the larger name, so the answer never depends on a set's (hash-seeded) order."""
        rows, block = known or self.known(features)
        column = block[:, label]
        if not len(column):
            return []
        cut = np.partition(column, -n)[-n] if len(column) > n else 0.0  # the n-th largest weight
        if cut <= 0:  # fewer than n weights, or fewer than n positive ones: the smallest positive one
            positive = column[column > 0]
            if not len(positive):
                return []
            cut = positive.min()
        names = self._names
        tied = sorted([(column[i].item(), names[rows[i] - 1]) for i in np.flatnonzero(column >= cut)], reverse=True)
        return [(f, w) for w, f in tied[:n]]

    def yes_probability(self, features) -> float:
        """For a two-label model: P(label 1), from one weight difference per feature (half the work of logits).
        Plain Python here: a chatter message has few known features, and numpy's per-call cost would dominate."""
        if self._diff is None:
            self._diff = dict(zip(self._names, (self._matrix[:, 1] - self._matrix[:, 0]).tolist()))
        # unknown features give None, dropped; dropping zero differences too leaves the sum unchanged
        total = sum(filter(None, map(self._diff.get, features)))
        z = self.bias[1] - self.bias[0] + (total / math.sqrt(len(features)) if total else 0.0)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def to_json(self) -> dict:
        return {"labels": self.labels, "bias": self.bias, "weights": self.weights}

    @classmethod
    def from_json(cls, data: dict) -> "LinearModel":
        return cls(list(data["labels"]), list(data["bias"]), dict(data["weights"]))


def log_softmax(z: list[float]) -> list[float]:
    """As plain floats (19 values: numpy's per-call cost outweighs the arithmetic)."""
    top = max(z)
    norm = top + math.log(sum(map(math.exp, map(sub, z, repeat(top)))))
    return [v - norm for v in z]


def with_urgency(category: LinearModel, urgent: LinearModel) -> LinearModel:
    """The category model with one more column, the urgent model's log-odds (its yes minus no weights), so a request
    gathers its feature rows once and one sum gives both the category logits and the urgent log-odds."""
    known = set(category._names)
    names = category._names + [n for n in urgent._names if n not in known]
    matrix = np.zeros((len(names), len(category.labels) + 1), dtype=np.float64)
    matrix[:len(category._names), :-1] = category._matrix
    if urgent._names:
        at = dict(zip(names, range(len(names))))
        matrix[[at[n] for n in urgent._names], -1] = urgent._matrix[:, 1] - urgent._matrix[:, 0]
    return LinearModel([*category.labels, "(urgent)"], [*category.bias, urgent.bias[1] - urgent.bias[0]],
                       names=names, matrix=matrix)


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


MODEL_NAMES = ("request", "category", "urgent")


def load_models(path: Path) -> tuple[LinearModel, ...]:
    """(request model with labels [no, yes], category model, urgent model [no, yes]) from the JSON written by
    classifier.train; a model file from before the urgent model gives the first two.
    Parsing 3 MB of JSON costs a fifth of a second at every start; the compiled copy a few milliseconds."""
    from classifier.tokenize import cache_dir

    raw = path.read_bytes()
    cached = cache_dir() / f"model-{hashlib.sha1(raw).hexdigest()[:16]}.marshal"
    try:
        return tuple(_from_compiled(part) for part in marshal.loads(cached.read_bytes()))  # type: ignore[return-value]
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        pass  # first start with this model, or an unreadable cache: parse the JSON and (try to) write the cache
    data = json.loads(raw)
    models = tuple(LinearModel.from_json(data[name]) for name in MODEL_NAMES if name in data)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps([_compiled(m) for m in models]))
        os.replace(tmp, cached)  # atomic: a concurrent start reads the old state or the whole new file
        for old in cached.parent.glob("model-*.marshal"):
            if old != cached:
                old.unlink(missing_ok=True)  # copies of models retrained since
    except OSError:
        pass
    return models


def _compiled(model: LinearModel) -> dict:
    return {"labels": model.labels, "bias": model.bias, "names": model._names,
            "shape": list(model._matrix.shape), "matrix": model._matrix.tobytes()}


def _from_compiled(part: dict) -> LinearModel:
    matrix = np.frombuffer(part["matrix"], dtype=np.float64).reshape(part["shape"])
    return LinearModel(part["labels"], part["bias"], names=part["names"], matrix=matrix)
