"""Full-text search over stored articles: what the index is asked, and its SQL on each backend.

Searches are written in the alert rules' language; alerts.archive turns a parsed query into
a *narrowing*: a condition on the index that holds for every article the query matches
(and for some it does not), and lets the rule matcher decide among those candidates. This
module knows the indexes only: how each cuts text into tokens, so that a narrowing is asked
in a form that cannot lose a match.

The matcher's words and the index's tokens differ in one way that matters: the matcher
reads a hyphenated compound also written joined ("Mocro-Maffia" is "mocromaffia"), and
soft hyphens vanish inside its words, while both indexes keep the pieces apart. A term is
therefore asked as `Spelled`: the words written spaced, joined, or cut anywhere.

SQLite: an FTS5 table (``articles_fts``) over title, lead and text with ``articles`` as its
external content, kept in step by triggers; the ``unicode61`` tokenizer folds case and
diacritics as the rules do. A word cut into pieces is found as any two adjacent tokens
that start it (``"mocro maffia"``, ``"mo cro"``), cheap in FTS5 (under 10 ms for a few
hundred such pairs at 100,000 articles). Relevance is FTS5's bm25.

PostgreSQL: a GIN index on a ``tsvector`` expression with the ``simple`` configuration:
lower-casing without stemming or stop words (the archive mixes French, Dutch, German,
English and Arabic). Its parser keeps a hyphenated word whole besides its parts
(``'mocro-maffia'``), so a word cut by hyphens is found by the prefix ``'mocro-':*``. Words
are ANDed, not phrased: a phrase would make PostgreSQL recompute every hit's tsvector (6 s
for two common words at 100,000 articles). It does not fold accents (that needs the
``unaccent`` extension or a folded index): a word typed without its accents does not find
an accented spelling there (see alerts.archive for the spellings asked). Relevance is
ts_rank over title and lead, whose vectors are cheap to build; ranking by the body would
rebuild every hit's (3 s for a word in one article in five).

Both schemas are created by migration 0005.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    and_,
    cast,
    column,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION, TSQUERY
from sqlalchemy.orm import Session
from sqlalchemy.types import Boolean

from crawler.storage.models import Article, Source

if TYPE_CHECKING:
    from crawler.storage.feed import FeedFilter, FeedItem

# Pieces of a cut word are asked as pairs of adjacent tokens; a piece longer than this is
# asked by its first LONGEST letters as a prefix, which keeps the pairs of a long phrase
# to a few hundred.
LONGEST = 20
_TOKEN = re.compile(r"[^\W_]+")  # what both indexes keep of a word: letters and digits

# The indexed document on PostgreSQL; query and index must use this exact expression
# (migration 0005 spells it out), or the planner cannot use the index.
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, coalesce({t}.title, '') || ' ' || "
    "coalesce({t}.lead, '') || ' ' || {t}.text)"
)
SEARCH_TABLE = "articles_fts"
SEARCH_INDEX = "ix_articles_search"
_FTS = table(SEARCH_TABLE, column("rowid"), column("rank"), column(SEARCH_TABLE))
_HIT = Article.__table__.alias("hit")
_FTS5_COLUMNS = {"title": "{title}", "text": "{lead text}"}
# Accents of French and German (Dutch's too) that PostgreSQL's index keeps and the rules
# fold; a word is asked with one of them, or two from one language (see _accented).
_FRENCH = {"a": "àâ", "e": "éèêë", "i": "îï", "o": "ô", "u": "ûù", "c": "ç"}
_GERMAN = {"a": "ä", "o": "ö", "u": "ü"}
_ACCENTS = {letter: _FRENCH.get(letter, "") + _GERMAN.get(letter, "") for letter in "aeiouc"}
_MOST_SPOTS = 5  # letters that take an accent, for two accents to be asked


@dataclass(frozen=True, slots=True)
class Spelled:
    """Words next to each other, also written joined or cut anywhere; the last a prefix."""

    words: tuple[str, ...]
    prefix: bool = False
    field: str | None = None  # "title", "text" (lead and body), or None: anywhere


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Narrowing, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Narrowing, ...]


Narrowing = Spelled | AllOf | AnyOf


@dataclass(frozen=True)
class SearchQuery:
    """What the index is asked for a search.

    `narrowing` holds for every article the search finds; `terms` are the words to mark
    in what is shown (the `positive_terms` the highlighter reads).
    """

    text: str
    narrowing: Narrowing
    terms: tuple[Spelled, ...] = ()

    @property
    def positive_terms(self) -> tuple[Spelled, ...]:
        return self.terms


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _pairs(word: str, prefix: bool) -> list[tuple[tuple[str, ...], bool]]:
    """Token sequences, one of which starts every writing of `word` cut into pieces.

    Consecutive tokens t1, t2, ... spell `word` (or, for a prefix, start with it): then
    t1 is word[:i] and t2 is word[i:j], or (a prefix, or a long piece) starts with word[i:].
    """
    found: list[tuple[tuple[str, ...], bool]] = [((word,), prefix)]
    size = len(word)
    for i in range(1, size):
        if i > LONGEST:  # a first piece this long is rare enough on its own
            found.append(((word[:i],), False))
            continue
        last = min(size, i + LONGEST)
        for j in range(i + 1, last + 1):
            if j < size or not prefix:
                found.append(((word[:i], word[i:j]), False))
        if size - i > LONGEST or (prefix and (last - i > 1 or i < 3)):
            found.append(((word[:i], word[i:last]), True))
        elif prefix:  # a one-letter prefix costs FTS5 a merge of every s… token's hits
            found.append(((word[:i],), False))
    return found


def _joins(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The words as written spaced, and joined where the matcher joins them."""
    if len(words) == 1:
        return [words]
    if len(words) > 5:  # as alerts.matching.MAX_VARIANT_WORDS: spaced and fully joined
        return [words, ("".join(words),)]
    found = []
    for mask in range(2 ** (len(words) - 1)):
        glued = [words[0]]
        for position, word in enumerate(words[1:]):
            if mask >> position & 1:
                glued[-1] += word
            else:
                glued.append(word)
        found.append(tuple(glued))
    return found


