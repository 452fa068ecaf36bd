"""What a homepage, a robots.txt and the usual paths offer as feeds and sitemaps (pure)."""

from __future__ import annotations

import pytest

from crawler.discovery.homepage import (
    Candidate,
    advertised,
    language_code,
    page_language,
    robots_sitemaps,
    usual_paths,
)

PAGE = "https://www.example.be/fr/"


def page(head: str, body: str = "", lang: str = "fr-BE") -> str:
    return f'<!doctype html><html lang="{lang}"><head>{head}</head><body>{body}</body></html>'


def test_link_alternate_feeds_of_every_type_are_found_with_why():
    html = page(
        '<link rel="alternate" type="application/rss+xml" title="Le fil" href="https://www.example.be/rss">'
        '<link rel="alternate" type="application/atom+xml" href="/atom.xml">'
        '<link rel="alternate" type="application/feed+json" href="feed.json">'
        '<link rel="alternate" type="application/rdf+xml; charset=utf-8" href="/index.rdf">'
        '<link rel="stylesheet" href="/style.css">'
        '<link rel="alternate" hreflang="nl" href="https://www.example.be/nl/">'
        '<link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">'
        '<link rel="alternate" type="application/json" href="/feed/json">'
        '<link rel="sitemap" type="application/xml" href="/sitemap.xml">'
    )
    found = advertised(html, PAGE)
    assert found == [
        Candidate(
            "https://www.example.be/rss",
            "feed",
            'link rel="alternate" (application/rss+xml)',
            "Le fil",
        ),
        Candidate(
            "https://www.example.be/atom.xml", "feed", 'link rel="alternate" (application/atom+xml)'
        ),
        Candidate(
            "https://www.example.be/fr/feed.json",
            "feed",
            'link rel="alternate" (application/feed+json)',
        ),
        Candidate(
            "https://www.example.be/index.rdf", "feed", 'link rel="alternate" (application/rdf+xml)'
        ),
        Candidate(
            "https://www.example.be/feed/json", "feed", 'link rel="alternate" (application/json)'
        ),
        Candidate("https://www.example.be/sitemap.xml", "sitemap", 'link rel="sitemap"'),
    ]


def test_base_href_decides_what_relative_links_mean():
    html = page(
        '<base href="/news/"><link rel="alternate" type="application/rss+xml" href="rss.xml">'
    )
    assert [c.url for c in advertised(html, PAGE)] == ["https://www.example.be/news/rss.xml"]


def test_duplicates_fragments_and_other_schemes_are_dropped():
    html = page(
        '<link rel="alternate" type="application/rss+xml" href="/rss#top">'
        '<link rel="alternate" type="application/atom+xml" href="/rss">'
        '<link rel="alternate" type="application/rss+xml" href="javascript:void(0)">'
        '<link rel="alternate" type="application/rss+xml" href="">'
    )
    assert [c.url for c in advertised(html, PAGE)] == ["https://www.example.be/rss"]


def test_a_links_count_only_when_no_link_element_names_a_feed():
    body = (
        '<a href="/rss/all.xml">RSS</a><a href="https://elsewhere.org/feed">theirs</a>'
        '<a href="/politique/">Politique</a><a href="/feeds/">Nos flux</a>'
    )
    found = advertised(page("", body), PAGE)
    assert [(c.url, c.how, c.title) for c in found] == [
        ("https://www.example.be/rss/all.xml", "a link on the page", "RSS"),
        ("https://www.example.be/feeds/", "a link on the page", "Nos flux"),
    ]
    head = '<link rel="alternate" type="application/rss+xml" href="/rss">'
    assert [c.url for c in advertised(page(head, body), PAGE)] == ["https://www.example.be/rss"]


def test_comment_feeds_are_recognised_by_address_or_title():
    assert Candidate("https://x.be/comments/feed/", "feed", "").comments
    assert Candidate("https://x.be/feed", "feed", "", "Le Soir » Flux des commentaires").comments
    assert not Candidate("https://x.be/feed", "feed", "", "Le Soir » Flux").comments


@pytest.mark.parametrize("html", ["", "   ", "not html at all", "<?xml version='1.0'?><rss/>"])
def test_pages_without_links_give_nothing(html):
    assert advertised(html, PAGE) == []


def test_xhtml_with_an_encoding_declaration_is_read():
    html = (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
        'xml:lang="nl"><head><link rel="alternate" type="application/rss+xml" href="/rss"/>'
        "</head><body/></html>"
    )
    assert [c.url for c in advertised(html, PAGE)] == ["https://www.example.be/rss"]
    assert page_language(html) == "nl"


def test_robots_sitemap_lines_any_case_relative_and_commented():
    robots = (
        "User-agent: *\nDisallow: /admin/\n"
        "Sitemap: https://www.example.be/news-sitemap.xml\n"
        "SITEMAP:https://www.example.be/sitemap_index.xml # the index\n"
        "sitemap: /relative.xml\n"
        "# Sitemap: https://www.example.be/commented.xml\n"
        "Sitemap: https://www.example.be/news-sitemap.xml\n"
    )
    found = robots_sitemaps(robots, "https://www.example.be/robots.txt")
    assert [c.url for c in found] == [
        "https://www.example.be/news-sitemap.xml",
        "https://www.example.be/sitemap_index.xml",
        "https://www.example.be/relative.xml",
    ]
    assert {c.kind for c in found} == {"sitemap"}
    assert {c.how for c in found} == {"robots.txt Sitemap:"}


def test_usual_paths_are_at_the_root_of_the_site():
    feeds = usual_paths(PAGE, feeds=True, sitemaps=False)
    assert [c.url for c in feeds][:3] == [
        "https://www.example.be/feed",
        "https://www.example.be/rss",
        "https://www.example.be/rss.xml",
    ]
    assert {c.kind for c in feeds} == {"feed"} and feeds[0].how == "usual path /feed"
    sitemaps = usual_paths(PAGE, feeds=False, sitemaps=True)
    assert "https://www.example.be/news-sitemap.xml" in [c.url for c in sitemaps]
    assert {c.kind for c in sitemaps} == {"sitemap"}
    assert usual_paths(PAGE, feeds=False, sitemaps=False) == []


@pytest.mark.parametrize(
    ("html", "language"),
    [
        (page("", lang="fr-BE"), "fr"),
        (page("", lang="ar"), "ar"),
        (page('<meta http-equiv="Content-Language" content="nl-BE">', lang=""), "nl"),
        (page('<meta property="og:locale" content="de_DE">', lang=""), "de"),
        (page('<meta name="language" content="French">', lang=""), "fr"),
        (page("", lang="fra"), "fr"),
        (page("", lang="x-klingon"), None),
        ("<html><head></head><body>Bonjour</body></html>", None),
    ],
)
def test_page_language(html, language):
    assert page_language(html) == language


def test_language_codes():
    assert language_code("en-GB") == "en"
    assert language_code(" DE ") == "de"
    assert language_code("Nederlands") == "nl"
    assert language_code("") is None
