"""Where matched terms sit in the original text: highlight spans and hit sentences."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from alerts.matching import patterns
from alerts.normalize import spans
from alerts.query import Term

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”»)]*\s+|\n\s*")
WIDTH = 320  # longest snippet shown, in characters


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) offsets into `text`

    def as_json(self) -> dict:
        return {"text": self.text, "highlights": [list(span) for span in self.highlights]}

    @classmethod
    def from_json(cls, value: dict) -> Snippet:
        return cls(value["text"], tuple(tuple(span) for span in value["highlights"]))


def highlights(text: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Sorted, non-overlapping [start, end) spans of `text` where any of `terms` occurs."""
    spanned = spans(text)
    if not spanned.words:
        return []
    found: list[tuple[int, int]] = []
    for term in terms:
        for pattern in patterns(term):
            at = spanned.spaced.find(pattern)
            while at != -1:
                first = bisect_left(spanned.offsets, at + 1)
                if first < len(spanned.offsets) and spanned.offsets[first] == at + 1:
                    words_in = pattern.strip().count(" ") + 1
                    last = min(first + words_in, len(spanned.words)) - 1
                    found.append((spanned.words[first].start, spanned.words[last].end))
                at = spanned.spaced.find(pattern, at + 1)
        found.extend(_compound_hits(spanned.words, term))
    return _merge(found)


def _compound_hits(words, term: Term) -> list[tuple[int, int]]:
    """Hyphenated compounds of the text whose joined spelling is the joined term."""
    joined = "".join(term.words)
    hits = []
    index = 0
    while index < len(words):
        end = index
        while end + 1 < len(words) and words[end + 1].hyphen_before:
            end += 1
        if end > index:
            glued = "".join(word.folded for word in words[index : end + 1])
            if glued == joined or (term.prefix and glued.startswith(joined)):
                hits.append((words[index].start, words[end].end))
        index = end + 1
    return hits


def _merge(found: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def sentences(text: str) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for found in _SENTENCE_END.finditer(text):
        bounds.append((start, found.start()))
        start = found.end()
    bounds.append((start, len(text)))
    return [(s, e) for s, e in bounds if e > s]


def snippets(text: str, terms: Sequence[Term], limit: int = 3) -> list[Snippet]:
    """Up to `limit` sentences holding a hit, trimmed around it, hits marked."""
    spots = highlights(text, terms)
    chosen: list[Snippet] = []
    for start, end in sentences(text):
        inside = [(s, e) for s, e in spots if s >= start and e <= end]
        if not inside:
            continue
        if end - start > WIDTH:  # keep a window around the first hit
            start = max(start, inside[0][0] - WIDTH // 3)
            end = min(end, start + WIDTH)
            inside = [(s, e) for s, e in inside if s >= start and e <= end]
        piece = text[start:end]
        lead = len(piece) - len(piece.lstrip())
        shifted = tuple((s - start - lead, e - start - lead) for s, e in inside)
        chosen.append(Snippet(piece.strip(), shifted))
        if len(chosen) == limit:
            break
    return chosen