def _quoted(pieces: Iterable[str]) -> str:
    return '"' + " ".join(pieces).replace('"', '""') + '"'


def fts5_expression(node: Narrowing) -> str:
    """The FTS5 MATCH string: every token quoted, so no input is read as FTS5 syntax."""
    if isinstance(node, AllOf | AnyOf):
        joiner = " AND " if isinstance(node, AllOf) else " OR "
        return joiner.join(f"({fts5_expression(part)})" for part in node.parts)
    word = "".join(tokens("".join(node.words)))
    phrases = dict.fromkeys(
        _quoted(pieces) + ("*" if prefix else "") for pieces, prefix in _pairs(word, node.prefix)
    )
    expression = " OR ".join(phrases)
    return f"{_FTS5_COLUMNS[node.field]} : ({expression})" if node.field else expression


def _lexeme(text: str, prefix: bool = False) -> str:
    escaped = text.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'" + (":*" if prefix else "")


def _accented(lexeme: str, prefix: bool) -> str:
    """`lexeme` also with the accents the PostgreSQL index keeps: common ones, at most two.

    "surete" is asked as 'sûreté' too, "verdachtige" as 'verdächtige'. Two accents only
    from one language, in a word with few letters that take one; rarer accents, and more,
    are found there only when typed. Each spelling costs the GIN index a lookup (about
    0.2 ms), so they are kept to a few dozen.
    """
    spots = [at for at, letter in enumerate(lexeme) if letter in _ACCENTS]
    found = [lexeme]
    for at in spots:
        found += [lexeme[:at] + mark + lexeme[at + 1 :] for mark in _ACCENTS[lexeme[at]]]
    if len(spots) <= _MOST_SPOTS:
        for first, second in itertools.combinations(spots, 2):
            for marks in _FRENCH, _GERMAN:
                for one in marks.get(lexeme[first], ""):
                    for two in marks.get(lexeme[second], ""):
                        spelled = list(lexeme)
                        spelled[first], spelled[second] = one, two
                        found.append("".join(spelled))
    options = [_lexeme(option, prefix) for option in dict.fromkeys(found)]
    return options[0] if len(options) == 1 else f"( {' | '.join(options)} )"


def tsquery_expression(node: Narrowing) -> str:
    """The tsquery (a literal: no parser runs on it): lexemes ANDed, cut words by prefix."""
    if isinstance(node, AllOf | AnyOf):
        joiner = " & " if isinstance(node, AllOf) else " | "
        return joiner.join(f"( {tsquery_expression(part)} )" for part in node.parts)
    options = []
    for glued in _joins(node.words):
        lexemes = [piece for word in glued for piece in tokens(word.lower())]
        if not lexemes:
            continue
        ends = [False] * (len(lexemes) - 1) + [node.prefix]
        parts = [_accented(piece, prefix) for piece, prefix in zip(lexemes, ends, strict=True)]
        options.append(parts[0] if len(parts) == 1 else f"( {' & '.join(parts)} )")
    # The parser keeps "Mocro-Maffia" whole as well: any compound whose first piece starts
    # the word. Dashes other than the hyphen-minus, and soft hyphens, it does not join.
    word = "".join(tokens("".join(node.words).lower()))
    options += [_lexeme(word[:i] + "-", True) for i in range(1, len(word))]
    return " | ".join(dict.fromkeys(options))


def _tsquery(query: SearchQuery) -> ColumnElement:
    return cast(literal(tsquery_expression(query.narrowing)), TSQUERY)


