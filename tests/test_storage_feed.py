"""The stored feed for review: keyset pages, filters and one-entry-per-story, on both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from crawler.storage import feed
from crawler.storage.engine import sessions
from crawler.storage.feed import Cursor, FeedFilter
from crawler.storage.models import Article, Source
from crawler.storage.models.alerts import AlertMatch
from tests.alerts_fixtures import T0, add_article


def _fill(engine) -> list[int]:
    """23 articles: ties on the publication date, several copies of a story, undated ones."""
    ids = []
    for number in range(20):
        when = T0 + timedelta(hours=number // 3)  # three articles per hour: ties to break
        ids.append(
            add_article(
                engine,
                f"article {number}",
                f"body {number}",
                stored_at=when,
                source="hln" if number % 2 else "vrt",
            )
        )
    for number in range(3):
        ids.append(add_article(engine, f"undated {number}", f"undated body {number}"))
    with sessions(engine)() as session, session.begin():
        session.execute(
            update(Article).where(Article.title.like("undated%")).values(published_at=None)
        )
    return ids


def _walk(engine, where: FeedFilter, size: int) -> list[list[int]]:
    pages, after = [], None
    with sessions(engine)() as session:
        while True:
            page = feed.feed_page(session, where, after, size)
            pages.append([item.id for item in page.items])
            if page.next is None:
                return pages
            after = page.next


def test_keyset_pages_cover_the_feed_once_newest_first_undated_last(engine):
    _fill(engine)
    with sessions(engine)() as session:
        everything = feed.feed_page(session, FeedFilter(), None, 1000).items
    expected = [item.id for item in everything]
    dated = [item for item in everything if item.published_at]
    assert [i.published_at for i in dated] == sorted((i.published_at for i in dated), reverse=True)
    assert all(item.published_at is None for item in everything[len(dated) :])
    assert len(expected) == 23
    for size in (1, 2, 3, 7, 22, 23, 50):
        pages = _walk(engine, FeedFilter(), size)
        assert [i for page in pages for i in page] == expected, f"page size {size}"
        assert all(len(page) <= size for page in pages)


def test_filters(engine):
    ids = _fill(engine)
    with sessions(engine)() as session, session.begin():
        session.execute(update(Source).where(Source.name == "hln").values(tags=["be", "topic"]))
        article = session.get(Article, ids[4])
        session.add(
            AlertMatch(
                rule="r",
                story_id=article.story_id,
                article_id=article.id,
                query="q",
                terms=[],
                snippets=[],
                title_highlights=[],
            )
        )

    def titles(**where):
        with sessions(engine)() as session:
            page = feed.feed_page(session, FeedFilter(**where), None, 100)
            return {item.title for item in page.items}

    undated = {"undated 0", "undated 1", "undated 2"}  # stored from hln
    assert (
        titles(tag="topic")
        == titles(sources=("hln",))
        == {f"article {n}" for n in range(1, 20, 2)} | undated
    )
    assert titles(tag="nothing-has-it") == set()
    assert titles(rule="r") == {"article 4"}
    assert titles(since=T0 + timedelta(hours=6)) == {"article 18", "article 19"}
    # undated articles are dated by when they were fetched
    early = {"article 0", "article 1", "article 2"}
    assert titles(until=T0 + timedelta(hours=1)) == early | undated
    assert titles(languages=("fr",)) == set()


def test_iter_feed_pages_through_the_view_and_cuts_a_page_with_after_and_limit(engine):
    _fill(engine)
    with sessions(engine)() as session:
        everything = [item.id for item in feed.feed_page(session, FeedFilter(), None, 1000).items]
        assert [item.id for item in feed.iter_feed(session, FeedFilter(), batch=2)] == everything
        for start, size in [(0, 5), (4, 3), (17, 4), (20, 3), (21, 10)]:
            after = None
            if start:
                before = feed.get_item(session, everything[start - 1])
                after = Cursor(before.published_at, before.id)
            for batch in (1, 2, 500):
                cut = feed.iter_feed(session, FeedFilter(), batch, after=after, limit=size)
                assert [item.id for item in cut] == everything[start : start + size], (
                    f"from {start}, {size} rows, read {batch} at a time"
                )
        assert list(feed.iter_feed(session, FeedFilter(), limit=0)) == []


def test_iter_feed_asks_a_page_reader_for_no_more_rows_than_the_limit(engine):
    _fill(engine)
    asked = []

    def pages(session, where, after, size):
        asked.append(size)
        return feed.feed_page(session, where, after, size)

    with sessions(engine)() as session:
        assert len(list(feed.iter_feed(session, FeedFilter(), 4, limit=10, pages=pages))) == 10
    assert asked == [4, 4, 2]


def test_per_story_keeps_each_story_once_as_its_first_stored_article_in_the_view(engine):
    first = add_article(engine, "story one", "one", stored_at=T0)
    add_article(engine, "story two", "two", stored_at=T0 + timedelta(hours=1))
    for hour in range(2, 6):
        when, source = T0 + timedelta(hours=hour), "vrt" if hour % 2 else "hln"
        add_article(
            engine, f"copy {hour}", str(hour), story_of=first, source=source, stored_at=when
        )
    with sessions(engine)() as session:

        def titles(batch=500, **where):
            where = FeedFilter(per_story=True, **where)
            return [item.title for item in feed.iter_feed(session, where, batch)]

        # the story stands where its first article does, however new its copies
        assert titles() == titles(batch=1) == ["story two", "story one"]
        [one] = [i for i in feed.iter_feed(session, FeedFilter(per_story=True)) if i.id == first]
        assert one.story_size == 5
        # filtered to vrt, its first vrt copy stands for it
        assert titles(sources=("vrt",)) == ["copy 3"]
        assert titles(since=T0 + timedelta(hours=3)) == ["copy 3"]
