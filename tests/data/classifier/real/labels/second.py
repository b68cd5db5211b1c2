"""Compares the second, blind reading of the splits (second/out, see select_second.py) with the labels in the split
files, hands the disagreements to a third reader, and applies the outcome.

    python tests/data/classifier/real/labels/second.py compare [test]  # agreement; writes second/third/in/*.jsonl
    python tests/data/classifier/real/labels/second.py apply [test]    # reads second/third/out, rewrites the splits
    python tests/data/classifier/real/labels/second.py urgent-compare [test]  # urgent read differently -> urgent/in
    python tests/data/classifier/real/labels/second.py urgent-apply [test]    # the third urgent reading decides
    python tests/data/classifier/real/labels/second.py ceiling [test]  # one reader scored against the other

Without `test` it reads train and dev (batches appeals_*, chat_*, third_*); with it, the test split (test_*), of
which it prints totals only. `compare` takes the split files' labels as the first reading, so its figures mean what
they say before `apply` only; afterwards consensus.jsonl keeps the first readings (and the tests recount from it).

A unit of reading is a board row (headline and body carry one request and one category) or a chat line. The two
readings disagree on a unit when one calls it a request and the other not, or both call it a request under different
categories. The third reader sees the unit's text and the two readings as A and B (in an order fixed by a seeded
coin, not saying which is which) and picks one, or writes a third. Where the two agree the label stays. `apply`
leaves urgent as first read, except that a unit no longer a request is not urgent, and a unit that becomes a request
takes the second reading's urgent. Every unit's three readings and the final one are kept in second/consensus.jsonl.
Then `urgent-compare` hands the lines both readers call a request but read differently on urgent to a third reader
of urgent alone (blind: the text only), and `urgent-apply` takes that reading, the majority of the three
(second/urgent/, with each line's three readings in urgent/*_consensus.jsonl).
`ceiling` scores each reading as if it were the classifier and the other reading the truth, with the measures of
`mulin classify --eval` per source (request recall, false alarms, category on the lines both call requests, urgent
recall and precision on those lines): what a person reading under LABELS.md reaches against another, next to the
classifier's goals. It reads the consensus files, the second reading and the urgent consensus, so it holds after
`apply` and `urgent-apply`.
"""
from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path

from classifier.corpus import row_key
from select_urgent import write_batch  # this folder: run as a script

HERE = Path(__file__).resolve().parent
SECOND = HERE / "second"
THIRD = SECOND / "third"
SPLITS = ("train", "dev")
THIRD_BATCHES = ("third_a", "third_b", "third_c")
TEST_THIRD_BATCHES = ("test_third_a",)
SEED = 20261208
NOT_REQUEST = "not_request"
# the sources the second reading covers: board rows (headline and body) and keyword chat
READ_TWICE = ("appeal", "appeal_title", "chat_keyword")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def unit_of(record: dict) -> str:
    return row_key(record["source"]) if record["group"] in ("appeal", "appeal_title") else record["source"]


def first_reading(splits: tuple[str, ...]) -> dict[str, dict]:
    """unit -> {"lines": [split records], "split"}"""
    units: dict[str, dict] = {}
    for split in splits:
        for r in read_jsonl(HERE.parent / f"{split}.jsonl"):
            if r["group"] in READ_TWICE:
                units.setdefault(unit_of(r), {"lines": [], "split": split})["lines"].append(r)
    return units


def second_reading() -> dict[str, dict]:
    """source -> the second reader's labels for that line"""
    out = {}
    for path in sorted((SECOND / "out").glob("*.jsonl")):
        given = {r["n"]: r for r in read_jsonl(SECOND / "in" / path.name)}
        for lab in read_jsonl(path):
            out[given[lab["n"]]["source"]] = lab
    return out


def reading(request: bool, category: str | None) -> str:
    return (category or "other") if request else NOT_REQUEST


