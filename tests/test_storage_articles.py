"""Article storage on SQLite and PostgreSQL: once per URL, copies join the first's story."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from crawler import items, placement
from crawler.dedupe import content_hash
from crawler.fingerprints import fingerprint
from crawler.placement import Outcome
from crawler.sources import Source
from crawler.storage import articles
from crawler.storage.engine import sessions
from crawler.storage.feed import FeedFilter, iter_feed
from crawler.storage.sources import sync_sources

TEXT = "Belgische und marokkanische Behörden vereinbaren einen Aktionsplan gegen die Mocro-Maffia."
# A text of its own: one with a word added would now be a near-duplicate (tests/test_stories.py)
OTHER_TEXT = "Im Hafen von Antwerpen fanden Zöllner erneut Kokain in einem Bananencontainer."


def make(url: str, text: str = TEXT, **fields) -> items.Article:
    """An article as extraction hands it over: hashed and fingerprinted (no cited links)."""
    base = dict(
        source="tagesschau",
        url=url,
        link_key=url,
        title="Aktionsplan",
        author=None,
        published_at=datetime(2026, 11, 24, 8, tzinfo=UTC),
        language="de",
        text=text,
        lead=None,
        site_name=None,
        image_url=None,
        content_hash=content_hash(text),
        fetched_at=datetime(2026, 11, 24, 9, tzinfo=UTC),
        fingerprint=fingerprint(text),
    )
    base.update(fields)
    return items.Article(**base)


def setup(engine):
    factory = sessions(engine)
    with factory() as session:
        ids = sync_sources(
            session,
            [
                Source("tagesschau", "feed", ("https://t.example/rss",), "de"),
                Source("le-soir", "feed", ("https://s.example/rss",), "fr"),
            ],
        )
    return factory, ids


def test_same_url_is_stored_once(engine):
    factory, ids = setup(engine)
    with factory() as session:
        first = placement.add_article(session, ids["tagesschau"], make("https://t.example/a"))
        again = placement.add_article(session, ids["tagesschau"], make("https://t.example/a"))
    assert first.outcome is Outcome.NEW
    assert again.outcome is Outcome.KNOWN_URL
    assert again.article_id == first.article_id
    with factory() as session:
        assert len(list(iter_feed(session, FeedFilter()))) == 1


def test_identical_text_under_another_url_joins_the_first_story(engine):
    factory, ids = setup(engine)
    with factory() as session:
        first = placement.add_article(session, ids["tagesschau"], make("https://t.example/a"))
        copy = placement.add_article(
            session, ids["le-soir"], make("https://s.example/b", title="Autre titre")
        )
        other = placement.add_article(
            session, ids["le-soir"], make("https://s.example/c", text=OTHER_TEXT)
        )
        stored_copy, _ = articles.get_article(session, copy.article_id)
    assert copy.outcome is Outcome.DUPLICATE_TEXT
    assert copy.story_id == first.story_id
    assert stored_copy.duplicate_of_id == first.article_id
    assert "same text as article" in stored_copy.story_reason
    assert other.outcome is Outcome.NEW and other.story_id != first.story_id


def test_known_urls_include_the_link_that_led_to_an_article(engine):
    factory, ids = setup(engine)
    with factory() as session:
        placement.add_article(
            session,
            ids["tagesschau"],
            make("https://t.example/canonical", link_key="https://t.example/amp-link"),
        )
        found = articles.known_urls(
            session, ["https://t.example/canonical", "https://t.example/amp-link", "https://x/new"]
        )
    assert found == {"https://t.example/canonical", "https://t.example/amp-link"}


def test_filters_and_newest_first(engine):
    factory, ids = setup(engine)
    day = lambda d: datetime(2026, 11, d, 12, tzinfo=UTC)  # noqa: E731
    with factory() as session:
        placement.add_article(
            session,
            ids["tagesschau"],
            make(
                "https://t.example/1",
                text="Erster Bericht über Ermittlungen.",
                published_at=day(20),
            ),
        )
        placement.add_article(
            session,
            ids["le-soir"],
            make(
                "https://s.example/2",
                language="fr",
                text="La Sûreté de l'État coopère.",
                published_at=day(22),
            ),
        )
        placement.add_article(
            session,
            ids["tagesschau"],
            make(
                "https://t.example/3",
                text="Kein Datum hier.",
                published_at=None,
                fetched_at=day(23),
            ),
        )
        everything = list(iter_feed(session, FeedFilter()))
        french = list(iter_feed(session, FeedFilter(languages=("fr",))))
        recent = list(iter_feed(session, FeedFilter(since=day(21))))
        from_source = list(iter_feed(session, FeedFilter(sources=("tagesschau",))))
    urls = lambda rows: [item.url for item in rows]  # noqa: E731
    assert urls(everything)[:2] == ["https://s.example/2", "https://t.example/1"]
    assert urls(everything)[-1] == "https://t.example/3"  # undated: last
    assert urls(french) == ["https://s.example/2"]
    assert set(urls(recent)) == {"https://s.example/2", "https://t.example/3"}
    assert set(urls(from_source)) == {"https://t.example/1", "https://t.example/3"}


def test_timestamps_come_back_timezone_aware_utc(engine):
    factory, ids = setup(engine)
    when = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
    with factory() as session:
        stored = placement.add_article(
            session, ids["tagesschau"], replace(make("https://t.example/tz"), published_at=when)
        )
    with factory() as session:
        article, _ = articles.get_article(session, stored.article_id)
    assert article.published_at == when
    assert article.published_at.tzinfo is not None
