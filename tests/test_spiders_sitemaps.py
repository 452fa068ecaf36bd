"""Sitemap reading: news sitemaps, plain sitemaps and sitemap indexes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.spiders.sitemaps import MalformedSitemap, read_sitemap

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://example.de/a/alt</loc><lastmod>2026-11-20</lastmod></url>
<url><loc>https://example.de/a/neu</loc>
<news:news><news:publication><news:name>Tagesschau</news:name><news:language>de</news:language>
</news:publication><news:publication_date>2026-11-24T09:15:00+01:00</news:publication_date>
<news:title>Aktionsplan gegen Drogenhandel: Belgien und Marokko</news:title></news:news></url>
</urlset>"""

INDEX = """<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://example.de/sitemap-news.xml</loc></sitemap>
<sitemap><loc>/sitemap-2026-11.xml</loc><lastmod>2026-11-24</lastmod></sitemap>
</sitemapindex>"""


def test_news_sitemap_links_newest_first_with_news_metadata():
    reading = read_sitemap(NEWS.encode(), "https://example.de/sitemap-news.xml")
    newest, oldest = reading.links
    assert newest.url == "https://example.de/a/neu"
    assert newest.hints.title == "Aktionsplan gegen Drogenhandel: Belgien und Marokko"
    assert newest.hints.published_at == datetime(2026, 11, 24, 8, 15, tzinfo=UTC)
    assert newest.hints.language == "de"
    assert oldest.hints.published_at == datetime(2026, 11, 20, tzinfo=UTC)
    assert reading.sitemaps == []


def test_sitemap_index_names_further_sitemaps():
    reading = read_sitemap(INDEX.encode(), "https://example.de/sitemap.xml")
    assert reading.links == []
    assert reading.sitemaps == [
        "https://example.de/sitemap-news.xml",
        "https://example.de/sitemap-2026-11.xml",
    ]


def test_entities_are_not_expanded():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        "<url><loc>https://example.de/&b;</loc></url></urlset>"
    )
    reading = read_sitemap(bomb.encode(), "https://example.de/s.xml")
    assert all("aaaaaaaaaa" not in link.url for link in reading.links)


@pytest.mark.parametrize("body", [b"", b"<html><body>hi</body></html>", b"not xml at all"])
def test_not_a_sitemap(body):
    with pytest.raises(MalformedSitemap):
        read_sitemap(body, "https://example.de/s.xml")
