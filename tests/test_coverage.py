"""Coverage queries on SQLite and PostgreSQL: which way found which article, what was lost.

`populate` builds one outlet where the feed, the sitemap and the listing each miss
different articles, and every reason an article is not stored; the command and web tests
(tests/test_coverage_command.py, tests/test_coverage_web.py) read the same data.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from crawler.storage import coverage
from crawler.storage.engine import sessions
from crawler.storage.models import Article, BacklogLink, LinkSighting, Source, Story

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SITE = "https://news.example"
WWW = "https://www.news.example"
HOSTILE_TITLE = (
    '<script>window.__xss = "coverage"</script><img src=x onerror=alert(1)> [bold]x[/bold]'
)
HOSTILE_KEY = "https://news.example/<script>alert(1)</script>"

# key → (ways that listed it, what became of it). Stored: ("stored", title).
# Backlog: (state, reason, detail). None: not fetched yet.
ARTICLES: dict[str, tuple[tuple[str, ...], tuple | None]] = {
    f"{SITE}/a0": (("feed", "sitemap"), ("stored", "Found long ago")),  # first seen at T0-10d
    f"{SITE}/a1": (("feed", "sitemap", "listing"), ("stored", "Everyone saw it")),
    f"{SITE}/a2": (("feed", "sitemap"), ("stored", "Feed and sitemap")),
    f"{SITE}/a3": (("feed",), ("stored", HOSTILE_TITLE)),
    f"{WWW}/a4": (("sitemap",), ("stored", "Only the sitemap, on www.")),
    f"{SITE}/a5": (("sitemap",), ("gave_up", "http", "HTTP 404")),
    HOSTILE_KEY: (("listing",), ("refused", "robots", "forbidden by robots.txt")),
    f"{SITE}/a7": (("sitemap", "listing"), ("retry", "timeout", "no complete response in time")),
    f"{SITE}/a8": (("sitemap",), ("waiting", None, None)),
    f"{SITE}/a9": (("listing",), None),
    f"{SITE}/a11": (("sitemap",), ("gave_up", "extraction", "no article text")),
    # another outlet, found by news search only
    "https://other.example/b1": (("search",), ("stored", "Found by search")),
    "https://other.example/b2": (("search",), ("gave_up", "http", "HTTP 410")),
    # a sub-domain is an outlet of its own; a port makes one too
    "https://sub.news.example/c1": (("feed",), ("stored", "Sub-domain")),
    "http://127.0.0.1:8080/d1": (("feed",), ("stored", "On a port")),
}
# a10: the feed listed K1 (with tracking), the page declared K2, which the sitemap listed:
# one article, found by two ways
K1, K2 = f"{SITE}/a10-teaser", f"{SITE}/a10"

# Every number of news.example, over all time.
EXPECTED = {
    "outlet": "news.example",
    "found": 12,
    "stored": 6,
    "found_by": {"feed": 5, "sitemap": 9, "listing": 4, "search": 0},
    "only_by": {"feed": 1, "sitemap": 4, "listing": 2, "search": 0},
    "not_stored": {
        "cap": 1,
        "extraction": 1,
        "http 404": 1,
        "not fetched yet": 1,
        "robots": 1,
        "timeout (retrying)": 1,
    },
}


def populate(engine: Engine) -> dict[str, int]:
    """The sightings, articles and backlog of the coverage tests; the article ids by key."""
    ids: dict[str, int] = {}
    with sessions(engine)() as session, session.begin():
        source = Source(name="news", kind="site", url=f"{SITE}/", language="en", tags=[])
        session.add(source)
        session.flush()

        def article(url: str, title: str, link_key: str | None = None) -> None:
            story = Story(created_at=T0)
            session.add(story)
            session.flush()
            digest = hashlib.sha256(url.encode()).hexdigest()
            row = Article(
                source_id=source.id,
                url=url,
                link_key=link_key or url,
                title=title,
                text=f"Text of {url}",
                content_hash=digest,
                story_id=story.id,
                fetched_at=T0,
                stored_at=T0,
            )
            session.add(row)
            session.flush()
            ids[url] = row.id

        def seen(key: str, way: str, when: datetime = T0 + timedelta(hours=1)) -> None:
            session.add(LinkSighting(key=key, way=way, source_id=source.id, first_seen_at=when))

        for key, (ways, fate) in ARTICLES.items():
            for way in ways:
                old = key.endswith("/a0") and way == "feed"
                seen(key, way, T0 - timedelta(days=10) if old else T0 + timedelta(hours=1))
            if fate and fate[0] == "stored":
                article(key, fate[1])
            elif fate:
                state, reason, detail = fate
                session.add(
                    BacklogLink(
                        key=key,
                        source_id=source.id,
                        url=key + "?utm_source=rss",
                        hints={},
                        state=state,
                        attempts=1,
                        reason=reason,
                        detail=detail,
                        found_at=T0,
                        updated_at=T0,
                        next_attempt_at=T0 + timedelta(hours=1),
                    )
                )
        article(K2, "Declared its own canonical", link_key=K1)
        seen(K1, "feed")
        seen(K2, "sitemap")
        # stored or held, but no way listed them: not part of the report
        article(f"{SITE}/never-listed", "Stored before sightings were kept")
        session.add(
            BacklogLink(
                key=f"{SITE}/held",
                source_id=source.id,
                url=f"{SITE}/held",
                hints={},
                state="waiting",
                found_at=T0,
                updated_at=T0,
            )
        )
    return ids


def numbers(row: coverage.OutletCoverage) -> dict:
    return {
        "outlet": row.outlet,
        "found": row.found,
        "stored": row.stored,
        "found_by": row.found_by,
        "only_by": row.only_by,
        "not_stored": row.not_stored,
    }


def without_search(expected: dict) -> dict:
    """The numbers of a report that no search found anything in: no search column."""
    return {
        name: {k: v for k, v in value.items() if k != "search"} if name.endswith("_by") else value
        for name, value in expected.items()
    }


@pytest.fixture
def report(engine):
    populate(engine)

    def run(**options) -> coverage.Coverage:
        with sessions(engine)() as session:
            return coverage.report(session, **options)

    return run


def test_every_number_per_outlet(report):
    found = report()
    assert found.ways == ("feed", "sitemap", "listing", "search")
    by_outlet = {row.outlet: row for row in found.outlets}
    assert list(by_outlet) == [
        "news.example",
        "other.example",
        "127.0.0.1:8080",
        "sub.news.example",
    ]  # most found first, then by name
    assert numbers(by_outlet["news.example"]) == EXPECTED
    assert by_outlet["news.example"].not_stored_total == 6
    assert numbers(by_outlet["other.example"]) == {
        "outlet": "other.example",
        "found": 2,
        "stored": 1,
        "found_by": {"feed": 0, "sitemap": 0, "listing": 0, "search": 2},
        "only_by": {"feed": 0, "sitemap": 0, "listing": 0, "search": 2},
        "not_stored": {"http 410": 1},
    }
    assert (found.found, found.stored) == (16, 9)
    # counts only unless asked
    assert by_outlet["news.example"].only_one_way == by_outlet["news.example"].unstored == ()


def test_details_name_each_article_its_way_and_its_reason(report):
    (row,) = report(outlet="news.example", details=100).outlets
    single = [(link.ways, link.key, link.title, link.reason) for link in row.only_one_way]
    assert single == [
        (("feed",), f"{SITE}/a3", HOSTILE_TITLE, None),
        (("sitemap",), f"{SITE}/a11", None, "extraction"),
        (("sitemap",), f"{SITE}/a5", None, "http 404"),
        (("sitemap",), f"{SITE}/a8", None, "cap"),
        (("sitemap",), f"{WWW}/a4", "Only the sitemap, on www.", None),
        (("listing",), HOSTILE_KEY, None, "robots"),
        (("listing",), f"{SITE}/a9", None, "not fetched yet"),
    ]
    assert all(link.stored == (link.article_id is not None) for link in row.only_one_way)
    unstored = {link.key: link for link in row.unstored}
    assert [link.reason for link in row.unstored] == [
        "cap",
        "extraction",
        "http 404",
        "not fetched yet",
        "robots",
        "timeout (retrying)",
    ]
    # what was published is what is shown (the key when the backlog never held it)
    assert unstored[f"{SITE}/a5"].url == f"{SITE}/a5?utm_source=rss"
    assert unstored[f"{SITE}/a9"].url == f"{SITE}/a9"
    assert unstored[f"{SITE}/a7"].ways == ("sitemap", "listing")
    assert (unstored[f"{SITE}/a7"].state, unstored[f"{SITE}/a7"].detail) == (
        "retry",
        "no complete response in time",
    )
    assert unstored[f"{SITE}/a5"].detail == "HTTP 404"


def test_details_are_limited_and_say_how_many_were_left_out(report):
    (row,) = report(outlet="news.example", details=2).outlets
    assert len(row.only_one_way) == len(row.unstored) == 2
    assert (row.more_only_one_way, row.more_unstored) == (5, 4)
    # the counts do not depend on the limit; no way but search found other.example
    assert numbers(row) == without_search(EXPECTED)


def test_since_counts_articles_first_found_on_or_after_it(report):
    (row,) = report(since=T0, outlet="news.example").outlets
    # a0 was first found by the feed ten days before: not new since T0
    assert (row.found, row.stored) == (11, 5)
    assert row.found_by == {"feed": 4, "sitemap": 8, "listing": 4}
    assert row.only_by == without_search(EXPECTED)["only_by"]
    assert report(since=T0 + timedelta(days=1)).outlets == ()


@pytest.mark.parametrize(
    ("typed", "outlets"),
    [
        ("news.example", ["news.example"]),
        ("www.news.example", ["news.example"]),
        ("https://www.news.example/some/page", ["news.example"]),
        ("NEWS.example", ["news.example"]),
        ("sub.news.example", ["sub.news.example"]),
        ("127.0.0.1", ["127.0.0.1:8080"]),  # no port typed: any port
        ("127.0.0.1:8080", ["127.0.0.1:8080"]),
        ("127.0.0.1:9090", []),
        ("ews.example", []),
        ("news_example", []),  # LIKE wildcards are literal
    ],
)
def test_one_outlet(report, typed, outlets):
    assert [row.outlet for row in report(outlet=typed).outlets] == outlets


def test_an_empty_database_reports_nothing(engine):
    with sessions(engine)() as session:
        assert coverage.report(session, details=10) == coverage.Coverage((), ())


@pytest.mark.parametrize(
    ("url", "outlet"),
    [
        ("https://www.lesoir.be/123/article", "lesoir.be"),
        ("https://m.hln.be/x", "hln.be"),
        ("https://amp.example.org/x", "example.org"),
        ("https://mobile.example.org/x", "example.org"),
        ("https://www.example/x", "www.example"),  # not a bare top-level domain
        ("http://127.0.0.1:8080/x", "127.0.0.1:8080"),
        ("https://example.org:443/x", "example.org"),
        ("http://[::1]:8080/x", "[::1]:8080"),
        ("https://Straße.de/x", "xn--strae-oqa.de"),
        ("not a url", ""),
    ],
)
def test_outlet_of(url, outlet):
    assert coverage.outlet_of(url) == outlet


@pytest.mark.parametrize(
    ("state", "reason", "detail", "label"),
    [
        (None, None, None, "not fetched yet"),
        ("waiting", None, None, "cap"),
        ("gave_up", "http", "HTTP 404", "http 404"),
        ("retry", "http", "HTTP 503", "http 503 (retrying)"),
        ("gave_up", "http", None, "http"),
        ("refused", "robots", "forbidden by robots.txt", "robots"),
        ("refused", "private_address", "…", "private_address"),
        ("gave_up", "content_type", "not an HTML page", "content_type"),
    ],
)
def test_reason_label(state, reason, detail, label):
    assert coverage.reason_label(state, reason, detail) == label
