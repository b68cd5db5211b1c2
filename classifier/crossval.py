"""k-fold cross-validation of the whole classifier (rules + a model trained on the other folds):
`python -m classifier.crossval [--folds 5] FILE...` prints the pooled metrics;
`python -m classifier.crossval --dev [--grid ...]` trains once on the training data (as `python -m classifier.train`
does) and scores the real dev split, per source;
`python -m classifier.crossval --real-folds [--grid ...]` also scores the real training lines, each with a request model
trained without its fold (folds by source row, with the written and weak lines), next to the dev split: 5x the real
lines the dev split alone has, and the way the engine's constants are chosen (the dev split holds 16 colloquial
requests, the training split 90)."""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import TextIO

from classifier.evaluate import Tally
from classifier.linear import models_from
from classifier.train import DEV_SET, read_records, train, training_records, weak_records

METRICS = ("request_recall", "false_alarm", "category_accuracy", "urgent_recall", "urgent_precision")


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


def fold_models(records: list[dict], k: int, rules, buildings) -> list[tuple[object, list[dict]]]:
    """(classifier trained on the other folds, this fold's records) for each of k folds."""
    from classifier.engine import Classifier

    parts = folds(records, k)
    out = []
    for i, test in enumerate(parts):
        model = train([r for j, part in enumerate(parts) if j != i for r in part], rules)
        out.append((Classifier(rules, models_from(model), buildings), test))
    return out


def score(fold_pairs, out: TextIO | None = None) -> dict[str, float]:
    """Metrics over all folds pooled (each message scored by the model that never saw it); with out, also written
    there, followed by the per-source lines when the records name their source."""
    tally = None
    for clf, test in fold_pairs:
        tally = tally or Tally(clf)
        for record in test:
            tally.add(record, clf.classify(record["text"]))
    metrics = tally.metrics()
    if out is not None:
        out.write("pooled: " + "  ".join(f"{m} {metrics[m]:.3f}" for m in METRICS) + "\n")
        if tally.per_group:
            tally.report_groups(out)
    return metrics


def dev_models(rules, buildings) -> list[tuple[object, list[dict]]]:
    """One (classifier trained on the training data, the real dev split) pair, in the shape fold_models gives."""
    from classifier.engine import Classifier

    model = train(training_records() + weak_records(), rules)
    return [(Classifier(rules, models_from(model), buildings), read_records([DEV_SET]))]


def real_fold_models(rules, buildings, k: int = 5) -> list[tuple[object, list[dict]]]:
    """(classifier, lines) pairs: each fold of the real training split with a request model and an urgent model trained
    on the other folds plus the written and weak lines (category and register models as committed: the register
    model learns from unlabelled rows only), and the dev split with the committed models. Folds go by source row
    (classifier.corpus.row_key), so a headline and its body stay together.
    Category numbers on the training lines are in-sample."""
    import hashlib

    from classifier.corpus import row_key
    from classifier.engine import Classifier
    from classifier.linear import load_models
    from classifier.train import MODEL_PATH, REAL_TRAIN, features_of, fit_request, fit_urgent

    committed = load_models(MODEL_PATH)
    real = read_records(REAL_TRAIN)
    others = [r for r in training_records() + weak_records()
              if "group" not in r or r.get("_weak") or r.get("_from_groups")]
    fold_of = [int(hashlib.sha1(row_key(r["source"]).encode("utf-8")).hexdigest(), 16) % k for r in real]
    pairs = []
    for i in range(k):
        train_on = [r for r, f in zip(real, fold_of) if f != i] + others
        feats = [features_of(r["text"]) for r in train_on]
        pairs.append((Classifier(rules, (fit_request(train_on, feats), committed[1], fit_urgent(train_on, feats),
                                         *committed[3:]), buildings),
                      [r for r, f in zip(real, fold_of) if f == i]))
    return pairs + [(Classifier(rules, committed, buildings), read_records([DEV_SET]))]


def cross_validate(records: list[dict], k: int, rules, buildings, out: TextIO) -> dict[str, float]:
    return score(fold_models(records, k, rules, buildings), out)


# The grid `--grid` searches: how far rule evidence and blockers move the request model (see classifier.engine).
GRID = {"VOTE_MAX": (2.5, 4.0, 6.0), "VOTE_PER_POINT": (0.4, 0.6, 0.8, 1.0), "REQUEST_THRESHOLD": (0.5, 0.6),
        "RULES_MAX_CHARS": (60, 100, 200)}
# `--grid urgent`: how sure the urgent model must be to call a request urgent on its own (2.0: never), and how sure
# that there is no danger to overrule an urgent rule (0.0: never)
URGENT_GRID = {"URGENT_MODEL_SAYS": (0.5, 0.6, 0.7, 2.0), "URGENT_MODEL_DOUBTS": (0.0, 0.01, 0.02, 0.05)}


def grid_search(records: list[dict] | str | None, k: int, rules, buildings, out: TextIO, grid: dict | None = None) -> None:
    """Scores every combination of `grid` (engine constant -> values; GRID when None) on the same fold models, one
    line each (the models are trained once); records None: on the real dev split (dev_models); "real-folds": on the
    real training lines out of fold and the dev split (real_fold_models)."""
    import itertools

    from classifier import engine

    grid_values = GRID if grid is None else grid
    pairs = (real_fold_models(rules, buildings, k) if records == "real-folds" else dev_models(rules, buildings)
             if records is None else fold_models(records, k, rules, buildings))
    saved = {name: getattr(engine, name) for name in grid_values}
    try:
        for values in itertools.product(*grid_values.values()):
            for name, value in zip(grid_values, values):
                setattr(engine, name, value)
            for clf, _ in pairs:
                clf.retune()
            out.write("  ".join(f"{n}={v}" for n, v in zip(grid_values, values)) + "\n")
            score(pairs, out)
    finally:
        for name, value in saved.items():
            setattr(engine, name, value)
        for clf, _ in pairs:
            clf.retune()


def main(argv: list[str] | None = None) -> int:
    from classifier.cli import ConfigBuildings
    from classifier.location import BuildingIndex
    from classifier.rules import load_rules

    parser = argparse.ArgumentParser(prog="python -m classifier.crossval")
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--dev", action="store_true", help="train once on the training data, score the real dev split")
    parser.add_argument("--real-folds", action="store_true",
                        help="score the real training lines out of fold and the dev split (see the module's doc)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--grid", nargs="?", const="combiner", choices=("combiner", "urgent"),
                        help="score the constants of a grid instead: combiner (GRID, the default) or urgent "
                             "(URGENT_GRID)")
    parser.add_argument("--config", default=str(Path(__file__).resolve().parent.parent / "config.yaml"))
    args = parser.parse_args(argv)
    if not args.dev and not args.real_folds and not args.files:
        parser.error("give labelled FILEs to cross-validate, or --dev, or --real-folds")
    buildings = BuildingIndex(ConfigBuildings(args.config).building_aliases())
    rules = load_rules()
    records = "real-folds" if args.real_folds else None if args.dev else read_records(args.files)
    if args.grid:
        grid_search(records, args.folds, rules, buildings, sys.stdout, URGENT_GRID if args.grid == "urgent" else GRID)
    elif records is None:
        score(dev_models(rules, buildings), sys.stdout)
    elif records == "real-folds":
        score(real_fold_models(rules, buildings, args.folds), sys.stdout)
    else:
        cross_validate(records, args.folds, rules, buildings, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
