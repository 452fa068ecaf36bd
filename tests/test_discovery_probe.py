"""Judging a fetched candidate: a feed, a sitemap, or something posing as one (pure)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawler.discovery.homepage import Candidate
from crawler.discovery.probe import describe, probe

FEED = Candidate("https://x.be/feed", "feed", 'link rel="alternate" (application/rss+xml)')
SITEMAP = Candidate("https://x.be/sitemap.xml", "sitemap", "robots.txt Sitemap:")
NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"


def rss(*links: str, language: str = "fr-BE") -> bytes:
    items = "".join(
        f"<item><title>t{n}</title><link>{link}</link>"
        f"<pubDate>Mon, 0{n + 1} Dec 2026 08:00:00 GMT</pubDate></item>"
        for n, link in enumerate(links)
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Le fil</title>"
        f"<language>{language}</language>{items}</channel></rss>"
    ).encode()


def judged(candidate, body, content_type="application/xml", status=200, final_url=None):
    return probe(candidate, status, body, content_type, final_url or candidate.url)


def test_an_rss_feed_counts_its_items_newest_date_and_language():
    found = judged(FEED, rss("https://x.be/a", "https://x.be/b", "https://x.be/a"))
    assert (found.kind, found.items, found.problem) == ("feed", 2, None)
    assert found.newest == datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert found.language == "fr"
    assert found.format == "RSS 2.0" and found.title == "Le fil"
    assert found.links == ("https://x.be/a", "https://x.be/b")
    assert describe(found) == "RSS 2.0, 2 items, newest 2026-12-03 08:00 UTC, fr"


def test_an_atom_feed_served_as_text_html_is_still_a_feed():
    body = (
        b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom' xml:lang='de'>"
        b"<title>Nachrichten</title><entry><id>1</id><title>a</title>"
        b"<link href='https://x.de/a'/><updated>2026-12-01T10:00:00Z</updated></entry></feed>"
    )
    found = judged(FEED, body, "text/html; charset=utf-8")
    assert (found.kind, found.format, found.items, found.problem) == ("feed", "Atom", 1, None)


def test_an_html_error_page_posing_as_a_feed_is_named_with_its_title():
    body = b"<!DOCTYPE html><html><head><title>Page\n introuvable</title></head><body/></html>"
    found = judged(FEED, body, "text/html")
    assert found.kind is None
    assert found.problem == 'an HTML page ("Page introuvable"), not a feed'
    sitemap = judged(SITEMAP, b"<html><body>Not here</body></html>", None)
    assert sitemap.problem == "an HTML page, not a sitemap"


@pytest.mark.parametrize(
    ("status", "body", "problem"),
    [
        (404, rss("https://x.be/a"), "HTTP 404"),
        (503, b"", "HTTP 503"),
        (200, b"", "an empty response"),
        (200, b"\xef\xbb\xbf \n", "an empty response"),
        (200, rss(), "an empty feed"),
        (
            200,
            b"<?xml version='1.0'?><opml version='2.0'/>",
            "an XML document <opml>, not a feed or sitemap",
        ),
        (200, b"%PDF-1.4 binary", "neither a feed nor a sitemap (application/xml)"),
        (200, b"{not json", "neither a feed nor a sitemap (broken JSON)"),
        (200, b'{"data": []}', "JSON, but not a JSON Feed"),
    ],
)
def test_unusable_answers_say_why(status, body, problem):
    found = judged(FEED, body, status=status)
    assert found.problem == problem
    assert found.items == 0 or problem == "an empty feed"


def test_a_json_feed_is_recognised_and_usable():
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Het nieuws",
        "language": "nl",
        "items": [
            {"id": "1", "url": "https://x.nl/a", "date_published": "2026-12-01T09:00:00Z"},
            {"id": "2", "url": "https://x.nl/b", "date_published": "2026-12-02T09:00:00+01:00"},
        ],
    }
    found = judged(FEED, json.dumps(document).encode(), "application/feed+json")
    assert (found.kind, found.format, found.items, found.language) == ("feed", "JSON Feed", 2, "nl")
    assert found.newest == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert found.problem is None


def test_a_news_sitemap():
    body = (
        f"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
        f"xmlns:news='{NEWS_NS}'><url><loc>https://x.be/a</loc><news:news><news:publication>"
        "<news:name>X</news:name><news:language>fr</news:language></news:publication>"
        "<news:publication_date>2026-12-04T07:30:00+01:00</news:publication_date>"
        "<news:title>A</news:title></news:news></url></urlset>"
    ).encode()
    found = judged(SITEMAP, body)
    assert (found.kind, found.format, found.items) == ("sitemap", "news sitemap", 1)
    assert found.language == "fr" and found.news
    assert found.newest == datetime(2026, 12, 4, 6, 30, tzinfo=UTC)


def test_a_sitemap_index_lists_its_parts_as_children_not_items():
    body = (
        b"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<sitemap><loc>https://x.be/s1.xml</loc></sitemap>"
        b"<sitemap><loc>/s2.xml</loc></sitemap><sitemap><loc>https://x.be/s1.xml</loc></sitemap>"
        b"</sitemapindex>"
    )
    found = judged(SITEMAP, body)
    assert (found.kind, found.items, found.problem) == ("sitemap", 0, None)
    assert found.children == ("https://x.be/s1.xml", "https://x.be/s2.xml")
    assert describe(found) == "a sitemap index of 2 sitemaps"
    empty = b"<sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>"
    assert judged(SITEMAP, empty).problem == "an empty sitemap index"
    empty = b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>"
    assert judged(SITEMAP, empty).problem == "an empty sitemap"


def test_what_is_found_counts_not_what_was_expected_and_redirects_are_kept():
    body = (
        b"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
        b"<url><loc>https://x.be/a</loc></url></urlset>"
    )
    found = judged(FEED, body, final_url="https://x.be/feed/")
    assert found.kind == "sitemap" and found.url == "https://x.be/feed/"
    assert found.candidate is FEED
