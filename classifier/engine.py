"""The Classifier: normalise, model score, prefilter, tokenise, rules as votes and overrides, urgency, place."""
from __future__ import annotations

import math
import re
from itertools import repeat
from operator import itemgetter, sub

from classifier.features import char_features
from classifier.linear import LinearModel, log_softmax, with_urgency
from classifier.location import BuildingIndex, parse_location
from classifier.model import Classification
from classifier.patterns import Pattern, token_index
from classifier.prefilter import Prefilter
from classifier.rules import Rules
from classifier.tokenize import KNOWN_LIMIT, Segmenter, make_tokenizer, normalise, user_words


# How far the rules' verdict moves the request model's log-odds (per point of rule evidence above the threshold,
# capped), what a blocker does, and how much a rule point weighs against the category model's log-probability.
# Chosen on the real dev split (`python -m classifier.crossval --dev --grid`, numbers in tests/data/classifier/real/
# README.md), with the written behaviour cases in tests/classifier as the check that group chat still works.
VOTE_PER_POINT = 0.6
VOTE_MAX = 4.0
VOTE_AGAINST = 0.0
SOFT_BLOCK_VOTE = -2.0
# A firm blocker (elsewhere, a story, a hypothetical, how-to and general questions) and problem words seen only negated
# ("门口没有积水了") speak against a request even when the model, which has read thousands of appeals full of problem
# words, is sure of one.
FIRM_BLOCK_VOTE = -4.0
# A hard blocker (notice, ad, resolved, news...): None decides alone; a number votes that much against instead.
# System lines ("[图片]", "加入了群聊") always decide alone.
HARD_BLOCK_VOTE: float | None = None
# Blockers and votes were written for group-chat lines; in a long letter their words are incidental (a "谢谢" closing
# an appeal, "如果" in its reasoning, problem words in an official reply), so beyond this many characters the model
# decides without them. The category rules and the urgent rules still apply.
RULES_MAX_CHARS = 100
RULE_POINT = 0.4
# In a letter longer than RULES_MAX_CHARS a rule point weighs half as much: its keywords are many and often incidental
# (a 物业 named in passing), and the category model has read more of its text. Out of fold on the real training lines
# (5 folds by source row) appeals' category went 0.678 -> 0.683, dev 0.735 -> 0.746 (see the data README).
RULE_POINT_LONG = 0.2
URGENT_FLOOR = 0.2
# The urgent model (trained on the labelled requests) next to the urgent rules: a request it is this sure of is
# urgent though no rule names its danger, and a rule's danger does not stand when it is this sure there is none
# ("高空抛物砸车了，车顶砸了个坑" names 砸 but is no present danger). `python -m classifier.crossval --grid urgent FILE...`
# searches them on labelled files. Its doubt counts on a line written like chat only (P(chat) >= 0.5 by the register
# model): it learnt dangers from 1,712 urgent written group-chat lines and from 19 real letters, so it doubts every
# letter (0.00-0.02 on the real urgent ones). Out of fold on the real training lines (crossval --real-folds) the
# doubt on letters too found 6 of 19 urgent lines at 0.136 precision; on chat only, see the data README.
URGENT_MODEL_SAYS = 0.45
URGENT_MODEL_DOUBTS = 0.02
REQUEST_THRESHOLD = 0.5
# A problem stated in a short line (rules.yaml, request.states: "停电啦", "木有暖气啊~") lifts the request probability to
# at least this, whatever the model says of its chatty wording: the model, which has read thousands of formal appeals
# and tens of thousands of Weibo and SMS lines, puts such vents below 0.05. Out of fold on the real training split's
# keyword chat lines (python -m classifier.crossval --real-folds) see the data README.
STATED_FLOOR = 0.75
# How a line is written (the register model, learnt from where the corpus's unlabelled lines come from: board appeals,
# official replies, SMS and Weibo) moves the bar a request must clear. A chatty line needs up to CHAT_MARGIN more
# (REQUEST_THRESHOLD + CHAT_MARGIN x P(chat)): among real SMS and Weibo lines that name a home problem one in ten is a
# request, among board appeals nine in ten, and the request model, trained mostly on appeals, gives a chatty line
# about a car or a rat 0.55 as readily as a letter. A stated problem (STATED_FLOOR) and a danger (URGENT_FLOOR) are
# not held to it. A line that reads more like an official reply than anything else (P(reply) >= REPLY_BLOCK) is not a
# request at any probability. Out of fold on the real training split (crossval --real-folds), see the data README.
CHAT_MARGIN = 0.15
REPLY_BLOCK = 0.5
# ...nor is a line that asks in so many words: request cues worth this many points ("物业管管", "没人管", "咋办" +
# "啥时候修"). In a residents' group every line is written like chat; the extra bar is for chatty lines with weak
# evidence, not for an explicit ask. Out of fold: keyword chat false alarms 36 -> 39 of 776, dev recall 7 -> 8 of 16.
ASKED_CUE = 3
# A message that @-mentions the bot (or a staff member) asks in so many words: the mention counts as that many cue
# points ("@睦邻助手 家里有老鼠？？？"), and a problem it names is filed as a stated one (STATED_FLOOR) unless a blocker
# holds it or it is said to be elsewhere or at another time. "@睦邻助手 你好" names no problem and stays chatter (the
# bot answers it with help instead, handlers.addressed).
ADDRESSED_CUE = ASKED_CUE
# ...a problem worth this many points, in a line of chat length (request.states max_chars) that no blocker holds
# ("哈哈哈垃圾"): a place word alone ("@睦邻助手 马上到楼下", 楼下 +1) or a letter is no report to the bot
ADDRESSED_PROBLEM = 2
_LOG_FLOOR = math.log(1e-9)
# tokens that end a clause (the text is normalised to half-width punctuation first; whitespace is no token)
_EMOTICON = re.compile(r"\[[^\[\]]{1,8}\]")
_CLAUSE_BREAKS = frozenset(",.!?;:~…、。，！？；：")
_SENTENCE_ENDS = frozenset(".!?;。！？；")


