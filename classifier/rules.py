"""Loads and validates the rules file (classifier/data/rules.yaml); every error names file:line."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from classifier.patterns import Pattern
from classifier.tokenize import normalise

DEFAULT_RULES = Path(__file__).parent / "data" / "rules.yaml"
THRESHOLD_KEYS = ("request_recall", "false_alarm_max", "category_accuracy", "urgent_recall")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# libyaml parses ~10x faster; cold start matters for `mulin classify`.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class RulesError(ValueError):
    """A rules file is malformed; the message starts with path:line."""


@dataclass(frozen=True)
class Weighted:
    pattern: Pattern
    weight: int


@dataclass(frozen=True)
class ContextRule:
    pattern: Pattern
    add: int
    suppress: bool
    why: str


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    keywords: tuple[Weighted, ...]
    context: tuple[ContextRule, ...]


@dataclass(frozen=True)
class Blocker:
    kind: str
    patterns: tuple[Pattern, ...]
    prefixes: tuple[str, ...]
    unless: tuple[Pattern, ...]
    soft: bool
    negatable: bool
    firm: bool = False  # a soft block that stands however strong the problem words are (hypotheticals)
    not_now: bool = False  # what it speaks of is not happening here and now: a danger named in it is not urgent
    # text anywhere in the message, at any length (the other fields read chat-length lines only): an official reply's
    # own formulas ("现回复如下", "您的留言已收悉"), which decide alone
    contains: tuple[str, ...] = ()
    # text the message starts with, at any length, deciding alone like contains: a reply's address to the writer
    # ("网友“…”：您好", "来信人：")
    starts: tuple[str, ...] = ()

    @property
    def strength(self) -> int:
        """Which of several applying blockers decides: 3 hard, 2 soft but firm or not now, 1 plain soft."""
        return 3 if not self.soft else 2 if self.firm or self.not_now else 1


@dataclass(frozen=True)
class UrgentRule:
    reason: str
    patterns: tuple[Pattern, ...]
    unless: tuple[Pattern, ...]


@dataclass(frozen=True)
class Rules:
    path: Path
    window: int
    negators: frozenset[str]
    negation_scope: int
    min_score: int
    strong_score: int
    cue_only_score: int
    cues: tuple[Weighted, ...]
    blockers: tuple[Blocker, ...]
    categories: tuple[Category, ...]
    urgent: tuple[UrgentRule, ...]
    thresholds: dict[str, float]
    # words that, in a message the model takes for chatter and only a danger word would file, say the danger is
    # not here and now (上个月, 同事说, 结果是, 梦见): such a message is not filed
    doubts: tuple[Pattern, ...] = ()
    doubts_unless: tuple[Pattern, ...] = ()  # ...unless one of these says it is now after all (现在又, 还没)
    # problems a resident states in a short line ("停电啦", "木有暖气啊~", "楼上装修吵死了"): such a line is a request
    # however chatty its wording, unless a blocker or one of states_unless says it is elsewhere or another time
    states: tuple[Pattern, ...] = ()
    states_unless: tuple[Pattern, ...] = ()
    # ...and these only when they come before the problem ("明天要停水吗" but not "吵醒了，明天还得上班")
    states_before: tuple[Pattern, ...] = ()
    states_max_chars: int = 0
    # words that make a danger talk of a hazard, not a danger here and now: before it, at most talk_scope words ahead
    # in its clause ("一旦发生火灾", "经常有人被困"), unless a talk_unless word stands between ("经常困人，今天又困住了");
    # or right after it ("倒塌的风险", "火灾隐患"); see urgent_talk in rules.yaml
    talk_before: frozenset[str] = frozenset()
    talk_after: frozenset[str] = frozenset()
    talk_scope: int = 0
    talk_unless: frozenset[str] = frozenset()
    # `before` words whose reach is the whole sentence, across commas ("一旦电梯出现故障或者停电，…，被困人员无法求救")
    talk_sentence: frozenset[str] = frozenset()

    def patterns(self) -> list[Pattern]:
        found = [w.pattern for w in self.cues]
        for b in self.blockers:
            found += [*b.patterns, *b.unless]
        for c in self.categories:
            found += [k.pattern for k in c.keywords] + [r.pattern for r in c.context]
        for u in self.urgent:
            found += [*u.patterns, *u.unless]
        return found + [*self.doubts, *self.doubts_unless, *self.states, *self.states_unless, *self.states_before]

    def words(self) -> set[str]:
        """Every token a rule can match: added to the tokenizer so they segment as units."""
        return set().union(*(p.words() for p in self.patterns()), self.negators, self.talk_before, self.talk_after,
                           self.talk_unless)


def load_rules(path: str | Path = DEFAULT_RULES) -> Rules:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RulesError(f"{path}:0: cannot read rules file: {e}") from e
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 0
        raise RulesError(f"{path}:{line}: invalid YAML: {e.problem or e}") from e
    except yaml.YAMLError as e:
        raise RulesError(f"{path}:0: invalid YAML: {e}") from e
    if root is None:
        raise RulesError(f"{path}:1: rules file is empty")
    return _Reader(path).rules(root)


class _Reader:
    """Walks the YAML node tree so each complaint can point at the node's line."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: Node, reason: str) -> RulesError:
        return RulesError(f"{self.path}:{node.start_mark.line + 1}: {reason}")

    def mapping(self, node: Node, what: str, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Node]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping")
        fields: dict[str, Node] = {}
        for key_node, value in node.value:
            key = self.scalar(key_node, f"key in {what}")
            if key not in required and key not in optional:
                allowed = ", ".join(required + optional)
                raise self.fail(key_node, f"unknown field {key!r} in {what} (allowed: {allowed})")
            if key in fields:
                raise self.fail(key_node, f"duplicate field {key!r} in {what}")
            fields[key] = value
        for key in required:
            if key not in fields:
                raise self.fail(node, f"{what} is missing field {key!r}")
        return fields

    def scalar(self, node: Node, what: str) -> str:
        if not isinstance(node, ScalarNode) or node.value == "":
            raise self.fail(node, f"{what} must be a non-empty scalar")
        return node.value

    def string(self, node: Node, what: str) -> str:
        return self.scalar(node, what).strip()

    def integer(self, node: Node, what: str, lo: int, hi: int) -> int:
        if not isinstance(node, ScalarNode) or not node.tag.endswith(":int"):
            raise self.fail(node, f"{what} must be an integer, got {getattr(node, 'value', node)!r}")
        value = int(node.value.replace("_", ""), 0)
        if not lo <= value <= hi:
            raise self.fail(node, f"{what} must be between {lo} and {hi}, got {value}")
        return value

    def number(self, node: Node, what: str) -> float:
        if not isinstance(node, ScalarNode) or not node.tag.endswith((":int", ":float")):
            raise self.fail(node, f"{what} must be a number, got {getattr(node, 'value', node)!r}")
        value = float(node.value)
        if not 0.0 <= value <= 1.0:
            raise self.fail(node, f"{what} must be between 0 and 1, got {value}")
        return value

    def boolean(self, node: Node, what: str) -> bool:
        if not isinstance(node, ScalarNode) or not node.tag.endswith(":bool"):
            raise self.fail(node, f"{what} must be true or false")
        return node.value.lower() in ("true", "yes", "on")

    def seq(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{what} must be a list")
        return list(node.value)

    def pattern(self, node: Node, what: str) -> Pattern:
        try:
            return Pattern.parse(self.scalar(node, what))
        except ValueError as e:
            raise self.fail(node, f"{what}: {e}") from None

    def patterns(self, node: Node, what: str) -> tuple[Pattern, ...]:
        return tuple(self.pattern(n, what) for n in self.seq(node, what))

    def weighted(self, node: Node, what: str) -> tuple[Weighted, ...]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{what} must be a mapping of pattern: weight")
        seen: set[str] = set()
        out = []
        for key_node, value in node.value:
            pattern = self.pattern(key_node, f"pattern in {what}")
            if pattern.text in seen:
                raise self.fail(key_node, f"duplicate pattern {pattern.text!r} in {what}")
            seen.add(pattern.text)
            out.append(Weighted(pattern, self.integer(value, f"weight of {pattern.text!r}", -10, 10)))
        return tuple(out)

    def rules(self, root: Node) -> Rules:
        f = self.mapping(root, "rules file",
                         ("version", "window", "negation", "thresholds", "request", "categories", "urgent"),
                         ("urgent_talk",))
        self.integer(f["version"], "version", 1, 1)
        neg = self.mapping(f["negation"], "negation", ("words", "scope"))
        thresholds = self.mapping(f["thresholds"], "thresholds", THRESHOLD_KEYS)
        req = self.mapping(f["request"], "request",
                           ("min_score", "strong_score", "cue_only_score", "cues", "blockers"), ("doubts", "states"))
        categories = tuple(self.category(n) for n in self.seq(f["categories"], "categories"))
        codes = [c.code for c in categories]
        for node, code in zip(f["categories"].value, codes):
            if codes.count(code) > 1:
                raise self.fail(node, f"duplicate category code {code!r}")
        if "other" not in codes:
            raise self.fail(f["categories"], "categories must include code 'other' (used for non-requests)")
        return Rules(
            path=self.path,
            window=self.integer(f["window"], "window", 1, 20),
            negators=frozenset(self.string(n, "negation word") for n in self.seq(neg["words"], "negation.words")),
            negation_scope=self.integer(neg["scope"], "negation.scope", 0, 5),
            min_score=self.integer(req["min_score"], "request.min_score", 1, 50),
            strong_score=self.integer(req["strong_score"], "request.strong_score", 1, 50),
            cue_only_score=self.integer(req["cue_only_score"], "request.cue_only_score", 1, 50),
            cues=self.weighted(req["cues"], "request.cues"),
            blockers=tuple(self.blocker(n) for n in self.seq(req["blockers"], "request.blockers")),
            categories=categories,
            urgent=tuple(self.urgent(n) for n in self.seq(f["urgent"], "urgent")),
            thresholds={k: self.number(thresholds[k], f"thresholds.{k}") for k in THRESHOLD_KEYS},
            **self.doubts(req["doubts"]) if "doubts" in req else {},
            **self.states(req["states"]) if "states" in req else {},
            **self.talk(f["urgent_talk"]) if "urgent_talk" in f else {},
        )

    def talk(self, node: Node) -> dict:
        f = self.mapping(node, "urgent_talk", ("before", "after", "scope"), ("unless", "sentence"))
        out: dict = {"talk_scope": self.integer(f["scope"], "urgent_talk.scope", 1, 10)}
        for side in ("before", "after", "unless", "sentence"):
            words = set()
            for n in self.seq(f[side], f"urgent_talk.{side}") if side in f else ():
                if not isinstance(n, ScalarNode) or not n.tag.endswith(":str"):
                    raise self.fail(n, f"urgent_talk.{side}: each entry must be a word, got {getattr(n, 'value', n)!r}")
                word = self.string(n, f"urgent_talk.{side} word")
                if not any(c.isalnum() for c in word) or any(c.isspace() or c == "|" for c in word):
                    raise self.fail(n, f"urgent_talk.{side}: {word!r} must be one word (no spaces, no '|', "
                                       "not punctuation alone)")
                if word in words:
                    raise self.fail(n, f"urgent_talk.{side}: {word!r} is listed twice")
                words.add(word)
            out[f"talk_{side}"] = frozenset(words)
        both = out["talk_before"] & out["talk_after"]
        if both:
            raise self.fail(f["after"], f"urgent_talk: {sorted(both)} both before and after")
        stray = out["talk_sentence"] - out["talk_before"]
        if stray:
            raise self.fail(f["sentence"], f"urgent_talk.sentence: {sorted(stray)} must be `before` words too")
        return out

    def doubts(self, node: Node) -> dict[str, tuple[Pattern, ...]]:
        f = self.mapping(node, "request.doubts", ("patterns",), ("unless",))
        return {"doubts": self.patterns(f["patterns"], "request.doubts patterns"),
                "doubts_unless": self.patterns(f["unless"], "request.doubts unless") if "unless" in f else ()}

    def states(self, node: Node) -> dict:
        f = self.mapping(node, "request.states", ("max_chars", "patterns"), ("unless", "before"))
        return {"states": self.patterns(f["patterns"], "request.states patterns"),
                "states_unless": self.patterns(f["unless"], "request.states unless") if "unless" in f else (),
                "states_before": self.patterns(f["before"], "request.states before") if "before" in f else (),
                "states_max_chars": self.integer(f["max_chars"], "request.states.max_chars", 1, 500)}

    def category(self, node: Node) -> Category:
        f = self.mapping(node, "category", ("code", "name"), ("keywords", "context"))
        code = self.string(f["code"], "category code")
        if not _CODE.match(code):
            raise self.fail(f["code"], f"category code {code!r} must be lower_snake_case ascii")
        what = f"category {code}"
        keywords = _count_once(self.weighted(f["keywords"], f"{what} keywords")) if "keywords" in f else ()
        context = tuple(self.context(n, what) for n in self.seq(f["context"], f"{what} context")) if "context" in f else ()
        return Category(code, self.string(f["name"], f"{what} name"), keywords, context)

    def context(self, node: Node, what: str) -> ContextRule:
        f = self.mapping(node, f"context rule of {what}", ("match", "why"), ("add", "suppress"))
        if "add" not in f and "suppress" not in f:
            raise self.fail(node, f"context rule of {what} needs 'add' or 'suppress'")
        return ContextRule(
            pattern=self.pattern(f["match"], f"context match of {what}"),
            add=self.integer(f["add"], f"context add of {what}", -10, 10) if "add" in f else 0,
            suppress=self.boolean(f["suppress"], "suppress") if "suppress" in f else False,
            why=self.string(f["why"], "why"),
        )

    def blocker(self, node: Node) -> Blocker:
        f = self.mapping(node, "blocker", ("kind",), ("patterns", "prefix", "unless", "soft", "negatable", "firm",
                                                                  "not_now", "contains", "starts"))
        if not {"patterns", "prefix", "contains", "starts"} & set(f):
            raise self.fail(node, "blocker needs 'patterns', 'prefix', 'contains' or 'starts'")
        if {"contains", "starts"} & set(f) and ({"patterns", "prefix", "unless", "soft", "firm"} & set(f)):
            raise self.fail(node, "a 'contains' or 'starts' blocker decides alone: "
                                  "give it no patterns, prefix, unless, soft or firm")
        return Blocker(
            kind=self.string(f["kind"], "blocker kind"),
            patterns=self.patterns(f["patterns"], "blocker patterns") if "patterns" in f else (),
            prefixes=tuple(self.scalar(n, "prefix") for n in self.seq(f["prefix"], "prefix")) if "prefix" in f else (),
            unless=self.patterns(f["unless"], "blocker unless") if "unless" in f else (),
            soft=self.boolean(f["soft"], "soft") if "soft" in f else False,
            negatable=self.boolean(f["negatable"], "negatable") if "negatable" in f else False,
            firm=self.boolean(f["firm"], "firm") if "firm" in f else False,
            not_now=self.boolean(f["not_now"], "not_now") if "not_now" in f else False,
            contains=self.texts(f, "contains"),
            starts=self.texts(f, "starts"),
        )

    def texts(self, f: dict[str, Node], key: str) -> tuple[str, ...]:
        """f[key]'s strings, normalised as messages are (full-width punctuation written in the file still matches)."""
        return tuple(normalise(self.scalar(n, key)) for n in self.seq(f[key], key)) if key in f else ()

    def urgent(self, node: Node) -> UrgentRule:
        f = self.mapping(node, "urgent rule", ("reason", "patterns"), ("unless",))
        return UrgentRule(self.string(f["reason"], "urgent reason"), self.patterns(f["patterns"], "urgent patterns"),
                          self.patterns(f["unless"], "urgent unless") if "unless" in f else ())


def _count_once(keywords: tuple[Weighted, ...]) -> tuple[Weighted, ...]:
    """A word listed on several one-word lines of a category counts once, with the highest weight it is given:
    a community that adds 物业 to a second list must not make every message about 物业 score twice."""
    best: dict[str, int] = {}
    for kw in keywords:
        if len(kw.pattern.parts) == 1:
            for word in kw.pattern.parts[0]:
                best[word] = max(best.get(word, kw.weight), kw.weight)
    out, placed = [], set()
    for kw in keywords:
        if len(kw.pattern.parts) > 1:
            out.append(kw)
            continue
        words = sorted(w for w in kw.pattern.parts[0] if best[w] == kw.weight and w not in placed)
        placed.update(words)
        if words == sorted(kw.pattern.parts[0]):
            out.append(kw)
        elif words:
            out.append(Weighted(Pattern.parse("|".join(words)), kw.weight))
    return tuple(out)