def unit_readings(units: dict, second: dict) -> dict[str, tuple[str, str, dict]]:
    """unit -> (first reading, second reading, {source: the second reading's urgent} for each of its lines), for the
    units read twice. A row's reading is its body's, else its headline's (both carry one request and category)."""
    out = {}
    for unit, u in units.items():
        lines = sorted(u["lines"], key=lambda r: r["group"] != "appeal")  # the body first
        if not all(r["source"] in second for r in lines):
            continue
        main = lines[0]
        lab = second[main["source"]]
        out[unit] = (reading(bool(main["expect_request"]), main.get("expect_category")),
                     reading(bool(lab["request"]), lab.get("category")),
                     {r["source"]: bool(second[r["source"]].get("urgent")) for r in lines})
    return out


def rewrite(splits: tuple[str, ...], settle) -> None:
    """Rewrites each split file with settle(split, record) applied to every record, in place."""
    for split in splits:
        path = HERE.parent / f"{split}.jsonl"
        records = read_jsonl(path)
        for r in records:
            settle(split, r)
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def kappa(pairs: list[tuple[str, str]]) -> float:
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    fa, fb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    expected = sum(fa[k] * fb[k] for k in fa) / n / n
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def report(units: dict, read: dict) -> None:
    for kind, test in (("board rows", lambda u: units[u]["lines"][0]["group"] != "chat_keyword"),
                       ("keyword chat", lambda u: units[u]["lines"][0]["group"] == "chat_keyword")):
        pairs = [(a, b) for u, (a, b, _) in read.items() if test(u)]
        if not pairs:
            continue
        req = [(a != NOT_REQUEST, b != NOT_REQUEST) for a, b in pairs]
        both = [(a, b) for a, b in pairs if NOT_REQUEST not in (a, b)]
        print(f"{kind}: {len(pairs)} read twice; request: first {sum(a for a, _ in req)}, second "
              f"{sum(b for _, b in req)}, both {sum(a and b for a, b in req)}, agreement "
              f"{sum(a == b for a, b in req) / len(req):.3f}, kappa {kappa(req):.2f}")
        if both:
            print(f"  category on {len(both)} both call requests: agreement "
                  f"{sum(a == b for a, b in both) / len(both):.3f}, kappa {kappa(both):.2f}")
            for (a, b), n in Counter((a, b) for a, b in both if a != b).most_common(12):
                print(f"    first {a:14} second {b:14} {n}")


def third_lines(units: dict, read: dict) -> list[dict]:
    rng = random.Random(SEED)
    items = []
    for unit in sorted(read):
        a, b, _ = read[unit]
        if a == b:
            continue
        lines = sorted(units[unit]["lines"], key=lambda r: r["group"] != "appeal_title")  # the headline first
        options = [a, b]
        if rng.random() < 0.5:
            options.reverse()
        items.append({"unit": unit, "text": "\n".join(r["text"] for r in lines), "A": options[0], "B": options[1]})
    rng.shuffle(items)
    return items


