"""Match many rules against one article: an Aho–Corasick pass finds candidates, trees decide.

Every term of every rule becomes a few space-delimited patterns (one per way of joining its
words: ``mocro maffia`` and ``mocromaffia``) in one automaton. One scan of each field's
normalised strings yields the terms present; only rules whose required terms were seen are
evaluated. Rules that can match without any term (``lang:nl``, ``NOT x``) are always
evaluated.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import ahocorasick

from alerts.normalize import FieldText, fold, normalize, words
from alerts.query import And, Meta, Near, Node, Not, Or, Query, Term, positive_terms, terms

TITLE, TEXT = 1, 2
FIELD_MASKS = {None: TITLE | TEXT, "title": TITLE, "text": TEXT}
FIELD_NAMES = ((TITLE, "title"), (TEXT, "text"))
# Beyond this many words a term gets only its spaced and fully joined spellings, not every
# mix of the two (2**(n-1) patterns).
MAX_VARIANT_WORDS = 5


@dataclass(frozen=True)
class ArticleText:
    """What matching reads of an article."""

    title: str
    body: str
    language: str | None = None
    source: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Prepared:
    """An article normalised once, to be matched against any number of rules."""

    title: FieldText
    body: FieldText
    language: str
    source: str
    tags: tuple[str, ...]


def prepare(article: ArticleText) -> Prepared:
    return Prepared(
        normalize(article.title),
        normalize(article.body),
        _folded(article.language or ""),
        _folded(article.source),
        tuple(_folded(tag) for tag in article.tags),
    )


def _folded(value: str) -> str:
    return " ".join(words(fold(value)))


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the matcher needs it; empty filters mean any."""

    name: str
    query: Query
    languages: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FoundTerm:
    term: Term
    fields: tuple[str, ...]  # where it was seen: "title", "text"


@dataclass(frozen=True)
class Hit:
    """One rule matched one article; `terms` says why (the positive terms present)."""

    rule: str
    terms: tuple[FoundTerm, ...] = field(default=())


def patterns(term: Term) -> list[str]:
    """The strings that stand for `term` in a normalised field."""
    if len(term.words) <= MAX_VARIANT_WORDS:
        joins = itertools.product(("", " "), repeat=len(term.words) - 1)
    else:
        joins = iter([("",) * (len(term.words) - 1), (" ",) * (len(term.words) - 1)])
    end = "" if term.prefix else " "
    found = []
    for join in joins:
        glued = term.words[0] + "".join(
            gap + word for gap, word in zip(join, term.words[1:], strict=True)
        )
        found.append(f" {glued}{end}")
    return found


class _Article:
    """One article while it is being evaluated: the terms seen, positions on demand."""

    __slots__ = ("found", "positions", "prepared")

    def __init__(self, prepared: Prepared, found: dict[tuple, int]) -> None:
        self.prepared = prepared
        self.found = found
        self.positions: dict[tuple, list[int]] = {}

    def word_positions(self, term: Term, mask: int) -> list[int]:
        """Word indexes where `term` starts in the field of `mask` (spaced spellings only)."""
        key = (term.key, mask)
        if key not in self.positions:
            spaced = (self.prepared.title if mask == TITLE else self.prepared.body).spaced
            starts = set()
            for pattern in patterns(term):
                at = spaced.find(pattern)
                while at != -1:
                    starts.add(spaced.count(" ", 0, at))
                    at = spaced.find(pattern, at + 1)
            self.positions[key] = sorted(starts)
        return self.positions[key]


Check = Callable[[_Article], bool]


