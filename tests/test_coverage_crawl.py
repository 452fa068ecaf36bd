"""End to end: a real crawl of a loopback site whose feed, sitemap and listing page each miss
different articles, then `newswatch coverage` over what the crawl recorded.

Needs the spider to record link sightings (crawler.storage.sightings) for every feed,
sitemap and listing response it reads; without them the report is empty and this fails.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from click.testing import CliRunner

from newswatch.cli import cli
from newswatch.demo import pages, render
from newswatch.demo.catalog import LISTING_SELECTOR, OUTLETS, Article, load_labels
from newswatch.demo.newsroom import Newsroom
from newswatch.demo.server import Request, Response, serve, text
from tests.crawl_helpers import newswatch, rows, write_config

ROBOTS = "User-agent: *\nDisallow: /private/\n"
XML = "application/xml; charset=utf-8"
GONE = "/brussels-times/2026/11/withdrawn.html"  # listed by the feed, answers 404
PRIVATE = "/private/brussels-times/2026/11/roster.html"  # in the sitemap; robots.txt forbids it


@dataclass(frozen=True)
class ThreeWays:
    """Five sample articles A–E: the feed lists A B C (and a 404), the sitemap B C D (and a
    link robots.txt forbids), the listing page C D E."""

    base_url: str
    articles: tuple[Article, ...]

    def url(self, letter: str) -> str:
        return self.base_url + self.articles["ABCDE".index(letter)].path

    def sources(self) -> list[dict]:
        return [
            {"name": "three-feed", "kind": "feed", "url": self.base_url + "/feed.xml"},
            {"name": "three-sitemap", "kind": "sitemap", "url": self.base_url + "/sitemap.xml"},
            {
                "name": "three-listing",
                "kind": "listing",
                "url": self.base_url + "/front/",
                "link_selector": LISTING_SELECTOR,
            },
        ]


@contextlib.contextmanager
def three_ways_site() -> Iterator[ThreeWays]:
    newsroom = Newsroom(OUTLETS)
    outlets = {outlet.name: outlet for outlet in OUTLETS}
    labels = load_labels()
    public = [
        article
        for name in ("brussels-times", "le-soir")
        for article in newsroom.articles(name)
        if not article.path.startswith("/private/")
    ]
    chosen = tuple(public[:5])
    a, b, c, d, e = chosen
    by_path = {article.path: article for article in chosen}
    when = datetime(2026, 11, 20, tzinfo=UTC)

    def entry(base: str, path: str, title: str = "Withdrawn", tracking: str = "") -> render.Entry:
        return render.Entry(
            title=title,
            link=base + path + tracking,
            guid=base + path,
            published=when,
            author="Desk",
            summary=title,
        )

    def entries(base: str, listed: list[Article], extra: str, tracking: str = ""):
        found = [entry(base, x.path, x.title, tracking) for x in listed]
        return [*found, entry(base, extra, tracking=tracking)]

    def respond(request: Request) -> Response:
        base, outlet = request.base_url, outlets["brussels-times"]
        if request.path == "/robots.txt":
            return text(200, ROBOTS, "text/plain; charset=utf-8")
        if request.path == "/feed.xml":
            channel = render.Channel("Three ways", base + "/", base + "/feed.xml", "A feed", "en")
            feed = render.rss2(channel, entries(base, [a, b, c], GONE, "?utm_source=rss"))
            return text(200, render.document(feed), "application/rss+xml; charset=utf-8")
        if request.path == "/sitemap.xml":
            sitemap = render.news_sitemap("Three ways", "en", entries(base, [b, c, d], PRIVATE))
            return text(200, render.document(sitemap), XML)
        if request.path == "/front/":
            return text(200, pages.listing_page(outlet, [c, d, e], base, labels["en"]))
        article = by_path.get(request.path)
        if article is None:
            return text(404, "<!DOCTYPE html><title>404</title><h1>Not found</h1>")
        page = pages.article_page(
            outlets[article.outlet], article, base, [], labels[article.language]
        )
        return text(200, page)

    server, thread = serve("127.0.0.1", 0, respond)
    try:
        yield ThreeWays(server.base_url, chosen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_crawl_of_three_ways_is_reported_per_way(tmp_path, database_url):
    with three_ways_site() as site:
        config = write_config(tmp_path / "newswatch.toml", site.sources())
        crawled = newswatch(config, database_url, "crawl")
    assert crawled.returncode == 0, crawled.stderr
    stored = {url for (url,) in rows(database_url, "SELECT url FROM articles")}
    assert stored == {site.url(letter) for letter in "ABCDE"}, crawled.stderr
    assert rows(database_url, "SELECT count(*) FROM link_sightings") != [(0,)], (
        "the crawl recorded no link sightings: the spider does not write them yet"
    )

    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "--database", database_url, "coverage", "--json", "--details"],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    (outlet,) = report["outlets"]
    assert outlet["outlet"] == site.base_url.removeprefix("http://")
    numbers = {key: outlet[key] for key in ("found", "stored", "found_by", "only_by", "not_stored")}
    assert numbers == {
        "found": 7,
        "stored": 5,
        "found_by": {"feed": 4, "sitemap": 4, "listing": 3},
        "only_by": {"feed": 2, "sitemap": 1, "listing": 1},
        "not_stored": {"http 404": 1, "robots": 1},
    }
    single = {(link["ways"][0], link["key"]) for link in outlet["only_one_way"]}
    assert single == {
        ("feed", site.url("A")),
        ("feed", site.base_url + GONE),
        ("sitemap", site.base_url + PRIVATE),
        ("listing", site.url("E")),
    }
    unstored = {link["key"]: (link["reason"], link["detail"]) for link in outlet["unstored"]}
    assert unstored[site.base_url + GONE] == ("http 404", "HTTP 404")
    assert unstored[site.base_url + PRIVATE][0] == "robots"

    table = CliRunner().invoke(
        cli,
        ["--config", str(config), "--database", database_url, "coverage", "--outlet", "127.0.0.1"],
    )
    lines = [" ".join(line.split()) for line in table.output.splitlines()]
    assert lines[:5] == [
        f"{outlet['outlet']}: 7 found, 5 stored, 2 not stored",
        "way found only this way",
        "feed 4 2",
        "sitemap 4 1",
        "listing 3 1",
    ]
