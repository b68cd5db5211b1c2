"""A trained softmax (multinomial logistic) model over sparse binary features, stored as JSON."""
from __future__ import annotations

import heapq
import json
import math
from operator import itemgetter
from pathlib import Path


class LinearModel:
    def __init__(self, labels: list[str], bias: list[float], weights: dict[str, list[float]]):
        self.labels = labels
        self.bias = bias
        self.weights = weights
        self._diff: dict[str, float] | None = None

    def known(self, features) -> tuple[list[str], list[list[float]]]:
        """The features this model has weights for, and their rows: look up once for logits and top_features."""
        names = list(filter(self.weights.__contains__, features))
        return names, list(map(self.weights.__getitem__, names))

    def logits(self, features, known=None) -> list[float]:
        """Bias plus each present feature's weights, the features scaled by 1/sqrt(n) so long texts do not shout."""
        known = (known or self.known(features))[1]
        if not known:
            return list(self.bias)
        scale = 1.0 / math.sqrt(len(features))
        # zip(*rows) hands over the columns in C; each sums in feature order, as a running sum per column would
        return [b + sum(column) * scale for b, column in zip(self.bias, zip(*known))]

    def probabilities(self, features, known=None) -> list[float]:
        return softmax(self.logits(features, known))

    def top_features(self, features, label: int, n: int = 3, known=None) -> list[tuple[str, float]]:
        """The present features with the largest positive weights for `label`."""
        names, rows = known or self.known(features)
        pushes = heapq.nlargest(n, zip(map(itemgetter(label), rows), names))
        return [(f, w) for w, f in pushes if w > 0]

    def yes_probability(self, features) -> float:
        """For a two-label model: P(label 1), from one weight difference per feature (half the work of logits)."""
        if self._diff is None:
            self._diff = {f: row[1] - row[0] for f, row in self.weights.items()}
        # unknown features give None, dropped; dropping zero differences too leaves the sum unchanged
        total = sum(filter(None, map(self._diff.get, features)))
        z = self.bias[1] - self.bias[0] + (total / math.sqrt(len(features)) if total else 0.0)
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def to_json(self) -> dict:
        return {"labels": self.labels, "bias": self.bias, "weights": self.weights}

    @classmethod
    def from_json(cls, data: dict) -> "LinearModel":
        return cls(list(data["labels"]), list(data["bias"]), dict(data["weights"]))


def softmax(logits: list[float]) -> list[float]:
    top = max(logits)
    exps = [math.exp(v - top) for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def load_models(path: Path) -> tuple[LinearModel, LinearModel]:
    """(request model with labels [no, yes], category model) from the JSON written by classifier.train."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return LinearModel.from_json(data["request"]), LinearModel.from_json(data["category"])