class Classifier:
    def __init__(self, rules: Rules, models: tuple[LinearModel, ...], buildings: BuildingIndex | None = None):
        """models: the request and category models, and optionally the urgent model (without it, rules alone) and the
        register model (without it, every line is held to REQUEST_THRESHOLD alone)."""
        self.rules = rules
        self.buildings = buildings
        self.request_model, self.category_model = models[:2]
        self.urgent_model = models[2] if len(models) > 2 else None
        self.register_model = models[3] if len(models) > 3 else None  # appeal / reply / chat, see CHAT_MARGIN
        # what a request is scored with: the category model, and the urgent model as one more column
        self._scorer = with_urgency(*models[1:3]) if self.urgent_model is not None else self.category_model
        self._categories = len(self.category_model.labels)
        # the category model's column for each rule category (None: a category added after training)
        self._columns = [self.category_model.labels.index(c.code) if c.code in self.category_model.labels else None
                         for c in rules.categories]
        self._position = {c.code: i for i, c in enumerate(rules.categories)}
        self._by_rule = self._rule_order(self._columns)
        self.thresholds = dict(rules.thresholds)
        self._names = {c.code: c.name for c in rules.categories}
        self._rule_words = rules.words()
        # Category words stay whole when they are tokens (打不着火 is no 着火); words that only cues, blockers or
        # urgent rules use are looked inside, so "有煤气味" still holds the gas keyword 煤气味.
        self._whole = {w for c in rules.categories for k in (*c.keywords, *c.context) for w in k.pattern.words()}
        self._atomic = set(user_words()) | (buildings.words() if buildings else set())
        self._tok = make_tokenizer(self._rule_words | self._atomic)
        self._words = Segmenter(self._tok).words
        self._inner: dict[str, tuple[str, ...]] = {}  # token -> the rule words inside it, see inner_words()
        # word -> one-part patterns holding it (present as soon as the word is), and (pattern, part) of the rest
        self._singles: dict[str, list[Pattern]] = {}
        self._postings: dict[str, list[tuple[Pattern, int, int]]] = {}  # (pattern, bit of this part, all bits)
        for pattern in rules.patterns():
            full = (1 << len(pattern.parts)) - 1
            for i, part in enumerate(pattern.parts):
                for word in part:
                    if len(pattern.parts) == 1:
                        self._singles.setdefault(word, []).append(pattern)
                    else:
                        self._postings.setdefault(word, []).append((pattern, 1 << i, full))
        self.retune()
        self._prefilter = Prefilter(rules)
        # System lines ("[文件]…", "[图片]…") are decided by prefix alone, with no tokenising; every other blocker
        # (notice headings included) is judged in _Message.blocked, on chat-length lines only (RULES_MAX_CHARS).
        # Blockers by how the text starts, at any length, decide the same way: a reply's address to the writer
        # ("网友“…”：您好").
        self._prefix_blocks = [(b.prefixes, b.kind) for b in rules.blockers if b.prefixes and not b.soft and not b.unless
                               and b.kind == "system"] + [(b.starts, b.kind) for b in rules.blockers if b.starts]
        # Blockers by text anywhere, at any length: an official reply's formulas ("现回复如下") decide alone.
        self._anywhere = [(b.contains, b.kind) for b in rules.blockers if b.contains]
        # pattern -> its category rules as (rank, code, pattern, points, tag, suppress, is a keyword): a message
        # visits only the rules whose pattern it holds, sorted by rank, the order the rules file lists them in; the
        # tag is the rule's part of its line in `matched`, formatted once here
        self._category_rules: dict[Pattern, list[tuple]] = {}
        ranked = []
        for cat in rules.categories:
            code = cat.code
            ranked += [(code, kw.pattern, kw.weight, f"({code},{kw.weight:+d})", False, True) for kw in cat.keywords]
            ranked += [(code, x.pattern, x.add, f"ctx:{x.why}({code},{'suppress' if x.suppress else f'{x.add:+d}'})",
                        x.suppress, False) for x in cat.context]
        for rank, entry in enumerate(ranked):
            self._category_rules.setdefault(entry[1], []).append((rank, *entry))
        # each blocker's and urgent rule's patterns as a set: most messages hold none of them, one check says so
        self._blockers = [(b, frozenset(b.patterns)) for b in rules.blockers]
        self._urgent = [(u, frozenset(u.patterns)) for u in rules.urgent]
        self._urgent_patterns = frozenset(p for u in rules.urgent for p in u.patterns)
        self._cue_patterns = frozenset(w.pattern for w in rules.cues)
        self._doubts = frozenset(rules.doubts)
        self._states = frozenset(rules.states)

    @staticmethod
    def _rule_order(columns: list[int | None]):
        """log-probabilities in model order -> a list in rules order; a category the model lacks gets the best."""
        if None not in columns:
            pick = itemgetter(*columns)
            return lambda logp: list(pick(logp)) if len(columns) > 1 else [logp[columns[0]]]
        return lambda logp: [max(logp) if col is None else logp[col] for col in columns]

    def retune(self) -> None:
        """Derives the skip bounds from the module's combiner constants (again after a grid search moves them)."""
        floor = math.log(URGENT_FLOOR / (1 - URGENT_FLOOR))
        self._hopeless = _sigmoid(floor - VOTE_MAX)  # even the strongest vote leaves it below the urgent floor
        # below this even the strongest vote leaves a message short of a request (it could still be urgent)
        self._liftable = _sigmoid(math.log(REQUEST_THRESHOLD / (1 - REQUEST_THRESHOLD)) - VOTE_MAX)
        # below this, a message the rules vote against (VOTE_AGAINST or less) cannot reach the urgent floor
        self._urgent_min = _sigmoid(floor - VOTE_AGAINST)

    @property
    def categories(self) -> list[tuple[str, str]]:
        return list(self._names.items())

    def category_name(self, code: str) -> str:
        return self._names.get(code, self._names["other"])

    def tokens(self, text: str) -> list[str]:
        return self._words(normalise(text))

    def classify(self, text: str, explain: bool = False, addressed: bool = False) -> Classification:
        """explain: also name the features that weigh most for the category in `matched` (what `mulin classify`
        prints for a person; it costs a tenth of the time of a request, so the bot does without). addressed: the
        writer @-mentioned the bot or a staff member (the @-names already taken out of `text`), see ADDRESSED_CUE."""
        norm = normalise(text)
        head = norm.lstrip()
        if not head:
            return self._not_request(1.0, "empty")
        for prefixes, kind in self._prefix_blocks:
            if head.startswith(prefixes):
                return self._not_request(0.95, f"block:{kind}")
        for markers, kind in self._anywhere:
            if any(m in norm for m in markers):
                return self._not_request(0.95, f"block:{kind}")
        features = char_features(norm)
        p_request = self.request_model.yes_probability(features)
        # Skip tokenising when no rule vote could lift the model to a request: even the strongest vote cannot lift
        # a probability below _hopeless, and below the threshold only rules that say "request" or name a danger can.
        heard = None
        if p_request < REQUEST_THRESHOLD and not addressed and not self._may_lift(norm, p_request) and not (
                heard := self._urgent_heard(features, p_request)):
            return self._not_request(round(1.0 - p_request, 2), f"model:request {p_request:.2f}")
        return _Message(self, norm, features, p_request, explain, scored=heard, addressed=addressed).decide()

    def as_request(self, text: str, addressed: bool = False) -> Classification:
        """A message a staff member files by hand (handlers.staff_filing): whether it is a request is their call, so
        it is one here; category and place are the classifier's as for any request (the category model and the
        rule points), urgency only as the rules and the urgent model find it when they file it themselves."""
        found = self.classify(text, addressed=addressed)
        if found.is_request:
            return found
        norm = normalise(text)
        message = _Message(self, norm, char_features(norm), 0.0, addressed=addressed)
        code, p_category = message.category(message.scores())
        return Classification(True, code, self.category_name(code), round(p_category, 2),
                              location=parse_location(norm, self.buildings), matched=[*message.matched, "filed:staff"])

    def names_a_problem(self, text: str) -> bool:
        """Does the text hold the rules' words of a problem, enough for them to say "request" or to state one (the
        prefilter's bound, on substrings)? What 抽查 draws its near misses from among the messages not filed."""
        say, _, stated = self._prefilter.reach(normalise(text))
        return say or stated

    def inner_words(self, tok: str) -> tuple[str, ...]:
        """The rule words inside a token, to index at its place ("坏了" also as "坏"). Community and category words
        stay whole: 电梯口 is no 电梯, 打不着火 no 着火; a word only cues or urgent rules name ("关在电梯") is looked
        inside like jieba's own. Remembered per token, bounded like the segmenter's fragments."""
        inner = [tok[:-1]] if len(tok) >= 2 and tok.endswith("了") else []
        # a whole word with 了 is that word and 了: 烧起来了 holds no 来了, as 烧起来 holds no 起来
        stems = (tok, inner[0]) if inner else (tok,)
        whole = any(t in self._atomic or t in self._whole for t in stems)
        # a run of letters and digits is one thing (a year, a room, a model name): "20119" holds no 119
        if len(tok) >= 3 and not whole and not (tok.isascii() and tok.isalnum()):
            inner += [tok[i:i + size] for size in range(2, len(tok)) for i in range(len(tok) - size + 1)
                      if tok[i:i + size] in self._rule_words]
        if len(self._inner) >= KNOWN_LIMIT:
            self._inner.clear()
        self._inner[tok] = found = tuple(inner)
        return found

    def _not_request(self, confidence: float, reason: str) -> Classification:
        return Classification(False, "other", self._names["other"], confidence, matched=[reason])

    def _urgent_heard(self, features: list[str], p_request: float) -> tuple | None:
        """Does the urgent model hear a danger in a message the request model leaves between the urgent floor and the
        threshold? A danger is filed from the floor up, whether a rule names it or the model hears it. The scorer's
        (known rows, logits) when it does, for the message to go on with (see _Message.scored); else None."""
        if self.urgent_model is None or p_request < URGENT_FLOOR:
            return None
        known = self._scorer.known(features)
        logits = self._scorer.logits(features, known)
        return (known, logits) if _sigmoid(logits[-1]) >= URGENT_MODEL_SAYS else None

    def _may_lift(self, norm: str, p_request: float) -> bool:
        """Could the rules lift this message (model probability below the threshold) to a request? A vote for
        lifts at most VOTE_MAX, so far below the threshold only a danger (urgent floor) still counts; a problem stated
        in a short line (request.states) lifts from any probability."""
        short = _chat_length(norm) <= self.rules.states_max_chars
        if p_request < self._hopeless and not short:
            return False
        say, urgent, stated = self._prefilter.reach(norm)
        if stated and short:
            return True
        if p_request < self._hopeless:
            return False
        if say:
            return p_request >= (self._hopeless if urgent else self._liftable)
        return urgent and p_request >= self._urgent_min