def compare(splits: tuple[str, ...], batches: tuple[str, ...]) -> int:
    units, second = first_reading(splits), second_reading()
    read = unit_readings(units, second)
    report(units, read)
    if any((THIRD / "out" / f"{name}.jsonl").exists() for name in batches):
        print("third reading already under way (third/out has its batches): third/in left as it is")
        return 0
    items = third_lines(units, read)
    (THIRD / "in").mkdir(parents=True, exist_ok=True)
    for b, name in enumerate(batches):
        with open(THIRD / "in" / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for n, item in enumerate(items[b::len(batches)], 1):
                f.write(json.dumps({"n": n, **item}, ensure_ascii=False) + "\n")
    print(f"third reading: {len(items)} units in {len(batches)} batches")
    return 0


def third_reading() -> dict[str, str]:
    """unit -> the third reader's reading (A/B resolved to the reading it names)"""
    out = {}
    for path in sorted((THIRD / "out").glob("*.jsonl")):
        given = {r["n"]: r for r in read_jsonl(THIRD / "in" / path.name)}
        for lab in read_jsonl(path):
            item = given[lab["n"]]
            choice = lab["choice"]
            out[item["unit"]] = item[choice] if choice in ("A", "B") else choice
    return out


def apply(splits: tuple[str, ...], batches: tuple[str, ...]) -> int:
    from classifier.rules import load_rules

    codes = {c.code for c in load_rules().categories} | {NOT_REQUEST}
    units, second = first_reading(splits), second_reading()
    read = unit_readings(units, second)
    third = third_reading()
    final: dict[str, str] = {}
    missing = 0
    consensus = []
    for unit, (a, b, urgent) in sorted(read.items()):
        c = third.get(unit) if a != b else None
        if a != b and c is None:
            missing += 1
            continue
        if c is not None and c not in codes:
            print(f"{unit}: third reading {c!r} is no category code", file=sys.stderr)
            return 1
        final[unit] = a if a == b else c
        kind = "chat" if units[unit]["lines"][0]["group"] == "chat_keyword" else "board"
        consensus.append({"unit": unit, "kind": kind, "split": units[unit]["split"], "first": a, "second": b, "third": c,
                          "final": final[unit]})
    if missing:
        print(f"{missing} disagreements have no third reading yet", file=sys.stderr)
        return 1
    changed = Counter()

    def settle(split: str, r: dict) -> None:
        unit = unit_of(r) if r["group"] in READ_TWICE else None
        if unit not in final:
            return
        was = reading(bool(r["expect_request"]), r.get("expect_category"))
        now = final[unit]
        if was == now:
            return
        changed[(split, r["group"], was == NOT_REQUEST, now == NOT_REQUEST)] += 1
        if now == NOT_REQUEST:
            r.update(expect_request=False, expect_category=None, expect_urgent=False)
        else:
            if was == NOT_REQUEST:
                r["expect_urgent"] = read[unit][2][r["source"]]
            r.update(expect_request=True, expect_category=now)

    rewrite(splits, settle)
    (SECOND / f"{'test_' if splits == ('test',) else ''}consensus.jsonl").write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in consensus), encoding="utf-8")
    for (split, group, was_no, now_no), n in sorted(changed.items()):
        kind = "category" if not (was_no or now_no) else ("now a request" if was_no else "no longer a request")
        print(f"{split:5} {group:13} {kind:20} {n}")
    return 0


URGENT = SECOND / "urgent"


def urgent_split(splits: tuple[str, ...]) -> list[dict]:
    """The lines both readers call a request whose urgent the two read differently (the split line still carries the
    first reading's urgent until `urgent-apply` runs)."""
    second = second_reading()
    out = []
    for split in splits:
        for r in read_jsonl(HERE.parent / f"{split}.jsonl"):
            lab = second.get(r["source"])
            if (r["group"] in READ_TWICE and lab and r["expect_request"]
                    and lab["request"] and bool(r["expect_urgent"]) != bool(lab.get("urgent"))):
                out.append({"source": r["source"], "text": r["text"], "first": bool(r["expect_urgent"]),
                            "second": bool(lab.get("urgent"))})
    return out


def urgent_compare(splits: tuple[str, ...], name: str) -> int:
    """Writes urgent/in/NAME.jsonl: the lines whose urgent the two readings disagree on, for a third blind reading of
    urgent alone (the majority of three decides). Left as it is once urgent/out/NAME.jsonl exists."""
    if (URGENT / "out" / f"{name}.jsonl").exists():
        print("third urgent reading already under way: urgent/in left as it is")
        return 0
    lines = sorted(urgent_split(splits), key=lambda r: r["source"])
    random.Random(SEED).shuffle(lines)
    write_batch(name, lines, URGENT / "in")
    return 0


def urgent_apply(splits: tuple[str, ...], name: str) -> int:
    """Sets each such line's urgent to the third reading's (the two others being split, it is the majority) and keeps
    every line's three readings in urgent/NAME_consensus.jsonl."""
    given = {r["n"]: r for r in read_jsonl(URGENT / "in" / f"{name}.jsonl")}
    third = {given[lab["n"]]["source"]: bool(lab["urgent"]) for lab in read_jsonl(URGENT / "out" / f"{name}.jsonl")}
    split_lines = {r["source"]: r for r in urgent_split(splits)}
    if set(split_lines) != set(third):
        print(f"the third urgent reading covers {len(third)} lines, the readings disagree on {len(split_lines)}",
              file=sys.stderr)
        return 1
    moved = Counter()

    def settle(split: str, r: dict) -> None:
        if r["source"] in third:
            moved[(split, r["expect_urgent"], third[r["source"]])] += r["expect_urgent"] != third[r["source"]]
            r["expect_urgent"] = third[r["source"]]

    rewrite(splits, settle)
    (URGENT / f"{name}_consensus.jsonl").write_text("".join(
        json.dumps({"source": s, "first": r["first"], "second": r["second"], "third": third[s]}, ensure_ascii=False)
        + "\n" for s, r in sorted(split_lines.items())), encoding="utf-8")
    for (split, was, now), n in sorted(moved.items()):
        if n:
            print(f"{split:5} urgent {was} -> {now}: {n}")
    return 0


