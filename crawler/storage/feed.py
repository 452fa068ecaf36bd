"""The stored feed for review: filtered, searched, newest first, in keyset pages.

Order: publication date, newest first, then id; undated articles come last, newest stored
first (the order of `newswatch articles`). A page ends with a cursor (the last row's date
and id) and the next page starts strictly after it, so page 2,000 costs what page 1 costs:
no OFFSET, and both halves of the order walk the indexes on published_at and id.

`iter_feed` is the one read of the feed: the feed page, the JSON API, the Atom feeds, the
exports and `newswatch articles` all take their rows from it, so the same filters give the
same rows in the same order everywhere. It reads a page at a time and yields as it reads,
so an export never holds the archive in memory; `after` and `limit` cut one page of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from crawler.storage import search
from crawler.storage.models import Article, Source
from crawler.storage.models.alerts import AlertMatch
from crawler.storage.search import SearchQuery


@dataclass(frozen=True)
class FeedFilter:
    """What to show; empty fields do not filter."""

    sources: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    tag: str | None = None  # a tag of the article's source (topics are tags)
    rule: str | None = None  # stories this alert rule matched
    since: datetime | None = None  # published (or, undated, fetched) at or after
    until: datetime | None = None  # ... and before
    search: SearchQuery | None = None
    searching: bool = False  # a search was asked for: with no usable words it finds nothing
    collapse: bool = False  # hide copies stored under another URL
    # One row per story: its first stored article among those the other filters keep
    # (collapse=1 on the web, `--collapse` on the command line).
    per_story: bool = False


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the last row's publication date (None: undated) and id."""

    published_at: datetime | None
    id: int


@dataclass(frozen=True)
class FeedItem:
    id: int
    story_id: int
    url: str
    title: str | None
    author: str | None
    lead: str | None
    text: str
    language: str | None
    published_at: datetime | None
    fetched_at: datetime
    site_name: str | None
    image_url: str | None
    source: str
    duplicate_of_id: int | None
    story_reason: str
    story_size: int = 1  # how many stored articles the story holds


@dataclass(frozen=True)
class FeedPage:
    items: tuple[FeedItem, ...]
    next: Cursor | None  # None: this is the last page


def _conditions(session: Session, where: FeedFilter, table=Article, *, searched=True) -> list:
    """The filters as conditions on `table` (articles, or an alias of it).

    `searched=False` leaves the search's own condition out, for a caller that asks the
    index itself (relevance order); one row per story still counts only what it finds.
    """
    conditions = []
    if where.sources:
        names = select(Source.id).where(Source.name.in_(where.sources))
        conditions.append(table.source_id.in_(names))
    if where.languages:
        conditions.append(table.language.in_(where.languages))
    if where.tag:
        conditions.append(table.source_id.in_(source_ids_with_tag(session, where.tag)))
    if where.rule:
        matched = select(AlertMatch.story_id).where(AlertMatch.rule == where.rule)
        conditions.append(table.story_id.in_(matched))
    # An article without a publication date is dated by when it was fetched.
    undated = table.published_at.is_(None)
    if where.since:
        conditions.append(
            or_(table.published_at >= where.since, undated & (table.fetched_at >= where.since))
        )
    if where.until:
        conditions.append(
            or_(table.published_at < where.until, undated & (table.fetched_at < where.until))
        )
    if searched and (where.search is not None or where.searching):
        found = search.matches(session.get_bind().dialect.name, where.search)
        if table is not Article:  # the index's condition is spelt on `articles` itself
            found = table.id.in_(select(Article.id).where(found).correlate(None))
        conditions.append(found)
    if where.collapse:
        conditions.append(table.duplicate_of_id.is_(None))
    if where.per_story:
        # Correlated on the story, so a page costs its own rows, not the whole view.
        earlier = aliased(Article)
        others = _conditions(session, replace(where, per_story=False), earlier)
        conditions.append(
            ~exists().where(earlier.story_id == table.story_id, earlier.id < table.id, *others)
        )
    return conditions


def source_ids_with_tag(session: Session, tag: str) -> list[int]:
    """Sources are few and tags are a JSON list: filtering them here works on both backends."""
    rows = session.execute(select(Source.id, Source.tags)).all()
    return [row.id for row in rows if tag in (row.tags or ())]


def _rows(query: Select) -> Select:
    return query.join(Source, Source.id == Article.source_id)


