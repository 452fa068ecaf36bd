"""Pure evidence of what an article is about, comparable across languages: names, numbers, quotes.

Each piece of evidence is a key with a kind prefix and a readable label:

    name:quintin            a capitalised word inside a sentence (people, places, bodies)
    pair:bernard quintin    two capitalised words in a row (a person's full name, mostly)
    acro:dgsn               an acronym (DGSN, DGST, OCAM)
    num:900000              a number, thousands separators and locale forms unified
    quote:3f2a…             a quoted statement of five words or more (same language only)
    link:justice.gov/…      an outbound link to another site

Names are folded (case, accents) so "Brüssel" in one text meets "Brussel" in another;
words that start a sentence are left out, since every language capitalises those.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator

from crawler.dedupe import normalize_text
from crawler.urls import canonical_url

MAX_KEYS = 120  # a long article names many things; the first ones are what it is about
MAX_WORD = 40  # longer "words" are no names; keeps every key within its column
MAX_DIGITS = 16
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+|\n+")
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
# Sentence ends never touch words (they are white space), so one scan finds both as
# splitting at sentence ends, then finding the words of each sentence, would.
_WORDS_AND_ENDS = re.compile(f"(?P<end>{_SENTENCE_END.pattern})|{_WORD.pattern}")
# French and Italian elision before a name: l'Intérieur, d'Anvers, dell'Aquila
_ELISION = re.compile(r"^(?:[ldjmnstc]|qu|dell|all|nell|sull)['’]", re.IGNORECASE)
# Dates and clock times first, so their parts are not read as numbers of the story.
_POSSESSIVE = re.compile(r"['’]s$")
_NUMBER = re.compile(
    r"(?<![\d.,])(?:(?P<skip>\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{1,2}[:h.]\d{2}\s?(?:h|uhr|uur)\b"
    r"|\d{1,2}:\d{2})|\d{1,3}(?:[ \u00a0\u202f.,’']\d{3}(?!\d))+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)"
    r"(?![\d])",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_GROUPS = re.compile(r"[ \u00a0\u202f.,’']")
_QUOTES = re.compile(r"[«“„\"]\s*([^«»“”„\"]{10,400}?)\s*[»”“\"]|(?:^|(?<=\s))‘([^‘’]{10,400}?)’")
_QUOTE_START = re.compile('[«“„"‘]')  # where a match of _QUOTES begins
QUOTE_WORDS = 5
# Capitalised words that are grammar, dates or titles, not names: they would glue together
# unrelated stories written in the same language on the same weekday.
STOPWORDS = frozenset(
    """
    a an and at by for from he her his i in it its mr mrs ms of on or our she the their they
    this those to we who with yes no not but if as all after before since until during when
    le la les un une des du de et en au aux il elle ils elles nous vous on ce cette ces
    selon pour par sur dans avec mais ou donc or ni car m mme
    het een en van voor met op aan bij naar uit door maar ook dat die deze dit wij zij hij
    ze er volgens
    der die das den dem des ein eine einer eines und oder auf aus bei mit nach von vor zu
    zum zur im am es sie er wir ihr nicht auch doch aber laut herr frau
    monday tuesday wednesday thursday friday saturday sunday january february march april
    may june july august september october november december
    maandag dinsdag woensdag donderdag vrijdag zaterdag zondag januari februari maart mei juni
    juli augustus oktober
    montag dienstag mittwoch donnerstag freitag samstag sonntag januar februar marz juni juli
    oktober dezember
    """.split()
)


class _FoldTable(dict):
    """str.translate table of each character folded, filled as characters are met.

    Case folding and NFKD decompose each character on its own, and dropping the combining
    marks makes NFKD's reordering of them moot: a word folds character by character.
    """

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code).casefold())
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")
        self[code] = folded
        return folded


_FOLDS = _FoldTable()


def fold(word: str) -> str:
    """Case and accents folded: "Sûreté" and "SURETE" both become "surete"."""
    # ASCII has no accents, and lower() is its case folding
    return word.lower() if word.isascii() else word.translate(_FOLDS)


def _number(raw: str) -> str | None:
    """A number in one spelling: "900 000", "900.000" and "900,000" → "900000"; "2,5" → "2.5"."""
    if raw.isascii():
        digits = raw  # ASCII digits are their own decimal values
    else:
        digits = "".join(str(unicodedata.decimal(c)) if c.isdigit() else c for c in raw)
    parts = _GROUPS.split(digits)
    if len(parts) > 1 and all(len(part) == 3 for part in parts[1:]):
        if len(parts) == 2 and digits[len(parts[0])] in ".,":
            # "2.500" or "2,500": thousands in most of Europe and in English alike
            return parts[0].lstrip("0") + parts[1] or "0"
        return "".join(parts).lstrip("0") or "0"
    if len(parts) == 2 and digits[len(parts[0])] in ".,":
        return f"{int(parts[0])}.{parts[1].rstrip('0') or '0'}".removesuffix(".0")
    return None if len(parts) > 1 else (digits.lstrip("0") or "0")


def is_weak_number(value: str) -> bool:
    """Numbers any story may carry: days of a month, small counts, years."""
    if "." in value:
        return True  # decimals are mostly shares and rates, and clock times written 13.02
    number = int(value)
    return number <= 31 or 1900 <= number <= 2100


def _names(text: str, found: dict[str, str]) -> None:
    """Names, pairs and acronyms, in one pass over the words and sentence ends of the text."""
    last = last_folded = ""  # the previous word of a run of capitalised words, if any
    position = previous_end = 0
    for match in _WORDS_AND_ENDS.finditer(text):
        if match.lastgroup:  # a sentence ends: the next word starts one
            last = ""
            position = 0
            continue
        start, end = match.span()
        word = match.group()
        first = position == 0
        position += 1
        if "'" in word or "’" in word:  # elision and possessive both need an apostrophe
            bare = _ELISION.sub("", word)
            if bare != word:
                last = ""  # "Committee d'Anvers" is no name of two words
            word = _POSSESSIVE.sub("", bare)
        if last and text[previous_end:start].strip():
            last = ""  # "Waffen, Luxusautos" is no name of two words
        previous_end = end
        # no name is longer than MAX_WORD: a URL slug, a compound, markup debris
        if not (1 < len(word) <= MAX_WORD and word[0].isupper()):
            last = ""
            continue
        folded = fold(word)
        if folded in STOPWORDS:
            last = ""
            continue
        if word.isupper():
            for part in word.split("-"):  # DGSN-DGST names two bodies
                if 2 <= len(part) <= 8:
                    found.setdefault(f"acro:{fold(part)}", part)
        elif not first:
            found.setdefault(f"name:{folded}", word)
        if last:
            found.setdefault(f"pair:{last_folded} {folded}", f"{last} {word}")
        last, last_folded = word, folded


def _quotes(text: str, found: dict[str, str]) -> None:
    for match in _matches(_QUOTES, _QUOTE_START, text):
        quoted = match.group(1) or match.group(2)
        if len(quoted.split()) >= QUOTE_WORDS:
            digest = hashlib.sha256(normalize_text(quoted).encode("utf-8")).hexdigest()[:16]
            label = quoted if len(quoted) <= 60 else quoted[:57].rstrip() + "…"
            found.setdefault(f"quote:{digest}", f"“{label}”")


def _links(links: Iterable[str], found: dict[str, str]) -> None:
    for link in links:
        try:
            canonical = canonical_url(link).split("://", 1)[-1].removeprefix("www.").rstrip("/")
        except ValueError:
            continue  # mailto:, javascript:, a malformed port: no evidence
        if "/" in canonical:  # a bare home page says nothing about the story
            found.setdefault(f"link:{canonical[:300]}", canonical)


def _matches(pattern: re.Pattern[str], starts: re.Pattern[str], text: str) -> Iterator[re.Match]:
    """What pattern.finditer(text) finds, faster when each match begins with a character of
    `starts`: the search jumps from one such character to the next instead of trying the
    pattern everywhere (a pattern opening with a look-behind or an alternation is tried at
    every position)."""
    position = 0
    while start := starts.search(text, position):
        match = pattern.match(text, start.start())  # look-behinds still see the text before
        if match is None:
            position = start.start() + 1
        else:
            yield match
            position = match.end()


def evidence(text: str, links: Iterable[str] = ()) -> dict[str, str]:
    """The article's evidence keys, each with a label to show people, in order of appearance."""
    found: dict[str, str] = {}
    _names(text, found)
    for match in _matches(_NUMBER, _DIGIT, text):
        if match.group("skip"):
            continue
        value = _number(match.group())
        if value is not None and len(value) <= MAX_DIGITS:
            found.setdefault(f"num:{value}", match.group())
    _quotes(text, found)
    _links(links, found)
    return dict(list(found.items())[:MAX_KEYS])


