"""The archive searched in the rule language: the full-text index narrows, the rule matcher decides.

A search is a rule that is never saved. Its text is parsed by alerts.query (with the rules'
default operator) and every candidate is judged by alerts.matching on the same text a rule
reads (title, lead and body, the source's name and tags), so a search finds exactly the
articles a rule with that query would match: ``mocromaffia`` finds "Mocro-Maffia",
``lang:nl`` the Dutch articles, ``title:DGST`` only titles.

Candidates come from the feed view's filters and, where the query allows, from the index
(crawler.storage.search): each term is asked in every spelling the matcher accepts — cut
anywhere by hyphens, with ß, æ and œ for ss, ae and oe, and as typed — terms under a NOT
are not asked, and a branch of an OR that the index cannot narrow (``lang:nl OR x``) makes
the whole OR unasked. Top-level ``lang:``, ``source:`` and ``tag:`` conditions become the
view's language and source filters, so ``lang:nl`` alone costs what the language filter
costs. What the index cannot see is not found through it: accents in an article on
PostgreSQL when the query has none (its index does not fold them), letters that only
Unicode compatibility folding turns into others (ﬁ, ², full-width letters), and
elsewhere ø, ł, đ, ð, þ and ı written where the query has o, l, d, th and i.

A page examines at most `budget` candidates. A query the index cannot narrow (``NOT
sport``, ``lang:nl OR x``) may stop there before the page is full; the page then says so
and its `next` continues the search after the last article examined.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from luqum import tree
from luqum.exceptions import ParseError
from luqum.thread import parse as luqum_parse
from sqlalchemy.orm import Session

from alerts.engine import article_text
from alerts.matching import ArticleText, Matcher, RuleSpec, prepare
from alerts.normalize import WORD, words
from alerts.query import And, Meta, Near, Node, Not, Or, Query, Term, parse_query, positive_terms
from crawler.storage import feed
from crawler.storage.feed import Cursor, FeedFilter, FeedItem
from crawler.storage.matches import ArticleRow
from crawler.storage.search import (
    AllOf,
    AnyOf,
    Narrowing,
    Ranked,
    SearchQuery,
    Spelled,
    in_view,
    rank_keys,
    ranked_page,
    sources_with_tags,
    tokens,
)

ORDERS = ("newest", "relevance")
BUDGET = 2000  # candidates judged per page at most: about a quarter of a second
MAX_BATCH = 1000
MAX_SPELLINGS = 16  # spellings asked per term
# Letters the indexes keep while the matcher spells them out (Straße is strasse).
_SPELLED_OUT = re.compile("ss|ae|oe")
_LETTER = {"ss": "ß", "ae": "æ", "oe": "œ", "s": "ß", "a": "æ", "o": "œ"}

Position = Cursor | Ranked


@dataclass(frozen=True)
class Search:
    """A parsed search: the query, what the index is asked (None: nothing), the matcher."""

    query: Query
    index: SearchQuery | None
    matcher: Matcher


@dataclass(frozen=True)
class Found:
    item: FeedItem
    terms: tuple[Term, ...]  # the terms that made it match: what to highlight


@dataclass(frozen=True)
class StoryHit:
    found: Found  # the story's first article in the page's order
    members: tuple[FeedItem, ...]  # every stored member, in the order they were stored


@dataclass(frozen=True)
class ResultPage:
    found: tuple[Found, ...]
    next: Position | None  # None: nothing further matches
    partial: bool = False  # stopped at the budget before the page was full
    examined: int = 0


@dataclass(frozen=True)
class StoryPage:
    stories: tuple[StoryHit, ...]
    next: Position | None
    partial: bool = False
    examined: int = 0


def compile_search(text: str, default_operator: str = "AND") -> Search:
    """Parse `text` as a rule query; raises alerts.query.QueryError with its position."""
    query = parse_query(text, default_operator)
    return Search(query, index_query(query), Matcher([RuleSpec("search", query)]))


def index_query(query: Query) -> SearchQuery | None:
    """What the index is asked for `query`; None when no term narrows it."""
    narrowing = _narrow(query.root, _typed(query.text))
    if narrowing is None:
        return None
    shown = tuple(Spelled(term.words, term.prefix) for term in positive_terms(query.root))
    return SearchQuery(query.text, narrowing, tuple(dict.fromkeys(shown)))


def _narrow(node: Node, typed: dict) -> Narrowing | None:
    """A condition every match meets, or None (any article may match)."""
    if isinstance(node, Term):
        return _spellings(node, node.field, typed)
    if isinstance(node, Near):
        parts = [_spellings(term, node.field, typed) for term in node.terms]
        return _all([part for part in parts if part is not None])
    if isinstance(node, And):
        return _all([part for child in node.children if (part := _narrow(child, typed))])
    if isinstance(node, Or):
        parts = [_narrow(child, typed) for child in node.children]
        return None if any(part is None for part in parts) else AnyOf(tuple(parts))
    return None  # Not, and Meta (the language and source filters take those)


def _all(parts: list[Narrowing]) -> Narrowing | None:
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _spellings(term: Term, field: str | None, typed: dict) -> Narrowing | None:
    if not tokens("".join(term.words)):
        return None  # only underscores: no token of either index holds it
    # as folded, as typed, then respelled: the cap cuts respellings first
    options = [term.words, *sorted(typed.get(term.words, ()))]
    options += _respelled(term.words, term.prefix)
    spelled = [Spelled(found, term.prefix, field) for found in dict.fromkeys(options)]
    return spelled[0] if len(spelled) == 1 else AnyOf(tuple(spelled[:MAX_SPELLINGS]))


def _respelled(found: tuple[str, ...], prefix: bool) -> Iterator[tuple[str, ...]]:
    """The words as folded, and with ß, æ or œ where the matcher reads ss, ae or oe."""
    choices = []
    for index, word in enumerate(found):
        spots = [(m.start(), m.end()) for m in _SPELLED_OUT.finditer(word)]
        last = index == len(found) - 1
        if prefix and last and word[-1:] in "sao" and not (spots and spots[-1][1] == len(word)):
            spots.append((len(word) - 1, len(word)))  # "stras*" may continue as "straß…"
        variants = []
        for picks in itertools.product((False, True), repeat=min(len(spots), 4)):
            spelled, cursor = [], 0
            for (start, end), pick in zip(spots, picks, strict=False):
                spelled += [
                    word[cursor:start],
                    _LETTER[word[start:end]] if pick else word[start:end],
                ]
                cursor = end
            variants.append("".join(spelled) + word[cursor:])
        choices.append(variants)
    yield from itertools.islice(itertools.product(*choices), MAX_SPELLINGS)


def _typed(text: str) -> dict[tuple[str, ...], set[tuple[str, ...]]]:
    """The query's words as typed (lower-cased, accents kept), by their folded words.

    PostgreSQL's index keeps accents: "Sûreté" typed finds "Sûreté" there only as typed.
    """
    try:
        parsed = luqum_parse(text)
    except ParseError:
        return {}
    found: dict[tuple[str, ...], set[tuple[str, ...]]] = {}

    def visit(item: tree.Item) -> None:
        if isinstance(item, tree.Word | tree.Phrase):
            value = item.value.strip('"') if isinstance(item, tree.Phrase) else item.value
            for piece in {value, *value.split()}:
                core = piece.rstrip("*")
                spelled = tuple(WORD.findall(core.lower()))
                if spelled and spelled != words(core):
                    found.setdefault(words(core), set()).add(spelled)
        for child in item.children:
            visit(child)

    visit(parsed)
    return found


def by_relevance(search: Search | None, order: str) -> bool:
    """Is this relevance order? It needs words to rank: without any, it is newest first."""
    return order == "relevance" and search is not None and search.index is not None


def search_page(
    session: Session,
    search: Search | None,
    where: FeedFilter,
    *,
    order: str = "newest",
    after: Position | None = None,
    limit: int = 50,
    budget: int = BUDGET,
) -> ResultPage:
    """One page of the feed view `where` searched with `search` (None: not searched)."""
    if search is None and not isinstance(after, Ranked):
        page = feed.feed_page(session, where, after, limit)
        return ResultPage(tuple(Found(item, ()) for item in page.items), page.next)
    found: list[Found] = []
    examined, last, full = 0, after, None
    for item, position, terms, batch_end in _View.of(session, search, where, order).judged(
        after, limit
    ):
        if examined == budget:
            return ResultPage(tuple(found), full or last, full is None, examined)
        examined, last = examined + 1, position
        if terms is not None:
            if full is not None:  # one more beyond the page: there is a next page
                return ResultPage(tuple(found), full, examined=examined)
            found.append(Found(item, terms))
            full = position if len(found) == limit else None
        if full is not None and batch_end:  # not another batch just to know whether more
            return ResultPage(tuple(found), full, examined=examined)
    return ResultPage(tuple(found), None, examined=examined)


def story_page(
    session: Session,
    search: Search | None,
    where: FeedFilter,
    *,
    order: str = "newest",
    after: Position | None = None,
    limit: int = 50,
    budget: int = BUDGET,
) -> StoryPage:
    """Stories with an article in the view, each once, at its first such article in `order`.

    A story met again on a later page (by an older copy) is left out when another of its
    members in the view stands at or before where the page starts: it was listed there.
    """
    stories: list[StoryHit] = []
    decided: set[int] = set()
    examined, last, full = 0, after, None
    view = _View.of(session, search, where, order)
    for item, position, terms, batch_end in view.judged(after, limit):
        if examined == budget:
            return StoryPage(tuple(stories), full or last, full is None, examined)
        examined, last = examined + 1, position
        if terms is not None and item.story_id not in decided:
            decided.add(item.story_id)
            members = tuple(feed.story_items(session, item.story_id))
            if after is None or not view.listed_before(members, item, after):
                if full is not None:
                    return StoryPage(tuple(stories), full, examined=examined)
                stories.append(StoryHit(Found(item, terms), members))
                full = position if len(stories) == limit else None
        if full is not None and batch_end:
            return StoryPage(tuple(stories), full, examined=examined)
    return StoryPage(tuple(stories), None, examined=examined)


@dataclass(frozen=True)
class _View:
    """A search over a feed view, with what its pages read once: sources and filters."""

    session: Session
    search: Search | None
    where: FeedFilter | None  # the view's filters and the query's; None: nothing can match
    sources: dict[str, tuple[str, ...]]
    ranked: bool  # relevance order: it needs words to rank, without any it is newest first

    @classmethod
    def of(cls, session: Session, search: Search | None, where: FeedFilter, order: str) -> _View:
        sources = sources_with_tags(session) if search is not None else {}
        narrowed = _narrowed(session, search, where, sources)
        return cls(session, search, narrowed, sources, by_relevance(search, order))

    def judged(
        self, after: Position | None, first: int
    ) -> Iterator[tuple[FeedItem, Position, tuple[Term, ...] | None, bool]]:
        """Each candidate in order: its position, the terms that made it match (None: no
        match), and whether it ends a batch that more may follow."""
        if self.where is None:
            return
        batches = _candidates(self.session, self.where, self.ranked, after, first + 1)
        for item, position, batch_end in batches:
            yield item, position, self.terms(item), batch_end

    def terms(self, item: FeedItem) -> tuple[Term, ...] | None:
        if self.search is None:
            return ()
        hits = self.search.matcher.match(prepare(_text(item, self.sources)))
        return tuple(found.term for found in hits[0].terms) if hits else None

    def listed_before(self, members: tuple[FeedItem, ...], item: FeedItem, after: Position) -> bool:
        """Has another member of `item`'s story a place in the view at or before `after`?"""
        others = [member for member in members if member.id != item.id]
        if self.where is None or not others:
            return False
        places: dict[int, Position]
        if self.ranked:
            assert self.where.search is not None
            keys = rank_keys(self.session, self.where.search, [m.id for m in others])
            places = {m.id: Ranked(keys[m.id], m.id) for m in others if m.id in keys}
        else:
            places = {m.id: Cursor(m.published_at, m.id) for m in others}
        earlier = [m.id for m in others if m.id in places and not _precedes(after, places[m.id])]
        shown = in_view(self.session, self.where, earlier)
        return any(self.terms(member) is not None for member in others if member.id in shown)


