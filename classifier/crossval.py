"""k-fold cross-validation of the whole classifier (rules + a model trained on the other folds):
`python -m classifier.crossval [--folds 5] FILE...` prints each fold's metrics and their mean."""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import TextIO

from classifier.evaluate import Tally
from classifier.linear import LinearModel
from classifier.train import read_records, train

METRICS = ("request_recall", "false_alarm", "category_accuracy", "urgent_recall")


def folds(records: list[dict], k: int, seed: int = 0) -> list[list[dict]]:
    """k disjoint parts of a fixed shuffle: requests and chatter dealt separately so each part has its share."""
    rng = random.Random(seed)
    parts: list[list[dict]] = [[] for _ in range(k)]
    for want in (True, False):
        group = [r for r in records if bool(r.get("expect_request")) == want]
        rng.shuffle(group)
        for i, record in enumerate(group):
            parts[i % k].append(record)
    return parts


def cross_validate(records: list[dict], k: int, rules, buildings, out: TextIO) -> dict[str, float]:
    from classifier.engine import Classifier

    parts = folds(records, k)
    totals = dict.fromkeys(METRICS, 0.0)
    for i, test in enumerate(parts):
        model = train([r for j, part in enumerate(parts) if j != i for r in part], rules)
        clf = Classifier(rules, (LinearModel.from_json(model["request"]), LinearModel.from_json(model["category"])),
                         buildings)
        tally = Tally(clf)
        for record in test:
            tally.add(record, clf.classify(record["text"]))
        metrics = tally.metrics()
        out.write(f"fold {i + 1}/{k} ({len(test)} messages): "
                  + "  ".join(f"{m} {metrics[m]:.3f}" for m in METRICS) + "\n")
        for m in METRICS:
            totals[m] += metrics[m] / k
    out.write("mean: " + "  ".join(f"{m} {totals[m]:.3f}" for m in METRICS) + "\n")
    return totals


def main(argv: list[str] | None = None) -> int:
    from classifier.cli import ConfigBuildings
    from classifier.location import BuildingIndex
    from classifier.rules import load_rules

    parser = argparse.ArgumentParser(prog="python -m classifier.crossval")
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--config", default=str(Path(__file__).resolve().parent.parent / "config.yaml"))
    args = parser.parse_args(argv)
    buildings = BuildingIndex(ConfigBuildings(args.config).building_aliases())
    cross_validate(read_records(args.files), args.folds, load_rules(), buildings, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
