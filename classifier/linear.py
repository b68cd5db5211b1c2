"""A trained softmax (multinomial logistic) model over sparse binary features, stored as JSON."""
from __future__ import annotations

import json
import math
from pathlib import Path


class LinearModel:
    def __init__(self, labels: list[str], bias: list[float], weights: dict[str, list[float]]):
        self.labels = labels
        self.bias = bias
        self.weights = weights

    def logits(self, features: list[str]) -> list[float]:
        """Bias plus each present feature's weights, the features scaled by 1/sqrt(n) so long texts do not shout."""
        out = list(self.bias)
        known = [self.weights[f] for f in features if f in self.weights]
        if not known:
            return out
        scale = 1.0 / math.sqrt(len(features))
        n = len(out)
        for row in known:
            for k in range(n):
                out[k] += row[k] * scale
        return out

    def probabilities(self, features: list[str]) -> list[float]:
        return softmax(self.logits(features))

    def top_features(self, features: list[str], label: int, n: int = 3) -> list[tuple[str, float]]:
        """The features that pushed hardest towards `label` (relative to the mean of the others)."""
        pushes = []
        for f in features:
            row = self.weights.get(f)
            if row is not None:
                others = (sum(row) - row[label]) / max(1, len(row) - 1)
                pushes.append((row[label] - others, f))
        pushes.sort(reverse=True)
        return [(f, w) for w, f in pushes[:n] if w > 0]

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