def reader_against_reader(splits: tuple[str, ...]) -> dict[tuple[str, str], Counter]:
    """(source group, the reading taken as truth: "first" or "second") -> counts for the other reading scored against
    it, line by line: requests, found, non_requests, false_alarms, both (lines both call requests), category_same,
    urgent_truth, urgent_reader, urgent_both (urgent counted on the lines both call requests)."""
    prefix = "test_" if splits == ("test",) else ""
    units = {u["unit"]: u for u in read_jsonl(SECOND / f"{prefix}consensus.jsonl") if u["split"] in splits}
    urgent_split_on = {u["source"]: u for u in read_jsonl(URGENT / f"{prefix}urgent_consensus.jsonl")}
    second = second_reading()
    out: dict[tuple[str, str], Counter] = {}
    for split in splits:
        for r in read_jsonl(HERE.parent / f"{split}.jsonl"):
            if r["group"] not in READ_TWICE:
                continue
            u = units[unit_of(r)]
            said = {"first": u["first"], "second": u["second"]}
            both_request = NOT_REQUEST not in said.values()
            if both_request:
                split_on = urgent_split_on.get(r["source"])
                urgent = ({"first": split_on["first"], "second": split_on["second"]} if split_on else
                          dict.fromkeys(said, bool(second[r["source"]].get("urgent"))))
            for truth, reader in (("first", "second"), ("second", "first")):
                n = out.setdefault((r["group"], truth), Counter())
                if said[truth] == NOT_REQUEST:
                    n["non_requests"] += 1
                    n["false_alarms"] += said[reader] != NOT_REQUEST
                    continue
                n["requests"] += 1
                n["found"] += said[reader] != NOT_REQUEST
                if both_request:
                    n["both"] += 1
                    n["category_same"] += said[truth] == said[reader]
                    n["urgent_truth"] += urgent[truth]
                    n["urgent_reader"] += urgent[reader]
                    n["urgent_both"] += urgent[truth] and urgent[reader]
    return out


def ceiling(splits: tuple[str, ...]) -> int:
    """Prints reader_against_reader as `mulin classify --eval` would for a classifier (totals only)."""
    print("source        truth   reader  requests  recall  false al.  category  urgent recall  urgent prec.")
    for (group, truth), n in sorted(reader_against_reader(splits).items()):
        reader = "second" if truth == "first" else "first"
        print(f"{group:13} {truth:7} {reader:7} {n['requests']:8}  {n['found'] / n['requests']:.3f}  "
              f"{n['false_alarms'] / n['non_requests']:9.3f}  {n['category_same'] / n['both']:8.3f}  "
              f"{n['urgent_both']:3} of {n['urgent_truth']:3}      {n['urgent_both']:3} of {n['urgent_reader']:3}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in ("compare", "apply", "urgent-compare", "urgent-apply",
                                                          "ceiling") or sys.argv[2:] not in ([], ["test"]):
        sys.exit(__doc__.split("\n\n")[1])
    test = sys.argv[2:3] == ["test"]
    splits = ("test",) if test else SPLITS
    if sys.argv[1] == "ceiling":
        sys.exit(ceiling(splits))
    if sys.argv[1].startswith("urgent-"):
        sys.exit({"urgent-compare": urgent_compare, "urgent-apply": urgent_apply}[sys.argv[1]](
            splits, "test_urgent" if test else "urgent"))
    sys.exit({"compare": compare, "apply": apply}[sys.argv[1]](splits, TEST_THIRD_BATCHES if test else THIRD_BATCHES))
