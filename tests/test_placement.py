"""Placement on SQLite and PostgreSQL: which article is a copy, which story an article joins."""

from __future__ import annotations

from datetime import timedelta

from crawler import placement
from crawler.placement import Outcome
from crawler.storage import articles, backlog
from crawler.storage.backlog import Pending
from crawler.storage.feed import FeedFilter, iter_feed
from tests.test_storage_stories import GERMAN, OTHER, T0, TEXT, WIRE, make, setup


def test_an_article_opens_a_story_and_copies_join_it_saying_why(engine):
    factory, source = setup(engine)
    trimmed = "(Belga)\n\n" + "\n\n".join(WIRE[:-1])
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
        same = placement.add_article(session, source, make("https://b.example/2", TEXT))
        near = placement.add_article(session, source, make("https://c.example/3", trimmed))
        german = placement.add_article(
            session,
            source,
            make("https://d.example/4", GERMAN, when=T0 + timedelta(hours=5), language="de"),
        )
        other = placement.add_article(session, source, make("https://e.example/5", OTHER))
        reasons = [
            articles.get_article(session, stored.article_id)[0].story_reason
            for stored in (first, same, near, german)
        ]
    assert [first.outcome, same.outcome, near.outcome, german.outcome] == [
        Outcome.NEW,
        Outcome.DUPLICATE_TEXT,
        Outcome.DUPLICATE_TEXT,
        Outcome.NEW,
    ]
    assert {same.story_id, near.story_id, german.story_id} == {first.story_id}
    assert other.story_id != first.story_id
    assert reasons[0] == "first"
    assert reasons[1] == f"same text as article #{first.article_id}"
    assert reasons[2].startswith(f"near-duplicate of #{first.article_id} (")
    assert reasons[3].startswith("shares ") and f"with #{first.article_id}" in reasons[3]


def test_a_stored_link_leaves_the_backlog(engine):
    factory, source = setup(engine)
    url = "https://a.example/1"
    with factory() as session:
        backlog.defer(session, source, [Pending(url, url, {})], T0)
        placement.add_article(session, source, make(url, TEXT))
    with factory() as session:
        assert backlog.held(session, [url]) == set()


def test_a_url_stored_by_another_writer_meanwhile_is_known(engine, monkeypatch):
    factory, source = setup(engine)
    with factory() as session:
        first = placement.add_article(session, source, make("https://a.example/1", TEXT))
    # The other writer's insert lands between our URL check and our insert: the check
    # sees nothing, the insert fails on the unique URL, the winner is read back.
    original, checks = articles.by_url, []

    def check_too_early(session, url):
        checks.append(url)
        return None if len(checks) == 1 else original(session, url)

    monkeypatch.setattr(articles, "by_url", check_too_early)
    with factory() as session:
        again = placement.add_article(session, source, make("https://a.example/1", OTHER))
    assert len(checks) == 2, "the insert should have failed and the winner been read back"
    assert again.outcome is Outcome.KNOWN_URL
    assert (again.article_id, again.story_id) == (first.article_id, first.story_id)
    with factory() as session:
        assert len(list(iter_feed(session, FeedFilter()))) == 1