class Matcher:
    """Rules compiled once; `match` is then called for every article."""

    def __init__(self, rules: Sequence[RuleSpec]) -> None:
        self.rules = tuple(rules)
        self._checks: list[Check] = []
        self._positive: list[tuple[Term, ...]] = []
        by_pattern: dict[str, set[tuple]] = {}
        term_rules: dict[tuple, set[int]] = {}
        self._always: set[int] = set()
        for index, rule in enumerate(self.rules):
            root = _with_filters(rule)
            self._checks.append(_compile(root))
            self._positive.append(tuple(dict.fromkeys(positive_terms(root))))
            for term in terms(root):
                for pattern in patterns(term):
                    by_pattern.setdefault(pattern, set()).add(term.key)
            trigger = _trigger(root)
            if trigger is None:
                self._always.add(index)
            for key in trigger or ():
                term_rules.setdefault(key, set()).add(index)
        self._term_rules = {key: tuple(indexes) for key, indexes in term_rules.items()}
        self._automaton = ahocorasick.Automaton()
        for pattern, keys in by_pattern.items():
            self._automaton.add_word(pattern, tuple(keys))
        if by_pattern:
            self._automaton.make_automaton()

    def scan(self, prepared: Prepared) -> dict[tuple, int]:
        """The terms present in the article: term key → mask of the fields holding it."""
        found: dict[tuple, int] = {}
        if self._automaton.kind != ahocorasick.AHOCORASICK:
            return found
        for mask, text in (
            (TITLE, prepared.title.spaced),
            (TITLE, prepared.title.compounds),
            (TEXT, prepared.body.spaced),
            (TEXT, prepared.body.compounds),
        ):
            if len(text) > 2:
                for keys in {keys for _, keys in self._automaton.iter(text)}:
                    for key in keys:
                        found[key] = found.get(key, 0) | mask
        return found

    def match(self, prepared: Prepared) -> list[Hit]:
        found = self.scan(prepared)
        candidates = set(self._always)
        for key in found:
            candidates.update(self._term_rules.get(key, ()))
        article = _Article(prepared, found)
        hits = []
        for index in sorted(candidates):
            if self._checks[index](article):
                hits.append(Hit(self.rules[index].name, self._why(index, found)))
        return hits

    def _why(self, index: int, found: dict[tuple, int]) -> tuple[FoundTerm, ...]:
        why = []
        for term in self._positive[index]:
            mask = found.get(term.key, 0) & FIELD_MASKS[term.field]
            if mask:
                fields = tuple(name for bit, name in FIELD_NAMES if mask & bit)
                why.append(FoundTerm(term, fields))
        return tuple(why)


def _with_filters(rule: RuleSpec) -> Node:
    """The rule's query, AND-ed with its language, source and tag restrictions."""
    parts: list[Node] = [rule.query.root]
    for name, values in (("lang", rule.languages), ("source", rule.sources), ("tag", rule.tags)):
        if values:
            options = tuple(Meta(name, _folded(value)) for value in values)
            parts.append(options[0] if len(options) == 1 else Or(options))
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _trigger(node: Node) -> frozenset[tuple] | None:
    """Term keys of which at least one is present whenever `node` matches; None if no such set."""
    if isinstance(node, Term):
        return frozenset([node.key])
    if isinstance(node, Near):
        return frozenset([max(node.terms, key=lambda term: len("".join(term.words))).key])
    if isinstance(node, And):
        options = [found for child in node.children if (found := _trigger(child)) is not None]
        # Fewest and longest terms first: long words are rarer, so fewer rules get evaluated.
        return min(options, key=_cost, default=None)
    if isinstance(node, Or):
        options = [_trigger(child) for child in node.children]
        return None if any(o is None for o in options) else frozenset().union(*options)
    return None


def _cost(keys: Iterable[tuple]) -> tuple[int, int]:
    keys = list(keys)
    return len(keys), -min(len("".join(words)) for words, _ in keys)


def _compile(node: Node) -> Check:
    if isinstance(node, Term):
        key, mask = node.key, FIELD_MASKS[node.field]
        return lambda article: bool(article.found.get(key, 0) & mask)
    if isinstance(node, And):
        parts = [_compile(child) for child in node.children]
        return lambda article: all(part(article) for part in parts)
    if isinstance(node, Or):
        parts = [_compile(child) for child in node.children]
        return lambda article: any(part(article) for part in parts)
    if isinstance(node, Not):
        inner = _compile(node.child)
        return lambda article: not inner(article)
    if isinstance(node, Near):
        return lambda article: _near(node, article)
    return lambda article: _meta(node, article.prepared)


def _near(node: Near, article: _Article) -> bool:
    for mask in (TITLE, TEXT):
        if not mask & FIELD_MASKS[node.field]:
            continue
        if not all(article.found.get(term.key, 0) & mask for term in node.terms):
            continue
        lists = [article.word_positions(term, mask) for term in node.terms]
        if _within(lists, node.slop):
            return True
    return False


def _within(lists: list[list[int]], slop: int) -> bool:
    """Is there one position from each list with at most `slop` other words in between?"""
    merged = sorted((position, which) for which, found in enumerate(lists) for position in found)
    counts = [0] * len(lists)
    covered = 0
    left = 0
    for position, which in merged:
        counts[which] += 1
        covered += counts[which] == 1
        while covered == len(lists):
            start, first = merged[left]
            if position - start - (len(lists) - 1) <= slop:
                return True
            counts[first] -= 1
            covered -= counts[first] == 0
            left += 1
    return False


def _meta(node: Meta, prepared: Prepared) -> bool:
    values = {"lang": (prepared.language,), "source": (prepared.source,), "tag": prepared.tags}
    for value in values[node.field]:
        if value == node.value:
            return True
        # "nl" covers "nl-BE"; a source or tag must be named in full (or with a wildcard).
        if node.field == "lang" and value.startswith(node.value + " "):
            return True
        if node.prefix and value.startswith(node.value):
            return True
    return False