def feed_page(
    session: Session, where: FeedFilter = FeedFilter(), after: Cursor | None = None, limit: int = 50
) -> FeedPage:
    """One page of the feed, starting after `after`."""
    conditions = _conditions(session, where)
    query = _rows(select(Article, Source.name)).where(*conditions)
    found: list = []
    if after is None or after.published_at is not None:
        dated = query.where(Article.published_at.is_not(None))
        if after is not None:
            # Spelt so both planners see a range on published_at: with the textbook
            # `a < x OR (a = x AND id < y)` SQLite merged two source-index scans and sorted.
            dated = dated.where(
                Article.published_at <= after.published_at,
                or_(Article.published_at < after.published_at, Article.id < after.id),
            )
        dated = dated.order_by(Article.published_at.desc(), Article.id.desc())
        found = list(session.execute(dated.limit(limit + 1)).all())
    if len(found) <= limit:
        undated = query.where(Article.published_at.is_(None))
        if after is not None and after.published_at is None:
            undated = undated.where(Article.id < after.id)
        undated = undated.order_by(Article.id.desc()).limit(limit + 1 - len(found))
        found += session.execute(undated).all()
    rows, more = found[:limit], len(found) > limit
    items = _items(session, rows)
    last = items[-1] if items else None
    cursor = Cursor(last.published_at, last.id) if more and last else None
    return FeedPage(tuple(items), cursor)


Row = TypeVar("Row", covariant=True)


class Page(Protocol[Row]):
    """A page as a page reader returns it: its rows, and where the next page starts."""

    @property
    def items(self) -> Sequence[Row]: ...

    @property
    def next(self) -> Any: ...  # None: this is the last page


PageReader = Callable[[Session, FeedFilter, Any, int], Page[Row]]


def iter_feed(
    session: Session,
    where: FeedFilter,
    batch: int = 500,
    *,
    after: Any = None,
    limit: int | None = None,
    pages: PageReader | None = None,
) -> Iterator[Any]:
    """The rows of the view in its order, starting after `after`, at most `limit` of them.

    Read `batch` rows at a time (fewer when `limit` needs fewer) and yielded as read, so
    only one page is held. `pages` reads a page (default `feed_page`, whose rows are
    FeedItems and whose positions are Cursors); a search passes its own (alerts.archive
    judges the rows and may rank them), and its rows and positions are then its own.
    """
    read = pages or feed_page
    left = limit
    while left is None or left > 0:
        page = read(session, where, after, batch if left is None else min(batch, left))
        yield from page.items
        if left is not None:
            left -= len(page.items)
        if page.next is None:
            return
        after = page.next


def _items(session: Session, rows: Sequence) -> list[FeedItem]:
    story_ids = {article.story_id for article, _ in rows}
    sizes = (
        dict(
            session.execute(
                select(Article.story_id, func.count(Article.id))
                .where(Article.story_id.in_(story_ids))
                .group_by(Article.story_id)
            ).all()
        )
        if story_ids
        else {}
    )
    return [item(article, source, sizes.get(article.story_id, 1)) for article, source in rows]


def item(article: Article, source: str, story_size: int = 1) -> FeedItem:
    return FeedItem(
        article.id,
        article.story_id,
        article.url,
        article.title,
        article.author,
        article.lead,
        article.text,
        article.language,
        article.published_at,
        article.fetched_at,
        article.site_name,
        article.image_url,
        source,
        article.duplicate_of_id,
        article.story_reason,
        story_size,
    )


def get_item(session: Session, article_id: int) -> FeedItem | None:
    row = session.execute(_rows(select(Article, Source.name)).where(Article.id == article_id))
    found = row.first()
    return _items(session, [found])[0] if found else None


def story_items(session: Session, story_id: int) -> list[FeedItem]:
    """Every member of a story, in the order they were stored (the first one founded it)."""
    query = _rows(select(Article, Source.name)).where(Article.story_id == story_id)
    rows = session.execute(query.order_by(Article.id)).all()
    return [item(article, source, len(rows)) for article, source in rows]


def languages(session: Session) -> list[str]:
    query = select(Article.language).where(Article.language.is_not(None)).distinct()
    return sorted(session.scalars(query))


def source_tags(session: Session) -> list[list[str]]:
    return [list(tags or ()) for tags in session.scalars(select(Source.tags))]


def source_names(session: Session) -> list[str]:
    return list(session.scalars(select(Source.name).order_by(Source.name)))