def matches(dialect: str, query: SearchQuery | None) -> ColumnElement[bool]:
    """A condition on `articles` that holds for the articles `query` narrows to."""
    if query is None:
        return false()
    if dialect == "sqlite":
        hits = select(_FTS.c.rowid).where(_match(query))
        # `id + 0` keeps SQLite from driving the query by the hits' ids: it trusts FTS5 to
        # return few rows, so for a common word it fetched and sorted every hit (90 ms at
        # 100,000 articles for a word in one article in five). Walking the date index and
        # keeping the rows whose id is a hit stops after one page: 2 ms for common words,
        # 8 ms at worst (a word found nowhere).
        return (Article.id + 0).in_(hits)
    if dialect == "postgresql":
        document = literal_column(PG_DOCUMENT.format(t=_HIT.name))
        # OFFSET 0 keeps the hits a subquery of their own, found through the GIN index.
        # Folded into the outer query, the planner walked the date index and computed the
        # tsvector of every row it passed: 160 ms at 100,000 articles for a word found
        # nowhere, growing with the archive; this way the cost follows the number of hits.
        wanted = _tsquery(query)
        hits = select(_HIT.c.id).where(document.op("@@", return_type=Boolean)(wanted)).offset(0)
        return Article.id.in_(hits)
    raise NotImplementedError(f"full-text search is not available on {dialect}")


def _match(query: SearchQuery) -> ColumnElement[bool]:
    return _FTS.c[SEARCH_TABLE].op("MATCH", return_type=Boolean)(fts5_expression(query.narrowing))


def _pg_rank(query: SearchQuery) -> ColumnElement:
    def vector(text, weight: str):
        words = func.to_tsvector(literal_column("'simple'::regconfig"), func.coalesce(text, ""))
        return func.setweight(words, literal_column(f"'{weight}'"))

    document = vector(Article.title, "A").op("||")(vector(Article.lead, "B"))
    # as float8: psycopg reads a real by its shortest text, which is not the real itself,
    # so a cursor holding it would not compare equal to the row it came from
    return -cast(func.ts_rank(document, _tsquery(query)), DOUBLE_PRECISION)


@dataclass(frozen=True)
class Ranked:
    """Where an article stands in relevance order: lower keys first, then higher ids."""

    key: float
    id: int


def ranked_page(
    session: Session, where: FeedFilter, after: Ranked | None = None, limit: int = 50
) -> list[tuple[FeedItem, Ranked]]:
    """Articles of the feed view `where` (which must search), best match first.

    The key is FTS5's bm25 on SQLite and minus ts_rank on PostgreSQL: lower is better on
    both. Keyset pages: the next page starts strictly after `after`.
    """
    from crawler.storage.feed import _conditions, _items

    assert where.search is not None, "relevance needs words to rank"
    if session.get_bind().dialect.name == "sqlite":
        key, ids = _FTS.c.rank, _FTS.c.rowid
        query = select(ids, key).where(_match(where.search))
        # The match above is the search; one row per story still counts only its hits.
        filters = _conditions(session, where, searched=False)
        if filters:  # rows are read only when a filter needs them: a row holds its text
            query = query.join(Article, Article.id == ids).where(*filters)
    else:
        key, ids = _pg_rank(where.search), Article.id
        query = select(ids, key).where(*_conditions(session, where))
    if after is not None:
        query = query.where(or_(key > after.key, and_(key == after.key, ids < after.id)))
    ranked = session.execute(query.order_by(key, ids.desc()).limit(limit)).all()
    rows = session.execute(
        select(Article, Source.name)
        .join(Source, Source.id == Article.source_id)
        .where(Article.id.in_([row[0] for row in ranked]))
    ).all()
    by_id = {article.id: (article, source) for article, source in rows}
    items = _items(session, [by_id[row[0]] for row in ranked])
    return [(item, Ranked(row[1], item.id)) for item, row in zip(items, ranked, strict=True)]


def rank_keys(session: Session, query: SearchQuery, ids: Sequence[int]) -> dict[int, float]:
    """The relevance key of each of these articles the narrowing holds for."""
    if not ids:
        return {}
    if session.get_bind().dialect.name == "sqlite":
        statement = select(_FTS.c.rowid, _FTS.c.rank).where(_match(query), _FTS.c.rowid.in_(ids))
    else:
        statement = select(Article.id, _pg_rank(query)).where(
            Article.id.in_(ids), matches("postgresql", query)
        )
    return {row[0]: row[1] for row in session.execute(statement)}


def in_view(session: Session, where: FeedFilter, ids: Sequence[int]) -> set[int]:
    """Which of these articles the feed view `where` shows (before the matcher decides)."""
    from crawler.storage.feed import _conditions

    if not ids:
        return set()
    statement = select(Article.id).where(Article.id.in_(ids), *_conditions(session, where))
    return set(session.scalars(statement))


def sources_with_tags(session: Session) -> dict[str, tuple[str, ...]]:
    """Every source's name and tags: what a rule's source: and tag: conditions read."""
    rows = session.execute(select(Source.name, Source.tags)).all()
    return {row.name: tuple(row.tags or ()) for row in rows}


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
