"""Capture end to end: every published link is fetched as published, kept until handled.

The outlet (newswatch.demo.url_shapes) answers 200 only for the exact spelling it
published and 404 for every other; it is reached as an HTTP proxy, so `m.` hosts work.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections import Counter
from functools import partial

import pytest

from crawler.sources import Source
from crawler.spiders.news import FeedWrites
from crawler.storage import backlog, fetch_state
from crawler.storage.backlog import Pending
from crawler.storage.engine import sessions
from crawler.storage.models.base import utcnow
from crawler.storage.sources import sync_sources
from newswatch.demo.server import Request, Response, text
from newswatch.demo.url_shapes import UrlShapesOutlet
from tests.crawl_helpers import execute, newswatch, rows, serving, through_proxy, write_config

FEED = "https://capped.example/feed"


@contextlib.contextmanager
def strict_outlet(**options):
    outlet = UrlShapesOutlet(**options)
    with serving(outlet) as base_url:
        yield outlet, through_proxy(base_url)


def feed_source(outlet: UrlShapesOutlet, **options) -> dict:
    # The outlet's hosts are names only the proxy knows: not the guard's business here.
    return {
        "name": "strict-feed",
        "kind": "feed",
        "url": outlet.feed_url(),
        "allow_private_links": True,
        **options,
    }


def sitemap_source(outlet: UrlShapesOutlet) -> dict:
    return {
        "name": "strict-sitemap",
        "kind": "sitemap",
        "url": outlet.sitemap_url(),
        "allow_private_links": True,
    }


def test_every_shape_is_requested_once_as_published_and_stored_once(tmp_path, database_url):
    with strict_outlet() as (outlet, env):
        config = write_config(
            tmp_path / "newswatch.toml", [feed_source(outlet), sitemap_source(outlet)]
        )
        result = newswatch(config, database_url, "crawl", env=env)
        requested = outlet.article_requests()

    assert result.returncode == 0, result.stderr
    reached = [outlet.story_at(host, target) for host, target in requested]
    wrong = [request for request, story in zip(requested, reached, strict=True) if not story]
    assert not wrong, f"requested spellings the outlet never published: {wrong}"
    # the feed and the sitemap list the same stories: each is requested once
    assert Counter(story.link for story in reached) == {s.link: 1 for s in outlet.stories}
    assert ("m.strict-news.test", "/story/story-9") in requested

    stored = rows(database_url, "SELECT url, link_url, link_key, final_url FROM articles")
    assert len(stored) == len(outlet.stories)
    published = {s.link for s in outlet.stories} | {s.sitemap_link for s in outlet.stories}
    assert {link_url for _, link_url, _, _ in stored} <= published
    # the keys are canonical: tracking junk from the feed and the sitemap met on one key
    assert not [url for url, *_ in stored if "utm_" in url or "fbclid" in url]
    keys = {url for url, *_ in stored}
    assert "http://strict-news.test/2025/04/28/story-1" in keys  # the slash is only a key's
    assert "http://strict-news.test/story/story-9" in keys  # the m. host too
    assert "0 failed" in result.stderr


def test_a_capped_run_leaves_the_rest_for_the_next_runs(tmp_path, sqlite_url):
    with strict_outlet() as (outlet, env):
        config = write_config(tmp_path / "newswatch.toml", [feed_source(outlet, max_articles=4)])
        first = newswatch(config, sqlite_url, "crawl", env=env)
        assert first.returncode == 0, first.stderr
        assert len(rows(sqlite_url, "SELECT id FROM articles")) == 4
        assert "7 left for later" in first.stderr
        runs = [newswatch(config, sqlite_url, "crawl", env=env) for _ in range(3)]
        requested = outlet.article_requests()
        feed_answers = [host for host, target in outlet.requests if target == "/feed.xml"]

    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    # the feed did not change, so later runs got 304: the backlog alone fed them
    assert len(feed_answers) == 4
    assert "strict-feed: not_modified, 0 links, 4 fetched, 4 new" in runs[0].stderr
    assert len(rows(sqlite_url, "SELECT id FROM articles")) == len(outlet.stories)
    assert len(requested) == len(set(requested)) == len(outlet.stories)
    assert "0 left for later" in runs[-1].stderr
    assert rows(sqlite_url, "SELECT count(*) FROM link_backlog") == [(0,)]


def test_a_transient_failure_is_retried_later_and_a_404_never(tmp_path, sqlite_url):
    with strict_outlet() as (outlet, env):
        slow, gone = outlet.stories[0], outlet.stories[1]
        slow_target = "/2025/04/28/story-1/"
        release = threading.Event()
        _once(outlet, slow_target, lambda _: _stall(release))
        outlet.faults["/2025/04/29/story-2"] = lambda _: text(404, "gone")
        config = write_config(
            tmp_path / "newswatch.toml", [feed_source(outlet)], timeout="1s", retries=0
        )
        try:
            first = newswatch(config, sqlite_url, "crawl", env=env)
        finally:
            release.set()
        assert first.returncode == 0, first.stderr
        waiting = rows(sqlite_url, "SELECT url, state, attempts, reason FROM link_backlog")
        assert set(waiting) == {
            (gone.link, "gave_up", 1, "http"),
            (slow.link, "retry", 1, "timeout"),
        }
        listed = newswatch(config, sqlite_url, "failures")
        # the retry with its time and attempts, the 404 given up
        assert re.search(r"\d\d:\d\d \S+ +strict-feed +1 +timeout", listed.stdout), listed.stdout
        assert re.search(r"gave up +strict-feed +1 +http .* HTTP 404", listed.stdout)

        # Not yet due: the next run leaves it alone.
        early = newswatch(config, sqlite_url, "crawl", env=env)
        assert early.returncode == 0, early.stderr
        assert _hits(outlet, slow_target) == 1
        # Its time has come (the retry schedule's first delay has passed).
        execute(sqlite_url, "UPDATE link_backlog SET next_attempt_at = '2000-01-01 00:00:00'")
        later = newswatch(config, sqlite_url, "crawl", env=env)
        assert later.returncode == 0, later.stderr

        assert _hits(outlet, slow_target) == 2
        assert _hits(outlet, "/2025/04/29/story-2") == 1, "a 404 was requested again"
        assert [h for h, t in outlet.requests if t == "/feed.xml"] == [outlet.host] * 3
    stored = {link for (link,) in rows(sqlite_url, "SELECT link_url FROM articles")}
    assert slow.link in stored and gone.link not in stored
    assert rows(sqlite_url, "SELECT url, state FROM link_backlog") == [(gone.link, "gave_up")]


def _once(outlet: UrlShapesOutlet, target: str, fault):
    """Make the outlet answer `target` with `fault` once, then serve it normally."""

    def respond(request: Request) -> Response | None:
        del outlet.faults[target]
        return fault(request)

    outlet.faults[target] = respond


def _stall(release: threading.Event) -> Response:
    release.wait(10)  # longer than the crawl's 1 s timeout; freed when the test moves on
    return text(200, "too late")


def _hits(outlet: UrlShapesOutlet, target: str) -> int:
    return sum(1 for _, t in outlet.requests if t == target)


def test_a_feeds_validators_are_never_saved_before_its_backlog_rows(engine):
    """What reading a feed writes is committed with the validators or before them; a write
    that fails keeps waiting, and the validators wait with it."""
    make = sessions(engine)
    with make() as session:
        source_id = sync_sources(session, [Source("capped", "feed", (FEED,))])["capped"]
    later = Pending(f"{FEED}/a", f"{FEED}/a", {})
    fetch = {"url": FEED, "source_id": source_id, "status": 200, "etag": '"v1"'}
    validators = partial(fetch_state.note_fetch, **fetch, last_modified=None)
    writes = FeedWrites(make, None)  # each feed's writes committed at once (a cluster worker)
    failing = [True]

    def sightings_of_another_feed(_session) -> None:
        if failing[0]:
            raise OSError("connection lost")

    writes.add(partial(backlog.defer, source_id=source_id, links=[later], now=utcnow()))
    with pytest.raises(OSError):
        writes.add(sightings_of_another_feed)
    with pytest.raises(OSError):  # the crawl finishes: the validators wait too
        writes.flush(validators)
    with make() as session:
        assert backlog.held(session, [later.key]) == {later.key}
        assert fetch_state.validators_for(session, [FEED]) == {}
    failing[0] = False
    writes.flush(validators)  # what waited first, then the validators
    with make() as session:
        assert fetch_state.validators_for(session, [FEED])[FEED].etag == '"v1"'
