"""Listing pages: article links chosen by CSS selector or URL pattern."""

from __future__ import annotations

from crawler.spiders.listings import read_listing

PAGE = """<html><head><base href="https://example.ma/fr/"></head><body>
<nav><a href="/fr/politique">Politique</a><a href="/fr/sport">Sport</a></nav>
<h2 class="teaser"><a href="2026/11/dgst-belgique.html">La DGST et la Belgique</a></h2>
<h2 class="teaser"><a href="https://example.ma/fr/2026/11/extradition.html#comments">
  Extradition  d'un baron</a></h2>
<h2 class="teaser"><a href="javascript:alert(1)">piège</a></h2>
<div class="teaser"><a href="https://elsewhere.org/2026/11/x.html">ailleurs</a></div>
</body></html>"""


def test_selector_picks_article_links_and_resolves_them_against_base():
    links = read_listing(PAGE, "https://example.ma/fr/", selector="h2.teaser a")
    assert [link.url for link in links] == [
        "https://example.ma/fr/2026/11/dgst-belgique.html",
        "https://example.ma/fr/2026/11/extradition.html#comments",
    ]
    assert links[1].hints.title == "Extradition d'un baron"


def test_pattern_without_selector_keeps_own_host_links_that_match():
    links = read_listing(PAGE, "https://example.ma/fr/", pattern=r"/20\d\d/\d\d/")
    assert [link.url for link in links] == [
        "https://example.ma/fr/2026/11/dgst-belgique.html",
        "https://example.ma/fr/2026/11/extradition.html#comments",
    ]


def test_selector_on_a_container_takes_the_link_inside():
    links = read_listing(PAGE, "https://example.ma/fr/", selector="div.teaser")
    assert [link.url for link in links] == ["https://elsewhere.org/2026/11/x.html"]
