"""A trained softmax (multinomial logistic) model over sparse binary features, stored as JSON; each process
loads a compiled copy (feature names and the weights as raw float64s, marshalled) from the cache directory, which is
written the first time a model file is seen and keyed by its content, so a retrained model is never stale.
Scoring is plain Python over an array of doubles: importing numpy would cost ~0.09 s at every start, more than the
arithmetic of a day's messages."""
from __future__ import annotations

import hashlib
import json
import marshal
import math
import os
from array import array
from itertools import repeat
from operator import sub
from pathlib import Path


class LinearModel:
    """The weights live in one flat array of doubles, a row per feature in the order of `_names`, so a message
    gathers its rows (slices, no Python float per weight) and sums them column by column. The JSON form
    (`weights`) is derived from it when training writes the model file."""

    def __init__(self, labels: list[str], bias: list[float], weights: dict[str, list[float]] | None = None,
                 *, names: list[str] | None = None, matrix=None):
        """matrix: the rows as an array('d') laid out row after row, a numpy array (training), or lists."""
        self.labels = labels
        self.bias = bias
        self._width = len(labels)
        if weights is not None:
            names, matrix = list(weights), list(weights.values())
        self._names = names
        self._rows: dict[str, int] | None = None
        if isinstance(matrix, array):
            self._flat = matrix
        else:
            self._flat = array("d")
            if hasattr(matrix, "tobytes"):  # numpy, from training: its rows in C order
                self._flat.frombytes(matrix.astype("float64").tobytes())
            else:
                for row in matrix or ():
                    self._flat.extend(row)
        self._diff: dict[str, float] | None = None

    @property
    def _row(self) -> dict[str, int]:
        """feature -> its row, counted from 1: "no such feature" is 0 (see known()), so filter(None, map(...)) drops
        unknown features in C, with no Python-level test per feature. Built on first use: a model only asked for
        yes_probability (the request model), or merged into another (with_urgency), never needs it, and a dict of
        ~100k features costs memory in every process."""
        if self._rows is None:
            self._rows = dict(zip(self._names, range(1, len(self._names) + 1)))
        return self._rows

    def _block(self, row: int) -> array:
        """Row `row` (counted from 1) of the weights."""
        return self._flat[(row - 1) * self._width:row * self._width]

    @property
    def weights(self) -> dict[str, list[float]]:
        """feature -> one weight per label (the JSON form)."""
        return {name: self._block(row).tolist() for row, name in enumerate(self._names, 1)}

    def known(self, features) -> tuple[list[int], list[array]]:
        """The row numbers of the features this model has weights for, and those rows: gathered once for
        logits and top_features."""
        rows = list(filter(None, map(self._row.get, features)))
        return rows, list(map(self._block, rows))

    def logits(self, features, known=None) -> list[float]:
        """Bias plus each present feature's weights, the features scaled by 1/sqrt(n) so long texts do not shout;
        each column summed in the order of the features, row after row."""
        rows, block = known or self.known(features)
        if not rows:
            return list(self.bias)
        scale = 1.0 / math.sqrt(len(features))
        return [b + sum(column) * scale for b, column in zip(self.bias, zip(*block))]

    def probabilities(self, features, known=None) -> list[float]:
        return softmax(self.logits(features, known))

    def log_probabilities(self, features, known=None) -> list[float]:
        return log_softmax(self.logits(features, known))

    def top_features(self, features, label: int, n: int = 3, known=None) -> list[tuple[str, float]]:
        """The present features with the largest positive weights for `label`. Every feature tied with the n-th
        is considered and ties go to the larger name, so the answer never depends on a set's (hash-seeded) order."""
        rows, block = known or self.known(features)
        column = [row[label] for row in block]
        if not column:
            return []
        cut = sorted(column)[-n] if len(column) > n else 0.0  # the n-th largest weight
        if cut <= 0:  # fewer than n weights, or fewer than n positive ones: the smallest positive one
            positive = [w for w in column if w > 0]
            if not positive:
                return []
            cut = min(positive)
        names = self._names
        tied = sorted([(w, names[rows[i] - 1]) for i, w in enumerate(column) if w >= cut], reverse=True)
        return [(f, w) for w, f in tied[:n]]

    def yes_probability(self, features) -> float:
        """For a two-label model: P(label 1), from one weight difference per feature (half the work of logits)."""
        if self._diff is None:
            flat, width = self._flat, self._width
            self._diff = dict(zip(self._names, map(sub, flat[1::width], flat[0::width])))
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
    width, old = category._width + 1, category._width
    flat = array("d", bytes(8 * width * len(names)))
    for i in range(len(category._names)):
        flat[i * width:i * width + old] = category._flat[i * old:(i + 1) * old]
    if urgent._names:
        at = dict(zip(names, range(len(names))))
        odds = map(sub, urgent._flat[1::urgent._width], urgent._flat[0::urgent._width])
        for name, value in zip(urgent._names, odds):
            flat[at[name] * width + old] = value
    return LinearModel([*category.labels, "(urgent)"], [*category.bias, urgent.bias[1] - urgent.bias[0]],
                       names=names, matrix=flat)


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


MODEL_NAMES = ("request", "category", "urgent", "register")


def load_models(path: Path) -> tuple[LinearModel, ...]:
    """(request model with labels [no, yes], category model, urgent model [no, yes], register model [appeal, reply,
    chat]) from the JSON written by classifier.train; a model file from before the urgent or register model gives the
    first two or three.
    Parsing 3 MB of JSON costs a fifth of a second at every start; the compiled copy a few milliseconds."""
    from classifier.tokenize import cache_dir

    raw = path.read_bytes()
    cached = cache_dir() / f"model-{hashlib.sha1(raw).hexdigest()[:16]}.marshal"
    try:
        return tuple(_from_compiled(part) for part in marshal.loads(cached.read_bytes()))  # type: ignore[return-value]
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        pass  # first start with this model, or an unreadable cache: parse the JSON and (try to) write the cache
    data = json.loads(raw)
    models = models_from(data)
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


def models_from(data: dict) -> tuple[LinearModel, ...]:
    """The models in MODEL_NAMES order up to the first one the file lacks: the Classifier takes them by position, so
    a file without an urgent model gives no register model either (it would be read as the urgent one)."""
    models = []
    for name in MODEL_NAMES:
        if name not in data:
            break
        models.append(LinearModel.from_json(data[name]))
    return tuple(models)


def _compiled(model: LinearModel) -> dict:
    return {"labels": model.labels, "bias": model.bias, "names": model._names, "rows": model._flat.tobytes()}


def _from_compiled(part: dict) -> LinearModel:
    flat = array("d")
    flat.frombytes(part["rows"])
    return LinearModel(part["labels"], part["bias"], names=part["names"], matrix=flat)
