"""Trains the request, category and urgent models from labelled JSON lines, and the register model from where the
corpus's unlabelled rows come from, with scikit-learn's logistic regression (a dev dependency: the bot scores with the
exported weights, see classifier.linear). `python -m classifier.train`
rewrites classifier/data/model.json; the file records a hash of everything it was trained from, and a test checks
that hash against the inputs as they are now (so a changed label, rule or feature fails the suite without
retraining in it)."""
from __future__ import annotations

import hashlib
import json
import math
import sys
from pathlib import Path

from classifier.features import char_features
from classifier.labels import label_problem
from classifier.linear import LinearModel
from classifier.tokenize import normalise

PACKAGE = Path(__file__).resolve().parent
DATA_DIR = PACKAGE / "data"
MODEL_PATH = DATA_DIR / "model.json"
LABELLED = PACKAGE.parent / "tests" / "data" / "classifier"
REAL = LABELLED / "real"
WRITTEN = LABELLED / "written"
# Real lines labelled under classifier/LABELS.md (their train split) and lines written from the domain notes (their
# weight is WRITTEN_WEIGHT: few real lines are colloquial requests, and the written ones are mostly that).
REAL_TRAIN = [REAL / "train.jsonl"]
WRITTEN_SETS = sorted(WRITTEN.glob("*.jsonl"))
# Messages from the community's own groups that staff corrected (`mulin export corrections`: filed with 登记, voided
# with 撤销) and a person then read against LABELS.md, marking each line with `reviewed_by`: real group text, the
# evidence the corpus lacks. They train as real lines; a line nobody reviewed stops training with its file and line.
GROUPS = LABELLED / "groups"
GROUP_SETS = sorted(GROUPS.glob("*.jsonl"))
TRAIN_SETS = REAL_TRAIN + GROUP_SETS + WRITTEN_SETS
# Unlabelled rows of the real corpus (../shared/corpus, see SOURCES.md there) as weak labels, for the request model
# only: a board appeal is a request (93-96 % of the labelled ones are, by batch), an official reply and a chat line
# with no home or community word are not (none of the 450 labelled replies is, 9 of the 1,300 such chat lines are).
# Rows labelled by hand, and rows that are near-copies of a dev or test line, are left out.
CORPUS = PACKAGE.parent.parent / "shared" / "corpus"
WEAK_WEIGHTS = {"appeals": 0.5, "replies": 1.0, "chat": 0.5}
# The register model tells how a line is written: a board appeal or its headline, an official reply, or an SMS or
# Weibo line. Its labels are where the unlabelled corpus rows come from (the weak rows above), so no person wrote them
# and no labelled line (train, dev or test) is among them.
REGISTERS = ("appeal", "reply", "chat")
REGISTER_OF = {"appeals": "appeal", "replies": "reply", "chat": "chat"}
C_REGISTER = 64.0
DEV_SET = REAL / "dev.jsonl"
TEST_SET = REAL / "test.jsonl"
WRITTEN_WEIGHT = 1.0
# inverse regularisation strength of each model (chosen on the real dev split, see the data README)
C_REQUEST = 64.0
C_CATEGORY = 64.0
C_URGENT = 16.0
# rarer features are more likely noise than signal
MIN_COUNT = 3
DIGITS = 4
# a feature whose weights all stay below this is dropped from the exported model (cold start and memory of every
# process that loads it): for the request model, on the dev split, 0.2 changed no decision and 0.5 one reply in 64,
# while its features went from 270k to ~93k / 41k
PRUNE = {"request": 0.3, "category": 1.0, "urgent": 0.5, "register": 0.3}
# The category model weighs each feature by its inverse document frequency among its training lines (sklearn's smooth
# idf, divided by its mean so C keeps its scale); the weights are exported multiplied by it, so scoring is unchanged.
# Measured 2026-12-06 with the keywords added to rules.yaml the same day (5 category models, each without one fold of
# the real training split's source rows, committed request and urgent models): appeals out of fold 0.680 -> 0.693,
# dev appeals 0.712 -> 0.737; idf alone 0.687 / 0.721, the keywords alone 0.687 / 0.720.
CATEGORY_IDF = True
# what a model depends on besides the labelled files: a change to any of these makes the model stale
CODE_INPUTS = [PACKAGE / "train.py", PACKAGE / "features.py", PACKAGE / "tokenize.py", PACKAGE / "corpus.py",
               PACKAGE / "labels.py", DATA_DIR / "rules.yaml"]


def features_of(text: str) -> list[str]:
    return sorted(char_features(normalise(text)))


def read_records(paths: list[Path], weight: float = 1.0) -> list[dict]:
    """The labelled lines of all files, each text once (the first wins); each record gets `_weight`."""
    records, seen = [], set()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                if record["text"] not in seen:
                    seen.add(record["text"])
                    record["_weight"] = weight
                    records.append(record)
    return records


class UnreviewedLine(ValueError):
    """A corrected group message that nobody has read against LABELS.md yet, or whose labels do not fit it."""


