"""crawler.storage.versions on SQLite and PostgreSQL: who is watched, when, what is recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from crawler import placement
from crawler.sources import Source
from crawler.storage import versions
from crawler.storage.engine import sessions
from crawler.storage.models import Article
from crawler.storage.models.alerts import AlertMatch
from crawler.storage.models.versions import ArticleWatch
from crawler.storage.sources import sync_sources
from crawler.versions import EDITED, REMOVED, Snapshot
from tests.test_storage_articles import OTHER_TEXT, TEXT, make

NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)
AFTER = (3600.0, 6 * 3600.0, 24 * 3600.0, 72 * 3600.0)


def stored(engine):
    """A source with three articles: matched and recent, matched and old, unmatched."""
    factory = sessions(engine)
    with factory() as session:
        (source_id,) = sync_sources(
            session, [Source("tagesschau", "feed", ("https://t.example/rss",), "de")]
        ).values()
        ids = {}
        for name, text, fetched in (
            ("recent", TEXT, NOW - timedelta(hours=2)),
            ("old", OTHER_TEXT, NOW - timedelta(days=10)),
            ("unmatched", TEXT + " Ein weiterer Satz.", NOW - timedelta(hours=2)),
        ):
            article = make(f"https://t.example/{name}", text, fetched_at=fetched)
            ids[name] = placement.add_article(session, source_id, article).article_id
        for name in ("recent", "old"):
            story = session.scalar(select(Article.story_id).where(Article.id == ids[name]))
            session.add(
                AlertMatch(rule=name, story_id=story, article_id=ids[name], query="x", terms=[])
            )
        session.commit()
    return factory, source_id, ids


def test_matched_articles_within_their_schedule_are_watched_once(engine):
    factory, source_id, ids = stored(engine)
    with factory() as session:
        assert versions.watch_matched(session, source_id, AFTER, NOW) == 1
        assert versions.watch_matched(session, source_id, AFTER, NOW) == 0
        assert versions.watch_matched(session, source_id, (), NOW) == 0
        session.commit()
        watch = session.get_one(ArticleWatch, ids["recent"])
        # first check an hour after the first fetch: due already, two hours later
        assert watch.next_check_at == NOW - timedelta(hours=1)
        (due,) = versions.due(session, source_id, NOW, limit=10)
        assert (due.article_id, due.url) == (ids["recent"], "https://t.example/recent")
        assert versions.due(session, source_id, NOW, limit=0) == []

        versions.checked(session, ids["recent"], AFTER, NOW, status=200, etag='"v1"')
        session.commit()
        assert watch.next_check_at == NOW + timedelta(hours=4)  # six hours after the fetch
        assert watch.etag == '"v1"'
        versions.checked(session, ids["recent"], AFTER, NOW, status=304)
        assert watch.etag == '"v1"'  # a 304 keeps the validators it was asked with


def test_observe_records_material_changes_once(engine):
    factory, _, ids = stored(engine)
    article_id = ids["recent"]
    with factory() as session:
        first, change = versions.latest(session, article_id)
        assert change == EDITED and first.text == TEXT
        assert versions.observe(session, article_id, first, EDITED, 200, NOW) is None
        retitled = Snapshot("Neuer Titel", first.author, first.published_at, TEXT, first.final_url)
        assert versions.observe(session, article_id, retitled, EDITED, 200, NOW) == 2
        assert versions.observe(session, article_id, retitled, EDITED, 200, NOW) is None
        gone = Snapshot(None, None, None, None, first.final_url)
        assert versions.observe(session, article_id, gone, REMOVED, 410, NOW) == 3
        assert versions.observe(session, article_id, gone, REMOVED, 404, NOW) is None
        session.commit()
        history = versions.history(session, article_id)
    assert [(v.number, v.change, v.changed) for v in history] == [
        (1, "first", ()),
        (2, "edited", ("title",)),
        (3, "removed", ()),
    ]
    with factory() as session:
        assert versions.history(session, 999_999) == []