def _candidates(
    session: Session, where: FeedFilter, ranked: bool, after: Position | None, size: int
) -> Iterator[tuple[FeedItem, Position, bool]]:
    """The view's articles in order, read in growing batches; True marks a batch's end."""
    if isinstance(after, Ranked) != ranked and after is not None:
        raise ValueError("the cursor is not one of this order")
    while True:
        rows: list[tuple[FeedItem, Position]]
        if ranked:
            rows = list(ranked_page(session, where, after, size))  # type: ignore[arg-type]
            more = len(rows) == size
        else:
            page = feed.feed_page(session, where, after, size)  # type: ignore[arg-type]
            rows = [(item, Cursor(item.published_at, item.id)) for item in page.items]
            more = page.next is not None
        for number, (item, position) in enumerate(rows, 1):
            yield item, position, more and number == len(rows)
        if not more or not rows:
            return
        after = rows[-1][1]
        size = min(size * 2, MAX_BATCH)


def _text(item: FeedItem, sources: dict[str, tuple[str, ...]]) -> ArticleText:
    """What a rule reads of the article (alerts.engine.article_text: the very same)."""
    return article_text(
        ArticleRow(
            item.id,
            item.story_id,
            item.url,
            item.title,
            item.lead,
            item.text,
            item.language,
            item.published_at,
            item.fetched_at,
            item.site_name,
            item.source,
            sources.get(item.source, ()),
        )
    )