def group_records(paths: list[Path] | None = None, codes: set[str] | None = None) -> list[dict]:
    """The reviewed group lines (GROUP_SETS when paths is None), each text once, marked `_from_groups`. Raises
    UnreviewedLine naming the file and line of one without `reviewed_by`, or with labels LABELS.md does not allow."""
    paths = GROUP_SETS if paths is None else paths
    if not paths:
        return []
    if codes is None:
        from classifier.rules import load_rules

        codes = {c.code for c in load_rules().categories}
    out, seen = [], set()
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            record = json.loads(line)
            where = f"{path}:{number}"
            if not str(record.get("reviewed_by") or "").strip():
                raise UnreviewedLine(f"{where}: no reviewed_by: read the line against classifier/LABELS.md first")
            request, category, urgent = (record.get("expect_request"), record.get("expect_category"),
                                         record.get("expect_urgent"))
            if label_problem(request, category, urgent, codes):
                raise UnreviewedLine(f"{where}: labels do not fit LABELS.md (request {request!r}, category "
                                     f"{category!r}, urgent {urgent!r})")
            if record["text"] not in seen:
                seen.add(record["text"])
                out.append({**record, "_weight": 1.0, "_from_groups": True})
    return out


def training_records() -> list[dict]:
    """Real training lines first (a text both real and written counts as real), then the reviewed group lines, then
    the written ones."""
    real = read_records(REAL_TRAIN)
    texts = {r["text"] for r in real}
    groups = [r for r in group_records() if r["text"] not in texts]
    texts.update(r["text"] for r in groups)
    return real + groups + [r for r in read_records(WRITTEN_SETS, WRITTEN_WEIGHT) if r["text"] not in texts]