class _Message:
    """One classification in progress; keeps the tokens and the human-readable reasons."""

    def __init__(self, clf: Classifier, norm: str, features: list[str], p_request: float, explain: bool = False,
                 scored: tuple | None = None, addressed: bool = False):
        self.clf, self.rules, self.norm = clf, clf.rules, norm
        self.addressed = addressed
        self.explain = explain
        self.features, self.p_request = features, p_request
        self.suppressed: set[str] = set()
        self.tokens = clf._words(norm)
        self.index = token_index(self.tokens)
        self.matched: list[str] = []
        self.negated = False  # some rule word was found only negated ("没有积水")
        self.firm = False  # the soft block that applied stands even against strong problem words
        self.not_now = False  # the block that applied says the message is about another time or place: not urgent
        self._scored = scored  # (known rows, logits) of the scorer, see scored(); given when already computed
        self._may_talk: bool | None = None
        self._clause_at: list[int] | None = None
        self._sentence_at: list[int] | None = None
        self._if_at: list[int] | None = None
        self._register: dict[str, float] | None = None
        self._index_inner_words(clf)
        self.present = self._present_patterns(clf)
        negators = self.rules.negators
        self.negators_at = [i for i, tok in enumerate(self.tokens) if tok in negators]  # mostly none

    def _present_patterns(self, clf: Classifier) -> set[Pattern]:
        """Patterns with every part somewhere in the message; only these are worth locating. A one-part pattern's
        place is known here already (its words' first places, the earliest), kept in self.first for hit()."""
        present: set[Pattern] = set()
        first: dict[Pattern, int] = {}
        seen: dict[Pattern, int] = {}
        singles, postings = clf._singles, clf._postings
        for word, places in self.index.items():
            if word in singles:
                at = places[0]
                for pattern in singles[word]:
                    if at < first.get(pattern, at + 1):
                        first[pattern] = at
            if word in postings:
                for pattern, bit, full in postings[word]:
                    got = seen.get(pattern, 0) | bit
                    seen[pattern] = got
                    if got == full:
                        present.add(pattern)
        self.first = first
        present.update(first)
        return present

    def _index_inner_words(self, clf: Classifier) -> None:
        """jieba's own long words can swallow a rule word (灯不亮 ⊃ 不亮): index those inner words too,
        and "坏了" also as "坏". Each token's inner words are worked out once per process (Classifier.inner_words)."""
        index, known = self.index, clf._inner
        for pos, tok in enumerate(self.tokens):
            inner = known.get(tok)
            if inner is None:
                inner = clf.inner_words(tok)
            for word in inner:
                index.setdefault(word, []).append(pos)

    def _find(self, pattern: Pattern) -> tuple[int, int, tuple[int, ...]] | None:
        """(start, end, matched places) of the pattern's first match, negated or not; None when absent."""
        start = self.first.get(pattern)
        if start is not None:  # a one-part pattern, found with its first place
            return start, start, (start,)
        return pattern.find(self.index, self.rules.window)

    def hit(self, pattern: Pattern, negatable: bool = True) -> str | None:
        """The matched words joined by '+', or None when absent or negated ("没有积水")."""
        if pattern not in self.present:
            return None
        found = self._find(pattern)
        if found is None:
            return None
        start, end, positions = found
        words = _word_at(self.tokens[start], pattern.parts[0]) if len(positions) == 1 else \
            "+".join(_word_at(self.tokens[i], part) for i, part in zip(positions, pattern.parts))
        if not negatable or not self.negators_at or not self._negated(start, end, positions):
            return words
        if len(pattern.parts) == 1:  # a later place may stand free: "不是说停水到四点吗，这都六点了还没来水"
            part = pattern.parts[0]
            index = self.index
            for at in sorted(p for w in part if w in index for p in index[w] if p > start):
                if not self._negated(at, at, (at,)):
                    return _word_at(self.tokens[at], part)
        self.negated = True
        self.matched.append(f"negated:{words}")
        return None

    def first_hit(self, patterns, negatable: bool = True) -> str | None:
        """The words of the first of `patterns` that hits (see hit), in their order; None when none does."""
        present = self.present
        return next((w for p in patterns if p in present and (w := self.hit(p, negatable))), None)

    def _danger(self, hit) -> str | None:
        """The reason of the first urgent rule whose patterns `hit` finds and whose unless does not apply."""
        present = self.present
        return next((u.reason for u, patterns in self.clf._urgent if not present.isdisjoint(patterns)
                     and hit(u.patterns) and not self.first_hit(u.unless)), None)

    @property
    def may_talk(self) -> bool:
        """Some token is an urgent_talk `before` word, or is or ends with an `after` word (jieba keeps 火灾隐患 whole):
        only then can a danger be talk of a hazard (mostly not)."""
        if self._may_talk is None:
            r = self.rules
            self._may_talk = any(tok in r.talk_before or tok in r.talk_after or _ends_with_any(tok, r.talk_after)
                                 for tok in self.tokens)
        return self._may_talk

    @property
    def if_at(self) -> list[int]:
        """Places of the urgent_talk `sentence` words (一旦, 如果 …), whose reach is their whole sentence."""
        if self._if_at is None:
            words = self.rules.talk_sentence
            self._if_at = [i for i, tok in enumerate(self.tokens) if tok in words]
        return self._if_at

    @property
    def clause_at(self) -> list[int]:
        """Each token's clause number. A clause ends at punctuation, at a token that is no word (an emoji, "/") and
        where the text had a space or a line break between two tokens ("去年就着火过 今天楼道又着火了")."""
        if self._clause_at is None:
            self._number_clauses()
        return self._clause_at

    @property
    def sentence_at(self) -> list[int]:
        """Each token's sentence number: a sentence ends at . ! ? ; (and 。！？；) and where the text had a space or a
        line break between two tokens; commas do not end it."""
        if self._sentence_at is None:
            self._number_clauses()
        return self._sentence_at

    def _number_clauses(self) -> None:
        clause, sentence, clauses, sentences, at, norm = 0, 0, [], [], 0, self.norm
        for tok in self.tokens:
            found = norm.find(tok, at)
            gap = found > at  # a space, a line break or a character the tokenizer dropped comes between
            no_word = tok in _CLAUSE_BREAKS or not any(c.isalnum() for c in tok)
            clause += gap + no_word
            sentence += gap
            clauses.append(clause)
            sentences.append(sentence)
            clause += no_word
            sentence += tok in _SENTENCE_ENDS
            at = found + len(tok) if found >= 0 else at
        self._clause_at, self._sentence_at = clauses, sentences

    def danger_hit(self, patterns) -> str | None:
        """The words of the first of `patterns` that names a danger here and now: a place where it matches that is
        neither negated nor said as talk of a hazard (urgent_talk in rules.yaml: "一旦发生火灾", "经常有人被困",
        "有坍塌的风险"). A letter that names the same danger once more, plainly, is urgent. Worth asking only when
        may_talk: without a talk word first_hit says the same, for less."""
        for pattern in patterns:
            if pattern not in self.present:
                continue
            talked = None
            for start, end, positions in pattern.find_all(self.index, self.rules.window):
                if self.negators_at and self._negated(start, end, positions):
                    continue
                words = "+".join(_word_at(self.tokens[i], part) for i, part in zip(positions, pattern.parts))
                if not self._talked(start, end, positions):
                    return words
                talked = talked or words
            if talked and not any(m.startswith("hazard talk:") for m in self.matched):
                self.matched.append(f"hazard talk:{talked}")
        return None

    def _talked(self, start: int, end: int, positions: tuple[int, ...]) -> bool:
        """Talk of a hazard (urgent_talk): an `after` word right behind the match (its last token ending with one,
        as 火灾隐患, or the next token, or the one after 的); or a `before` word at most `scope` tokens ahead of the
        match in the clause of its last word, with no `unless` word between them. Matched tokens are no talk words."""
        tokens, r = self.tokens, self.rules
        if _ends_with_any(tokens[end], r.talk_after):
            return True
        nxt = end + 2 if end + 2 < len(tokens) and tokens[end + 1] == "的" else end + 1
        if nxt < len(tokens) and tokens[nxt] in r.talk_after:
            return True
        clause = self.clause_at
        for i in range(max(0, start - r.talk_scope), end):
            if tokens[i] in r.talk_before and i not in positions and clause[i] == clause[end] and \
                    r.talk_unless.isdisjoint(tokens[i + 1:end + 1]):
                return True
        if r.talk_sentence:
            sentence = self.sentence_at
            for i in self.if_at:
                if i < start and sentence[i] == sentence[end] and r.talk_unless.isdisjoint(tokens[i + 1:end + 1]):
                    return True
        return False

    def _negated(self, start: int, end: int, positions: tuple[int, ...]) -> bool:
        """A negator within negation_scope tokens before the match, or inside it, that is not itself matched; the end
        of a clause (clause_at: punctuation, an emoji, a space) ends its reach ("一点热乎气都木有，冻得俺手都伸不出来"
        and "电卡买了电输不进去 电表上一直显示err": 冻得 and 电表 are not negated)."""
        low = start - self.rules.negation_scope
        clause = self.clause_at
        return any(low <= i <= end and i not in positions and (i > start or clause[i] == clause[start])
                   for i in self.negators_at)

    def blocked(self) -> tuple[str | None, bool]:
        """(kind, soft) of the strongest blocker that applies (Blocker.strength), e.g. ('notice', False): a hard one,
        else a soft one that is firm or says not now, else a plain soft one; the first in the file among equals.
        Sets self.firm and self.not_now from it. ("停水那天我去我妈家蹭的饭，也挺好": the past, not the thanks, says
        what the line is.)"""
        head = self.norm.lstrip()
        present = self.present
        if len(head) > RULES_MAX_CHARS:
            return None, False
        best = None
        for b, patterns in self.clf._blockers:
            if best is not None and b.strength <= best.strength:
                continue
            if head.startswith(b.prefixes) or (not present.isdisjoint(patterns) and any(
                    p in present and self.hit(p, b.negatable) for p in b.patterns)):
                if self.first_hit(b.unless, False) is None:
                    best = b
                    if b.strength == 3:
                        break
        if best is None:
            return None, False
        self.matched.append(f"block:{best.kind}")
        self.firm, self.not_now = best.firm, best.not_now
        return best.kind, best.soft

    def scores(self) -> dict[str, int]:
        scores: dict[str, int] = {}
        table = self.clf._category_rules
        held = sorted([entry for p in self.present if p in table for entry in table[p]])  # by rank: file order
        suppressed: set[str] = set()
        for _, code, pattern, points, tag, suppress, keyword in held:
            if keyword:
                if words := self.hit(pattern):
                    scores[code] = scores.get(code, 0) + points
                    self.matched.append("kw:" + words + tag)
            elif self.hit(pattern):
                if suppress:
                    suppressed.add(code)
                scores[code] = scores.get(code, 0) + points
                self.matched.append(tag)
        self.suppressed |= suppressed
        # negative scores stay: "电梯口" speaks against the lift even with no lift word; zero says nothing
        return {code: score for code, score in scores.items() if score and code not in suppressed}

    def decide(self) -> Classification:
        r, clf = self.rules, self.clf
        kind, soft = self.blocked()
        hard = kind is not None and not soft
        if hard and (HARD_BLOCK_VOTE is None or kind == "system"):
            return Classification(False, "other", clf.category_name("other"), 0.95, matched=self.matched)
        scores = self.scores()
        cue = 0
        present = self.present
        for w in r.cues if not present.isdisjoint(clf._cue_patterns) else ():
            if w.pattern in present and (words := self.hit(w.pattern, negatable=False)):  # cues already say "没人管" themselves
                cue += w.weight
                self.matched.append(f"cue:{words}({w.weight:+d})")
        if self.addressed:
            cue += ADDRESSED_CUE
            self.matched.append(f"cue:@bot({ADDRESSED_CUE:+d})")
        problem = max(0, max(scores.values(), default=0))
        evidence = problem + cue
        rules_say = (problem > 0 and evidence >= r.min_score) or cue >= r.cue_only_score
        # a soft block, or a problem the rules saw only negated ("门口没有积水了"), speaks against as much
        if hard:
            vote = HARD_BLOCK_VOTE
            self.not_now = True  # a notice, news or a resolved problem names no danger here and now
        elif (kind is not None and self.firm) or (self.negated and not rules_say):
            vote = FIRM_BLOCK_VOTE
        elif kind is not None and not (rules_say and evidence >= r.strong_score):
            vote = SOFT_BLOCK_VOTE
        elif rules_say and len(self.norm) <= RULES_MAX_CHARS:
            vote = min(VOTE_MAX, VOTE_PER_POINT * (evidence - r.min_score + 1))
        else:
            vote = VOTE_AGAINST
        p = min(max(self.p_request, 1e-6), 1 - 1e-6)
        p_request = _sigmoid(math.log(p / (1 - p)) + vote)
        # a stated problem stands against a soft blocker that speaks of no other place or time ("哈哈", "谢谢",
        # "你们家也停电了吗"), not against a hard, firm or not-now one (a notice, a dorm, yesterday)
        stated = None
        if (kind is None or (soft and not self.firm and not self.not_now)) and p_request < STATED_FLOOR and (
                stated := self.stated() or (kind is None and rules_say and problem >= ADDRESSED_PROBLEM
                                            and self.told_the_bot())):
            self.matched.append(f"states:{stated}")
            p_request = STATED_FLOOR
        dangerless = p_request < URGENT_FLOOR or self.not_now or present.isdisjoint(clf._urgent_patterns)
        # a danger named at all files a chatty line from the urgent floor up ("要是真被困了都没法求救" is a broken lift
        # phone); it is urgent only when named as a danger here and now, not as talk of a hazard (urgent_talk)
        danger = None if dangerless else self._danger(self.first_hit)
        reason = danger if danger is None or not self.may_talk else self._danger(self.danger_hit)
        self.matched.append(f"model:request {self.p_request:.2f}, with rules {p_request:.2f}")
        if danger and self.p_request < REQUEST_THRESHOLD and not present.isdisjoint(clf._doubts):
            danger = self._undoubted(danger)
            if danger is None:  # only its danger lifted it, and the danger is not here and now: the model decides
                p_request, reason = self.p_request, None
        model_says = False
        if clf.urgent_model is not None and not self.not_now and p_request >= URGENT_FLOOR:
            p_urgent = _sigmoid(self.scored()[1][-1])
            self.matched.append(f"model:urgent {p_urgent:.2f}")
            if danger and p_urgent < URGENT_MODEL_DOUBTS and self.reads_as_chat():
                self.matched.append(f"not urgent:{danger}")
                danger = reason = None
            model_says = reason is None and p_urgent >= URGENT_MODEL_SAYS
        # present danger is filed even when the wording leans towards chatter, but not when it clearly is chatter
        held_apart = danger or model_says or stated or cue >= ASKED_CUE
        if p_request < (URGENT_FLOOR if danger or model_says else REQUEST_THRESHOLD) or (
                clf.register_model is not None and not self.register_allows(p_request, held_apart)):
            return Classification(False, "other", clf.category_name("other"), round(1.0 - p_request, 2),
                                  matched=self.matched)
        code, p_category = self.category(scores)
        if model_says:
            reason = f"疑似险情（{clf.category_name(code)}）"
        if reason:
            self.matched.append(f"urgent:{reason}")
        location = parse_location(self.norm, clf.buildings)
        if location is not None and location.building:
            self.matched.append(f"place:{location.building}")
        confidence = max(p_request, 0.5 if danger or model_says else 0.0) * p_category
        return Classification(True, code, clf.category_name(code), round(confidence, 2),
                              reason is not None, reason, location, self.matched)

    def register(self) -> dict[str, float]:
        """P(appeal), P(reply), P(chat) by the register model (computed once)."""
        if self._register is None:
            model = self.clf.register_model
            self._register = dict(zip(model.labels, model.probabilities(self.features)))
        return self._register

    def reads_as_chat(self) -> bool:
        """Written like chat (P(chat) >= 0.5), or no register model to say otherwise."""
        return self.clf.register_model is None or self.register().get("chat", 0.0) >= 0.5

    def register_allows(self, p_request: float, held_apart: object) -> bool:
        """Does how the line is written let it be filed at this probability? Not when it reads as an official reply;
        a chatty line needs up to CHAT_MARGIN more, unless it states a problem, names a danger or asks in so many words
        (held_apart)."""
        p = self.register()
        p_reply, p_chat = p.get("reply", 0.0), p.get("chat", 0.0)
        if p_reply >= REPLY_BLOCK:
            self.matched.append(f"register:reply {p_reply:.2f}")
            return False
        if held_apart or p_request >= REQUEST_THRESHOLD + CHAT_MARGIN * p_chat:
            return True
        self.matched.append(f"register:chat {p_chat:.2f}")
        return False

    def stated(self) -> str | None:
        """The words of a problem this short line states (request.states), unless it is said to be elsewhere or at
        another time (request.states unless, anywhere; request.states before, ahead of the problem); None when it
        states none."""
        if self.present.isdisjoint(self.clf._states) or _chat_length(self.norm) > self.rules.states_max_chars:
            return None
        r = self.rules
        stated, words = next(((p, w) for p in r.states if p in self.present and (w := self.hit(p))), (None, None))
        if stated is None or self.first_hit(r.states_unless, False):
            return None
        if r.states_before and not self.present.isdisjoint(r.states_before):
            # a time or a person named after the problem belongs to another clause: "被楼下的炮声吵醒了明天又要上班"
            at = self._find(stated)[0]
            if any(p in self.present and (found := self._find(p)) is not None and found[0] <= at
                   for p in r.states_before):
                return None
        return words

    def told_the_bot(self) -> str | None:
        """"@bot" when the writer @-mentioned the bot with a problem the rules see, in a line of chat length, unless
        it is said to be elsewhere or at another time as a stated problem's would be (request.states unless and
        before, anywhere in the line: "@睦邻助手 明天要停水吗")."""
        r = self.rules
        if not self.addressed or _chat_length(self.norm) > r.states_max_chars:
            return None
        if self.first_hit(r.states_unless, False) or not self.present.isdisjoint(r.states_before):
            return None
        return "@bot"

    def scored(self) -> tuple:
        """The scorer's known rows and logits for this message (category logits, then the urgent log-odds), once."""
        if self._scored is None:
            known = self.clf._scorer.known(self.features)
            self._scored = known, self.clf._scorer.logits(self.features, known)
        return self._scored

    def _undoubted(self, reason: str) -> str | None:
        """A message only its danger would file: None when a doubt says the danger is not here and now
        ("上个月困了二十分钟", "同事说她们小区着火了"), unless the message says it is now after all ("现在又进水了")."""
        r = self.rules
        doubt = self.first_hit(r.doubts)
        if doubt is None or self.first_hit(r.doubts_unless, False):
            return reason
        self.matched.append(f"doubt:{doubt}")
        self.not_now = True  # nor may the urgent model hear a danger in it
        return None

    def category(self, scores: dict[str, int]) -> tuple[str, float]:
        """Category model log-probabilities plus RULE_POINT (RULE_POINT_LONG in a long letter) per rule point; context
        suppression removes a category.
        A category added to the rules after training competes on rule points alone (the model's best log-prob).
        Plain floats after one numpy sum: on 19 values each numpy call costs more than the arithmetic."""
        clf = self.clf
        known, logits = self.scored()
        logp = log_softmax(logits[:clf._categories])
        combined = clf._by_rule(logp)
        if min(combined) < _LOG_FLOOR:
            combined = [max(v, _LOG_FLOOR) for v in combined]
        position = clf._position
        point = RULE_POINT if len(self.norm) <= RULES_MAX_CHARS else RULE_POINT_LONG
        for code, points in scores.items():
            combined[position[code]] += point * points
        for code in self.suppressed:
            combined[position[code]] = -math.inf
        highest = max(combined)
        best = combined.index(highest)  # the first of equals, as the rules file orders them
        p_best = 1.0 / sum(map(math.exp, map(sub, combined, repeat(highest))))
        code = self.rules.categories[best].code
        col = clf._columns[best]
        if col is not None:
            said = f"model:category {code} {math.exp(logp[col]):.2f}"
            if self.explain:
                said += f" ({','.join(f for f, _ in clf._scorer.top_features(self.features, col, known=known))})"
            self.matched.append(said)
        return code, p_best


def _chat_length(norm: str) -> int:
    """Characters of a chat line as its writer typed them: an emoticon code ("[怒骂]") counts as one."""
    return len(_EMOTICON.sub("e", norm.strip())) if "[" in norm else len(norm.strip())


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0  # exp overflows past 709


def _ends_with_any(token: str, words: frozenset[str]) -> bool:
    """The token is longer than one of `words` and ends with it (火灾隐患 and 隐患)."""
    return any(len(token) > len(w) and token.endswith(w) for w in words)


def _word_at(token: str, part: frozenset[str]) -> str:
    """The alternative that matched at this token: the token itself or the longest word inside it.

    Chosen by length then text, never by set order: the name feeds duplicate detection, which must
    decide the same in every process whatever its hash seed."""
    if token in part:
        return token
    return max((w for w in part if w in token), key=lambda w: (len(w), w), default=token)