def _narrowed(
    session: Session,
    search: Search | None,
    where: FeedFilter,
    sources: dict[str, tuple[str, ...]],
) -> FeedFilter | None:
    """The view's filters with the index's narrowing and the query's top-level language,
    source and tag conditions; None when those leave nothing."""
    if search is None:
        return where
    where = replace(where, search=search.index, searching=search.index is not None)
    root = search.query.root
    for conjunct in root.children if isinstance(root, And) else (root,):
        group = _meta_group(conjunct)
        if group is None:
            continue
        judge = Matcher([RuleSpec("filter", Query(search.query.text, conjunct))])
        if group == "lang":
            if _accepts(judge, None):  # articles without a language too: no list says that
                continue
            allowed = {code for code in feed.languages(session) if _accepts(judge, code)}
            if where.languages:
                allowed &= set(where.languages)
            if not allowed:
                return None
            where = replace(where, languages=tuple(sorted(allowed)))
        else:
            allowed = {name for name, tags in sources.items() if _accepts(judge, None, name, tags)}
            if where.sources:
                allowed &= set(where.sources)
            if not allowed:
                return None
            where = replace(where, sources=tuple(sorted(allowed)))
    return where


def _accepts(judge: Matcher, language: str | None, source: str = "", tags=()) -> bool:
    return bool(judge.match(prepare(ArticleText("", "", language, source, tuple(tags)))))


def _meta_group(node: Node) -> str | None:
    """ "lang" when `node` reads languages only, "source" when sources and tags only."""
    fields: set[str] = set()

    def only_meta(item: Node) -> bool:
        if isinstance(item, Meta):
            fields.add(item.field)
            return True
        if isinstance(item, Not):
            return only_meta(item.child)
        if isinstance(item, And | Or):
            return all(only_meta(child) for child in item.children)
        return False

    if not only_meta(node):
        return None
    if fields == {"lang"}:
        return "lang"
    return "source" if fields <= {"source", "tag"} else None


def _precedes(first: Position, second: Position) -> bool:
    """Does `first` come strictly before `second` in their order?"""
    return _place(first) < _place(second)


def _place(position: Position) -> tuple:
    if isinstance(position, Ranked):
        return (position.key, -position.id)
    if position.published_at is None:  # undated articles come last, newest stored first
        return (1, 0.0, -position.id)
    return (0, -position.published_at.timestamp(), -position.id)