def weak_records(corpus: Path = CORPUS) -> list[dict]:
    """Weakly labelled corpus rows (see CORPUS above); none when the corpus is not there."""
    from classifier.corpus import NearIndex, group_of, row_key

    if not (corpus / "appeals.jsonl").exists():
        return []
    labelled = {row_key(r["source"]) for path in (REAL / "train.jsonl", DEV_SET, TEST_SET)
                for r in read_records([path])}
    held = NearIndex(read_records([DEV_SET, TEST_SET]))
    out = []
    for name in ("appeals", "replies", "chat"):
        for line in (corpus / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            text = row["text"]
            if row_key(row["source"]) in labelled or (name == "chat" and group_of(row["dataset"], text) != "chat"):
                continue
            if not held.near(text):
                out.append({"text": text, "expect_request": name == "appeals", "_weight": WEAK_WEIGHTS[name],
                            "_weak": True, "_register": REGISTER_OF[name]})
    return out


def inputs_hash() -> str:
    """sha256 over the labelled files and the code and rules a model depends on."""
    h = hashlib.sha256()
    for path in [*TRAIN_SETS, DEV_SET, TEST_SET, *CODE_INPUTS]:
        h.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    h.update(f"{WRITTEN_WEIGHT} {sorted(WEAK_WEIGHTS.items())} {C_REQUEST} {C_CATEGORY} {C_URGENT} {MIN_COUNT} "
             f"{sorted(PRUNE.items())} {CATEGORY_IDF} {C_REGISTER}".encode())
    return h.hexdigest()


def corpus_hash(corpus: Path = CORPUS) -> str | None:
    """sha256 of the corpus files the weak labels come from; None where ../shared/corpus is not present."""
    files = sorted(corpus.glob("*.jsonl")) if corpus.exists() else []
    if not files:
        return None
    h = hashlib.sha256()
    for path in files:
        h.update(path.name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def fit(samples: list[tuple[list[str], int]], labels: list[str], c: float,
        weights: list[float] | None = None, prune: float = 0.0, idf: bool = False) -> LinearModel:
    """Logistic regression (binary or multinomial, lbfgs, deterministic) on binary features scaled by 1/sqrt(n),
    the scaling LinearModel scores with, so the exported weights give the fitted probabilities. idf: each feature
    also weighed by its inverse document frequency (over its mean), the exported weights multiplied by it."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts: dict[str, int] = {}
    for feats, _ in samples:
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    names = sorted(f for f, n in counts.items() if n >= MIN_COUNT)
    column = {f: i for i, f in enumerate(names)}
    scale = np.ones(len(names))
    if idf and names:
        scale = np.log((1 + len(samples)) / (1 + np.array([counts[f] for f in names], dtype=float))) + 1.0
        scale /= scale.mean()
    indptr, indices, values = [0], [], []
    for feats, _ in samples:
        cols = [column[f] for f in feats if f in column]
        indices += cols
        values += (scale[cols] / math.sqrt(len(feats))).tolist() if cols else []
        indptr.append(len(indices))
    x = csr_matrix((values, indices, indptr), shape=(len(samples), len(names)))
    y = np.array([label for _, label in samples])
    matrix = np.zeros((len(names), len(labels)))
    bias = np.zeros(len(labels))
    seen = sorted(set(y.tolist()))
    if len(seen) < 2 or not names:  # nothing to learn from: each label's share of the samples, as log-odds
        share = np.array([max((y == i).sum(), 0.5) for i in range(len(labels))], dtype=float)
        return LinearModel(labels, [round(float(v), DIGITS) for v in np.log(share / share.sum())], {})
    model = LogisticRegression(C=c, max_iter=2000, tol=1e-6)
    model.fit(x, y, sample_weight=None if weights is None else np.array(weights))
    if len(model.classes_) == 2 and len(labels) == 2:
        matrix[:, 1], bias[1] = model.coef_[0], model.intercept_[0]
    else:  # one column per class seen; a label never seen keeps zero weights and a bias far below the rest
        bias[:] = model.intercept_.min() - 10.0
        for row, label in enumerate(model.classes_):
            matrix[:, label], bias[label] = model.coef_[row], model.intercept_[row]
    matrix = (matrix * scale[:, None]).round(DIGITS)
    keep = np.flatnonzero(np.abs(matrix).max(axis=1) >= max(prune, 10 ** -DIGITS))
    return LinearModel(labels, [round(float(b), DIGITS) for b in bias], names=[names[i] for i in keep],
                       matrix=matrix[keep])


def fit_request(records: list[dict], feats: list[list[str]]) -> LinearModel:
    """The request model (no/yes) from every record; feats: the records' features (features_of), in their order."""
    return fit([(f, int(bool(r.get("expect_request")))) for f, r in zip(feats, records)], ["no", "yes"], C_REQUEST,
               [r.get("_weight", 1.0) for r in records], PRUNE["request"])


def fit_register(records: list[dict], feats: list[list[str]]) -> LinearModel | None:
    """The register model (appeal / reply / chat) from the corpus rows among the records (weak_records); None when
    there are none (no corpus next to the checkout)."""
    rows = [i for i, r in enumerate(records) if r.get("_register")]
    if not rows:
        return None
    index = {name: i for i, name in enumerate(REGISTERS)}
    return fit([(feats[i], index[records[i]["_register"]]) for i in rows], list(REGISTERS), C_REGISTER,
               prune=PRUNE["register"])


def asked_rows(records: list[dict]) -> list[int]:
    """The rows of the labelled requests (weak labels name no category and no urgency)."""
    return [i for i, r in enumerate(records) if r.get("expect_request") and not r.get("_weak")]


def fit_urgent(records: list[dict], feats: list[list[str]]) -> LinearModel:
    """The urgent model (no/yes) from the labelled requests among the records; feats as in fit_request."""
    asked = asked_rows(records)
    return fit([(feats[i], int(bool(records[i].get("expect_urgent")))) for i in asked], ["no", "yes"], C_URGENT,
               [records[i].get("_weight", 1.0) for i in asked], PRUNE["urgent"])


def train(records: list[dict], rules) -> dict:
    """The models as JSON: request (no/yes) from every record, category from the requests plus rule phrases,
    urgent (no/yes) from the requests, and register (appeal/reply/chat) from the corpus rows among the records when
    there are any."""
    categories = [c.code for c in rules.categories]
    index = {c: i for i, c in enumerate(categories)}
    feats = [features_of(r["text"]) for r in records]
    weight = [r.get("_weight", 1.0) for r in records]
    request = fit_request(records, feats)
    asked = asked_rows(records)
    phrases = rule_phrases(rules)
    category = fit([(feats[i], index[records[i].get("expect_category") or "other"]) for i in asked]
                   + [(features_of(phrase), index[code]) for phrase, code in phrases], categories, C_CATEGORY,
                   [weight[i] for i in asked] + [WRITTEN_WEIGHT] * len(phrases), PRUNE["category"], CATEGORY_IDF)
    urgent = fit_urgent(records, feats)
    models = {"request": request.to_json(), "category": category.to_json(), "urgent": urgent.to_json()}
    register = fit_register(records, feats)
    if register is not None:
        models["register"] = register.to_json()
    return models


def dump(model: dict) -> str:
    return json.dumps(model, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"


def rule_phrases(rules) -> list[tuple[str, str]]:
    """(phrase, category) from the rules' positive keywords: "电梯 坏了|故障" gives 电梯坏了, 直梯故障, ...
    They teach the model each category's vocabulary, which few labelled messages can cover."""
    out = []
    for cat in rules.categories:
        for kw in cat.keywords:
            if kw.weight <= 0:
                continue
            parts = [sorted(p) for p in kw.pattern.parts]
            longest = max(len(p) for p in parts)
            for i in range(longest):
                out.append(("".join(p[i % len(p)] for p in parts), cat.code))
    return out


def main(argv: list[str] | None = None) -> int:
    from classifier.rules import load_rules

    try:
        records = training_records()
    except UnreviewedLine as e:  # before the minutes of training, and without a traceback: the file and line say it
        print(f"not trained: {e}", file=sys.stderr)
        return 2
    model = train(records + weak_records(), load_rules())
    model["inputs_sha256"] = inputs_hash()
    model["corpus_sha256"] = corpus_hash()
    model["trained_on"] = [str(p.relative_to(LABELLED)) for p in TRAIN_SETS]
    text = dump(model)
    MODEL_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL_PATH} ({len(text) // 1024} KB) from {len(TRAIN_SETS)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
