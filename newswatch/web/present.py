"""Pure helpers that turn stored values into what a page shows: hits, snippets, links, dates.

Nothing here returns markup: highlighted text is a list of (text, hit) segments that the
templates escape and wrap, so a crawled title can never become HTML.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from alerts.normalize import fold, words
from alerts.query import Term
from alerts.render import local_time as labelled_time
from alerts.snippets import highlights, sentences, snippets
from crawler.storage.feed import FeedItem
from crawler.storage.search import SearchQuery

Segments = list[tuple[str, bool]]  # (text, is a hit)
SUMMARY = 280  # characters of lead or body shown when nothing was searched
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_NOT_WORD = re.compile(r"\W+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe_href(url: str | None) -> str | None:
    """`url` when it is an http(s) address with a host, else None (never javascript:, data:)."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url.strip()


def clean(text: str | None) -> str:
    """Text without the control characters that XML forbids and terminals misread."""
    return _CONTROL.sub(" ", text or "")


def segments(text: str, spans: Sequence[Sequence[int]]) -> Segments:
    out: Segments = []
    position = 0
    for start, end in spans:
        if start > position:
            out.append((text[position:start], False))
        out.append((text[start:end], True))
        position = end
    if position < len(text):
        out.append((text[position:], False))
    return out


@dataclass(frozen=True)
class Highlighter:
    """Marks where a search's words occur, folding case and accents as the index does."""

    terms: tuple[Term, ...] = ()

    @classmethod
    def for_query(cls, query: SearchQuery | None) -> Highlighter:
        if query is None:
            return cls()
        # folded as the alert rules fold them, so "Sûreté" also marks "SURETE"
        folded = ((words(" ".join(t.words)), t.prefix) for t in query.positive_terms)
        return cls(tuple(Term(found, prefix) for found, prefix in folded if found))

    def title(self, text: str | None) -> Segments:
        text = clean(text)
        return segments(text, highlights(text, self.terms) if self.terms else [])

    def summary(self, item: FeedItem) -> Segments:
        """A hit sentence with its hits marked, else the start of the lead or body."""
        if self.terms:
            for field in (item.lead, item.text):
                found = self._first_hit(clean(field))
                if found:
                    return found
        return [(shorten(clean(item.lead or item.text)), False)]

    def _first_hit(self, text: str) -> Segments | None:
        # Marking hits word by word costs about a millisecond for a whole article, fifty
        # times per page; a cheap test of each sentence finds the one worth marking.
        needles = {"".join(term.words) for term in self.terms}
        for start, end in sentences(text):
            piece = text[start:end]
            squeezed = _NOT_WORD.sub("", fold(piece))
            if any(needle in squeezed for needle in needles):
                found = snippets(piece, self.terms, limit=1)
                if found:
                    return segments(found[0].text, found[0].highlights)
        return None


def shorten(text: str, width: int = SUMMARY) -> str:
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return text[:width].rsplit(" ", 1)[0] + " …"


def paragraphs(text: str | None) -> list[str]:
    return [part.strip() for part in _PARAGRAPH.split(clean(text)) if part.strip()]


def local_time(moment: datetime | None, zone: ZoneInfo, seconds: bool = False) -> str:
    """In the display zone, labelled ("2026-12-05 16:20 CET"), as on the command line."""
    return labelled_time(moment, zone, seconds=seconds)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None
