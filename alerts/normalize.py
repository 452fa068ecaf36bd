"""Text normalisation for matching: case and accent folding, word streams, done once per text.

A text becomes two strings that the matcher scans with one Aho–Corasick automaton:

- ``spaced``: the folded words separated by single spaces and padded with a space at both
  ends (`` mocro maffia in brussel ``). Every separator, a hyphen included, becomes one space,
  so a pattern `` dgst `` can only match the whole word, and a prefix pattern `` aktionsplan``
  only at the start of one.
- ``compounds``: every hyphenated compound of the text written joined (``mocromaffia``),
  the compounds set apart by a character no pattern contains, so a joined query word also
  finds the hyphenated spelling.

Query terms are folded by the same `fold`, so ``Sûreté`` = ``surete`` and ``Straße`` =
``strasse``. The offset-keeping variant (`spans`) serves highlighting only; it builds the
same spaced string while remembering where each word came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters that vanish: soft hyphens and zero-width joiners are invisible inside words
# ("Aktions\u00adplan" is one word on screen), so they must not split it.
_VANISH = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
# Hyphen look-alikes become "-"; letters that NFKD does not decompose get their usual
# ASCII spelling so "Smørrebrød", "Łódź" and "cœur" fold like their transliterations.
_REPLACE = (
    *((character, "") for character in _VANISH),
    *((character, "-") for character in "\u2010\u2011\ufe63\uff0d"),
    ("ø", "o"),
    ("œ", "oe"),
    ("æ", "ae"),
    ("ł", "l"),
    ("đ", "d"),
    ("ð", "d"),
    ("þ", "th"),
    ("ı", "i"),
)
_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
WORD = re.compile(r"\w+")
# Every separator but the plain space; runs of spaces are collapsed by split() afterwards,
# which is several times faster than substituting every gap between words.
_PUNCTUATION = re.compile(r"[^\w ]+")
_COMPOUND = re.compile(r"\w+(?:-\w+)+")
# Sets compounds apart in the compounds string; no pattern contains it.
COMPOUND_GAP = " \x00 "
# In the original text: a word may contain the vanishing characters.
_ORIGINAL_WORD = re.compile(rf"\w+(?:[{_VANISH}]+\w+)*")


def fold(text: str) -> str:
    """Lower-case, strip accents and ligatures, drop invisible joiners, unify hyphens."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    # `in` tests are plain memory scans: far cheaper than str.translate over the whole text.
    for character, replacement in _REPLACE:
        if character in folded:
            folded = folded.replace(character, replacement)
    return _MARKS.sub("", unicodedata.normalize("NFKD", folded))


def words(text: str) -> tuple[str, ...]:
    """The folded words of a short text, such as a query term."""
    return tuple(WORD.findall(fold(text)))


@dataclass(frozen=True, slots=True)
class FieldText:
    """One field (title or body) of one article, ready to scan."""

    spaced: str
    compounds: str


def normalize(text: str) -> FieldText:
    folded = fold(text)
    spaced = f" {' '.join(_PUNCTUATION.sub(' ', folded).split())} "
    if "-" not in folded:
        return FieldText(spaced, "")
    joined = [
        compound.replace("-", "")
        for chunk in folded.split()
        if "-" in chunk
        for compound in _COMPOUND.findall(chunk)
    ]
    return FieldText(spaced, f" {COMPOUND_GAP.join(joined)} " if joined else "")


@dataclass(frozen=True, slots=True)
class Word:
    """A word of the original text: where it is, and what it folds to."""

    start: int
    end: int
    folded: str
    hyphen_before: bool  # joined to the previous word by exactly one hyphen


@dataclass(frozen=True)
class SpannedText:
    """A text with its spaced string and, for each word, its offset in that string."""

    text: str
    words: tuple[Word, ...]
    spaced: str
    offsets: tuple[int, ...]  # offsets[i]: where words[i] starts in `spaced`


def spans(text: str) -> SpannedText:
    """Fold word by word, keeping where each word is in `text`; slower, for highlighting."""
    found: list[Word] = []
    previous_end = None
    for match in _ORIGINAL_WORD.finditer(text):
        folded = "".join(WORD.findall(fold(match.group())))
        if not folded:
            continue
        between = text[previous_end : match.start()] if previous_end is not None else ""
        found.append(Word(match.start(), match.end(), folded, fold(between) == "-"))
        previous_end = match.end()
    offsets = []
    position = 1
    for word in found:
        offsets.append(position)
        position += len(word.folded) + 1
    spaced = " " + " ".join(word.folded for word in found) + " "
    return SpannedText(text, tuple(found), spaced, tuple(offsets))
