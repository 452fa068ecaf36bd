"""Full-text search over stored articles: the search syntax and its SQL on each backend.

Syntax of the search box (deliberately small, and never handed to the database raw):
words are ANDed, ``"quoted words"`` are a phrase, ``word*`` is a prefix, ``-word`` excludes,
and ``OR`` separates alternatives (``Mocro-Maffia OR Mocromaffia``). A hyphenated word is
the phrase of its parts, so ``Mocro-Maffia`` also finds "Mocro Maffia".

SQLite: an FTS5 table (``articles_fts``) over title, lead and text with ``articles`` as its
external content, kept in step by triggers; the ``unicode61`` tokenizer folds case and
diacritics (``surete`` finds "sûreté"), as the alert rules do.

PostgreSQL: a GIN index on a ``tsvector`` expression with the ``simple`` configuration:
lower-casing without stemming or stop words. The archive mixes French, Dutch, German,
English and Arabic, so one per-language stemmer would mis-stem the rest, and a search
would have to OR a stemmed query per language; ``simple`` gives the same words-and-prefixes
semantics as FTS5 and the alert rules. It does not fold accents (that needs the
``unaccent`` extension, which is not immutable and needs a superuser to install).
Both schemas are created by migration 0005.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, column, false, func, literal_column, select, table
from sqlalchemy.types import Boolean

from crawler.storage.models import Article

MAX_TERMS = 24
MIN_PREFIX = 2  # a one-letter prefix would expand to most of the vocabulary
_TOKEN = re.compile(r'(?P<neg>-)?(?:"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+))')
_WORD = re.compile(r"\w+")

# The indexed document on PostgreSQL; query and index must use this exact expression
# (migration 0005 spells it out), or the planner cannot use the index.
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce({t}.title, '') || ' ' || "
    "coalesce({t}.lead, '') || ' ' || {t}.text)"
)
SEARCH_TABLE = "articles_fts"
SEARCH_INDEX = "ix_articles_search"
_FTS = table(SEARCH_TABLE, column("rowid"), column(SEARCH_TABLE))
_HIT = Article.__table__.alias("hit")


@dataclass(frozen=True)
class SearchTerm:
    """One word or phrase (its words in order), possibly a prefix, possibly excluded."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False


@dataclass(frozen=True)
class SearchQuery:
    """Alternatives (OR) of groups of terms that must all hold (AND)."""

    text: str
    groups: tuple[tuple[SearchTerm, ...], ...]

    @property
    def positive_terms(self) -> tuple[SearchTerm, ...]:
        return tuple(term for group in self.groups for term in group if not term.negated)


def parse_search(text: str) -> SearchQuery | None:
    """The query typed in the search box, or None when it holds no word to search for."""
    groups: list[tuple[SearchTerm, ...]] = []
    current: list[SearchTerm] = []
    count = 0
    for found in _TOKEN.finditer(text):
        raw = found["phrase"] if found["phrase"] is not None else found["word"]
        if found["word"] == "OR" and not found["neg"]:
            groups.append(tuple(current))
            current = []
            continue
        prefix = raw.rstrip().endswith("*")
        words = tuple(_WORD.findall(raw))
        if not words or count >= MAX_TERMS:
            continue
        prefix = prefix and len(words[-1]) >= MIN_PREFIX
        current.append(SearchTerm(words, prefix, bool(found["neg"])))
        count += 1
    groups.append(tuple(current))
    # A group of exclusions alone would match nearly everything: neither backend's
    # syntax allows it, and nobody means it.
    kept = tuple(g for g in groups if any(not term.negated for term in g))
    return SearchQuery(text, kept) if kept else None


def fts5_expression(query: SearchQuery) -> str:
    """The FTS5 MATCH string: every word quoted, so no input is read as FTS5 syntax."""

    def term(t: SearchTerm) -> str:
        return '"' + " ".join(t.words).replace('"', '""') + '"' + ("*" if t.prefix else "")

    parts = []
    for group in query.groups:
        wanted = " AND ".join(term(t) for t in group if not t.negated)
        unwanted = " OR ".join(term(t) for t in group if t.negated)
        parts.append(f"({wanted})" + (f" NOT ({unwanted})" if unwanted else ""))
    return " OR ".join(parts)


def tsquery_expression(query: SearchQuery) -> str:
    """The to_tsquery string: words quoted as lexemes, phrases with <->, prefixes with :*."""

    def term(t: SearchTerm) -> str:
        lexemes = [f"'{word}'" for word in t.words]
        if t.prefix:
            lexemes[-1] += ":*"
        joined = " <-> ".join(lexemes)
        return ("!" if t.negated else "") + (f"({joined})" if len(lexemes) > 1 else joined)

    return " | ".join("(" + " & ".join(term(t) for t in group) + ")" for group in query.groups)


def matches(dialect: str, query: SearchQuery | None) -> ColumnElement[bool]:
    """A condition on `articles` that holds for the articles `query` finds."""
    if query is None:
        return false()
    if dialect == "sqlite":
        hits = select(_FTS.c.rowid).where(_FTS.c[SEARCH_TABLE].op("MATCH")(fts5_expression(query)))
        # `id + 0` keeps SQLite from driving the query by the hits' ids: it trusts FTS5 to
        # return few rows, so for a common word it fetched and sorted every hit (90 ms at
        # 100,000 articles for a word in one article in five). Walking the date index and
        # keeping the rows whose id is a hit stops after one page: 2 ms for common words,
        # 8 ms at worst (a word found nowhere).
        return (Article.id + 0).in_(hits)
    if dialect == "postgresql":
        wanted = func.to_tsquery(literal_column("'simple'::regconfig"), tsquery_expression(query))
        document = literal_column(PG_DOCUMENT.format(t=_HIT.name))
        # OFFSET 0 keeps the hits a subquery of their own, found through the GIN index.
        # Folded into the outer query, the planner walked the date index and computed the
        # tsvector of every row it passed: 160 ms at 100,000 articles for a word found
        # nowhere, growing with the archive; this way the cost follows the number of hits.
        hits = select(_HIT.c.id).where(document.op("@@", return_type=Boolean)(wanted)).offset(0)
        return Article.id.in_(hits)
    raise NotImplementedError(f"full-text search is not available on {dialect}")


def include_name(name: str | None, type_: str, _parent_names: object) -> bool:
    """Alembic hook: leave the search objects out of the models-versus-database comparison.

    The FTS5 virtual table (and its shadow tables) and the expression index are created
    by hand in migration 0005; they have no model, so autogenerate would propose dropping
    them. Used by migrations/env.py and by the migration test.
    """
    if name is None:
        return True
    if type_ == "table":
        return name != SEARCH_TABLE and not name.startswith(SEARCH_TABLE + "_")
    if type_ == "index":
        return name != SEARCH_INDEX
    return True