def kind(key: str) -> str:
    return key.partition(":")[0]


def figures(keys: Iterable[str]) -> frozenset[str]:
    """The specific numbers among evidence keys (amounts, counts above 31; not years)."""
    return frozenset(
        key for key in keys if kind(key) == "num" and not is_weak_number(key.partition(":")[2])
    )


def specific(keys: Iterable[str]) -> frozenset[str]:
    """The keys that single out one event: full names, acronyms, figures, quotes, links."""
    return frozenset(
        key
        for key in keys
        if kind(key) in ("pair", "acro", "quote", "link")
        or (kind(key) == "num" and not is_weak_number(key.partition(":")[2]))
    )


def agreement(a: Iterable[str], b: Iterable[str]) -> float | None:
    """Share of the smaller set of specific keys found in the other; None when one has none."""
    mine, theirs = specific(a), specific(b)
    if not mine or not theirs:
        return None
    return len(mine & theirs) / min(len(mine), len(theirs))


def figures_differ(a: Iterable[str], b: Iterable[str]) -> bool:
    """Whether two texts both give specific figures and share none of them.

    A copy keeps the figures of its source (or drops the paragraph holding them); two
    reports of different events in one template differ exactly there.
    """
    mine, theirs = figures(a), figures(b)
    return bool(mine and theirs and not mine & theirs)
