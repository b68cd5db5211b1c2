"""Scores classifications against labelled lines (expect_request, expect_category, expect_urgent), in total and
per source: the record's `group` (appeal, appeal_title, chat_keyword, chat, reply), else its `dataset`, else the file
its `source` locator names (`owner/repo:path#row=N` -> `path`); a line with none of them counts in the total only.
Labels are read as JSON booleans, 0/1 or the words true/false, yes/no, 是/否; a category as its code or its Chinese name
(供水 -> water). A line whose labels cannot be read, or that has no expect_request at all, is not scored: it is counted,
named in its errors and fails the run."""
from __future__ import annotations

from collections import Counter
from typing import TextIO

_TRUE = frozenset({"true", "t", "yes", "y", "1", "是", "对"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "否", "不是", ""})


class UnreadableLabel(ValueError):
    pass


def truth(value, field: str) -> bool:
    """A label's yes/no as written in a labelled file; missing means no."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise UnreadableLabel(f"{field} {value!r}")


class Tally:
    def __init__(self, clf):
        self.clf = clf
        self.n = Counter()
        self.per_category: dict[str, Counter] = {}
        self.per_group: dict[str, Counter] = {}
        # how a label may name a category: its code (any case) or its Chinese name
        self._codes = {code.lower(): code for code, _ in clf.categories}
        self._codes.update({name: code for code, name in clf.categories})

    def add(self, record: dict, result) -> list[str]:
        """Counts one labelled message, in total and for its group; returns what went wrong with it."""
        try:
            record = self.labels_read(record)
        except UnreadableLabel as e:
            self.n["unreadable"] += 1
            return [f"unreadable label: {e} (not scored)"]
        group = source_of(record)
        errors = self._count(self.n, record, result)
        if group:
            self._count(self.per_group.setdefault(str(group), Counter()), record, result, per_category=False)
        return errors

    def labels_read(self, record: dict) -> dict:
        """The record with its labels as booleans and a category code (a Chinese category name becomes its code; an
        unknown code stays, and is reported as such)."""
        category = record.get("expect_category")
        if category is not None and not isinstance(category, str):
            raise UnreadableLabel(f"expect_category {category!r}")
        if category:
            category = category.strip()
            category = self._codes.get(category.lower(), category)
        if "expect_request" not in record:  # a plain line, or labels under other names ("label", "is_request")
            raise UnreadableLabel("expect_request missing")
        return {**record, "expect_request": truth(record.get("expect_request"), "expect_request"),
                "expect_urgent": truth(record.get("expect_urgent"), "expect_urgent"), "expect_category": category}

    def _count(self, n: Counter, record: dict, result, per_category: bool = True) -> list[str]:
        errors: list[str] = []
        expect_request = bool(record.get("expect_request"))
        n["expected_requests" if expect_request else "expected_chatter"] += 1
        if expect_request and result.is_request:
            n["true_positive"] += 1
            want = record.get("expect_category") or "other"
            row = self.per_category.setdefault(want, Counter()) if per_category else Counter()
            row["recognised"] += 1
            if result.category == want:
                n["category_correct"] += 1
                row["correct"] += 1
            else:
                errors.append(f"category {result.category} != {want}")
        elif expect_request:
            errors.append("missed request")
            if per_category:
                self.per_category.setdefault(record.get("expect_category") or "other", Counter())["missed"] += 1
        elif result.is_request:
            n["false_alarm"] += 1
            errors.append("false alarm")
        if record.get("expect_urgent"):
            n["expected_urgent"] += 1
            if result.urgent:
                n["urgent_found"] += 1
            else:
                errors.append("missed urgent")
        elif result.urgent and not expect_request:
            errors.append("urgent on non-request")
        if result.is_request and result.urgent:
            n["flagged_urgent"] += 1
            n["urgent_right"] += bool(record.get("expect_urgent"))
        if expect_request and "expect_building" in record:
            n["expected_building"] += 1
            got = result.location.building if result.location else None
            if got == record["expect_building"]:
                n["building_correct"] += 1
            else:
                errors.append(f"building {got} != {record['expect_building']}")
        return errors

    def metrics(self, n: Counter | None = None) -> dict[str, float]:
        n = self.n if n is None else n
        filed = n["true_positive"] + n["false_alarm"]
        return {
            "request_precision": _ratio(n["true_positive"], filed),
            "request_recall": _ratio(n["true_positive"], n["expected_requests"]),
            "false_alarm": _ratio(n["false_alarm"], n["expected_chatter"], empty=0.0),
            "category_accuracy": _ratio(n["category_correct"], n["true_positive"]),
            "urgent_recall": _ratio(n["urgent_found"], n["expected_urgent"]),
            "urgent_precision": _ratio(n["urgent_right"], n["flagged_urgent"]),
            "building_accuracy": _ratio(n["building_correct"], n["expected_building"]),
        }

    def report(self, out: TextIO) -> int:
        """Writes the summary and per-category table; 1 when any threshold is missed."""
        m, t, n = self.metrics(), self.clf.thresholds, self.n
        checks = [
            ("request recall", m["request_recall"], ">=", t["request_recall"],
             f"{n['true_positive']} of {n['expected_requests']} requests"),
            ("false-alarm rate", m["false_alarm"], "<=", t["false_alarm_max"],
             f"{n['false_alarm']} of {n['expected_chatter']} non-requests filed"),
            ("category accuracy", m["category_accuracy"], ">=", t["category_accuracy"],
             f"on {n['true_positive']} recognised requests"),
            ("urgent recall", m["urgent_recall"], ">=", t["urgent_recall"],
             f"{n['urgent_found']} of {n['expected_urgent']} urgent"),
        ]
        out.write(f"messages: {n['expected_requests'] + n['expected_chatter']}\n")
        out.write(f"request precision   {m['request_precision']:.3f}\n")
        failed = False
        for name, value, op, limit, note in checks:
            ok = value >= limit if op == ">=" else value <= limit
            failed |= not ok
            out.write(f"{name:<19} {value:.3f}  ({op} {limit:.2f} {'ok' if ok else 'FAIL'})  {note}\n")
        out.write(f"urgent precision    {m['urgent_precision']:.3f}  (no threshold)  "
                  f"{n['urgent_right']} of {n['flagged_urgent']} filed as urgent\n")
        if n["expected_building"]:
            out.write(f"building accuracy   {m['building_accuracy']:.3f}  (no threshold)  "
                      f"{n['building_correct']} of {n['expected_building']}\n")
        out.write(f"\n{'category':<14}{'name':<8}{'recognised':>11}{'correct':>9}{'missed':>8}{'accuracy':>10}\n")
        for code, name in self.clf.categories:
            row = self.per_category.get(code)
            if row:
                acc = _ratio(row["correct"], row["recognised"])
                out.write(f"{code:<14}{name:<8}{row['recognised']:>11}{row['correct']:>9}{row['missed']:>8}{acc:>10.3f}\n")
        for code in sorted(set(self.per_category) - {c for c, _ in self.clf.categories}):
            out.write(f"{code:<14}(unknown category code in labels)\n")
        if n["unreadable"]:
            failed = True
            out.write(f"\nunreadable labels: {n['unreadable']} line(s) not scored (FAIL); see their errors\n")
        if self.per_group:
            self.report_groups(out)
        return 1 if failed else 0

    def report_groups(self, out: TextIO) -> None:
        """One line per source: its requests filed, its non-requests filed, category and urgent on its requests."""
        name_width = max(14, *(len(g) + 2 for g in self.per_group))
        out.write(f"\n{'source':<{name_width}}{'lines':>6}{'requests':>9}{'recall':>8}{'non-req':>8}{'false al.':>10}"
                  f"{'category':>9}{'urgent':>8}{'urg.prec':>9}\n")
        for group in sorted(self.per_group):
            n = self.per_group[group]
            m = self.metrics(n)
            lines = n["expected_requests"] + n["expected_chatter"]

            def cell(value: float, present: int, width: int) -> str:
                return f"{value:>{width}.3f}" if present else f"{'-':>{width}}"

            out.write(f"{group:<{name_width}}{lines:>6}{n['expected_requests']:>9}{cell(m['request_recall'], n['expected_requests'], 8)}"
                      f"{n['expected_chatter']:>8}{cell(m['false_alarm'], n['expected_chatter'], 10)}"
                      f"{cell(m['category_accuracy'], n['true_positive'], 9)}"
                      f"{cell(m['urgent_recall'], n['expected_urgent'], 8)}{cell(m['urgent_precision'], n['flagged_urgent'], 9)}\n")


def source_of(record: dict) -> str | None:
    """The name a labelled line is reported under per source (see the module's docstring)."""
    for key in ("group", "dataset"):
        if isinstance(record.get(key), str) and record[key].strip():
            return record[key].strip()
    locator = record.get("source")
    if isinstance(locator, str) and locator.strip():
        place = locator.split("#", 1)[0].strip()
        return place.rsplit(":", 1)[-1].rsplit("/", 1)[-1] or place
    return None


def _ratio(a: int, b: int, empty: float = 1.0) -> float:
    return a / b if b else empty
