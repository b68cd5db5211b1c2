"""The prefilter: could the rules lift this message to a request at all? Decided on substrings, before tokenising.

Every word the rules can match in a message (a token, a word inside one, "坏了" as "坏") is a substring of the
normalised text, so a pattern whose parts are not all substrings cannot match, and the sum of the positive
weights of the patterns that are is an upper bound of what the rules can score."""
from __future__ import annotations

from classifier.rules import Rules

_CUE = -1
_URGENT = -2
_STATE = -3


class Prefilter:
    def __init__(self, rules: Rules):
        self.min_score, self.cue_only_score = rules.min_score, rules.cue_only_score
        entries: list[tuple[int, int, object]] = []  # (target: _CUE, _URGENT or category index, weight, pattern)
        entries += [(_CUE, w.weight, w.pattern) for w in rules.cues if w.weight > 0]
        for i, c in enumerate(rules.categories):
            entries += [(i, k.weight, k.pattern) for k in c.keywords if k.weight > 0]
            entries += [(i, x.add, x.pattern) for x in c.context if x.add > 0]
        entries += [(_URGENT, 0, p) for u in rules.urgent for p in u.patterns]
        entries += [(_STATE, 0, p) for p in rules.states]
        # one-part patterns are present as soon as a word is; the others keep their parts to check
        self._entries = [(t, w, p.parts if len(p.parts) > 1 else None) for t, w, p in entries]
        postings: dict[str, list[int]] = {}
        for e, (_, _, pattern) in enumerate(entries):
            for word in pattern.words():
                postings.setdefault(word, []).append(e)
        self._postings = {w: tuple(es) for w, es in postings.items()}
        # word -> True, proper prefix of a word -> False: the scan stops at the first string that is neither
        self._prefixes: dict[str, bool] = {}
        for word in postings:
            for i in range(1, len(word)):
                self._prefixes.setdefault(word[:i], False)
        for word in postings:
            self._prefixes[word] = True

    def words_in(self, norm: str) -> set[str]:
        """The rule words occurring anywhere in `norm`, overlaps included."""
        prefixes, found = self._prefixes, set()
        n = len(norm)
        for i in range(n):
            j = i + 1
            while j <= n:
                kind = prefixes.get(norm[i:j])
                if kind is None:
                    break
                if kind:
                    found.add(norm[i:j])
                j += 1
        return found

    def reach(self, norm: str) -> tuple[bool, bool, bool]:
        """(the rules could say request, an urgent pattern could match, a stated problem could match): False means
        certainly not."""
        found = self.words_in(norm)
        if not found:
            return False, False, False
        candidates: set[int] = set()
        postings = self._postings
        for word in found:
            candidates.update(postings[word])
        cue, urgent, stated, problem = 0, False, False, {}
        entries = self._entries
        for e in candidates:
            target, weight, parts = entries[e]
            if parts is not None and any(part.isdisjoint(found) for part in parts):
                continue
            if target == _CUE:
                cue += weight
            elif target == _URGENT:
                urgent = True
            elif target == _STATE:
                stated = True
            else:
                problem[target] = problem.get(target, 0) + weight
        best = max(problem.values(), default=0)
        return (best > 0 and best + cue >= self.min_score) or cue >= self.cue_only_score, urgent, stated
