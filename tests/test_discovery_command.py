"""`newswatch discover` end to end: loopback outlets → [[sources]] → --write → one crawl."""

from __future__ import annotations

import socket
import tomllib
from collections import Counter

import pytest

from newswatch.demo.outlets import Outlet, OutletSite
from newswatch.settings import load_settings
from tests.crawl_helpers import newswatch, rows, write_config
from tests.test_crawl_guards import rss, site

# Each outlet says where its feeds and sitemaps are in its own way; `chosen` is what
# discovery must pick (paths of the outlet's site).
CASES = {
    "rss-news": (
        Outlet("rss-news", "fr", extras=("comments-feed",), sitemap="news"),
        {("sitemap", "/sitemap.xml"), ("feed", "/feed.rss")},
    ),
    "atom-relative": (
        Outlet(
            "atom-relative",
            "de",
            feed="atom",
            feed_path="/feeds/all.atom",
            feed_ad="relative",
            sitemap="plain",
            sitemap_ad="robots-relative",
        ),
        {("sitemap", "/sitemap.xml"), ("feed", "/feeds/all.atom")},
    ),
    "json-feed": (
        Outlet(
            "json-feed",
            "nl",
            feed="json",
            feed_path="/feed.json",
            sitemap="plain",
            sitemap_ad="none",
        ),
        {("sitemap", "/sitemap.xml"), ("feed", "/feed.json")},
    ),
    "base-href": (
        Outlet("base-href", "ar", feed_path="/news/rss.xml", feed_ad="base"),
        {("feed", "/news/rss.xml")},
    ),
    "robots-only": (
        Outlet("robots-only", feed=None, sitemap="index", sitemap_path="/sitemap_index.xml"),
        {("sitemap", "/sitemap_index.xml")},
    ),
    "usual-path": (
        Outlet("usual-path", feed_path="/rss.xml", feed_ad="none"),
        {("feed", "/rss.xml")},
    ),
    "dead-link": (
        Outlet("dead-link", "fr", feed_path="/feed", feed_ad="none", extras=("dead-feed",)),
        {("feed", "/feed")},
    ),
    "error-page": (
        Outlet(
            "error-page",
            "fr",
            feed=None,
            sitemap="news",
            sitemap_path="/news-sitemap.xml",
            extras=("error-feed",),
        ),
        {("sitemap", "/news-sitemap.xml")},
    ),
    "empty-feed": (
        Outlet(
            "empty-feed",
            "de",
            feed=None,
            sitemap="plain",
            sitemap_path="/map.xml",
            sitemap_ad="link",
            extras=("empty-feed",),
        ),
        {("sitemap", "/map.xml")},
    ),
    "anchor": (
        Outlet("anchor", feed="rdf", feed_path="/rss/all.rdf", feed_ad="anchor"),
        {("feed", "/rss/all.rdf")},
    ),
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sources_in(toml_text: str) -> set[tuple[str, str]]:
    return {(s["kind"], s["url"]) for s in tomllib.loads(toml_text).get("sources", [])}


@pytest.fixture
def private_feed():
    """A feed on another loopback host, which a homepage advertises: the guard refuses it."""
    with site("127.0.0.2", {"/partner.rss": rss([])}) as (base, hits):
        yield f"{base}/partner.rss", hits


def test_discover_write_and_crawl_store_every_article(tmp_path, sqlite_url, private_feed):
    partner, partner_hits = private_feed
    outlets = [outlet for outlet, _ in CASES.values()]
    outlets[0] = Outlet(**{**vars(outlets[0]), "elsewhere": (partner,)})
    dead = f"http://127.0.0.1:{closed_port()}/"
    config = write_config(tmp_path / "newswatch.toml", [])
    original = config.read_text()

    with OutletSite(outlets, first_host=60) as outlets_site:
        pages = [outlets_site.homepage(name) for name in CASES]
        shown = newswatch(config, sqlite_url, "discover", *pages, dead)
        untouched = config.read_text() == original
        robots_reads = Counter(n for n, path, _ in outlets_site.log if path == "/robots.txt")
        written = newswatch(config, sqlite_url, "discover", "--write", *pages, dead)
        again = newswatch(config, sqlite_url, "discover", "--write", pages[0])
        crawled = newswatch(config, sqlite_url, "crawl")
        articles = {name: outlets_site.article_urls(name) for name in CASES}
        expected = {
            (kind, outlets_site.homepage(name).rstrip("/") + path)
            for name, (_, chosen) in CASES.items()
            for kind, path in chosen
        }
        base = {name: outlets_site.homepage(name).rstrip("/") for name in CASES}

    # printed: ready-to-paste TOML with exactly the expected choices; the file untouched
    assert shown.returncode == 0, shown.stderr
    assert untouched, "discover without --write changed the configuration"
    assert sources_in(shown.stdout) == expected
    out = shown.stdout
    assert f"not usable: {base['dead-link']}/old-feed.rss" in out and ": HTTP 404" in out
    assert (
        f'{base["error-page"]}/rss/ (link rel="alternate" (application/rss+xml)): '
        'an HTML page ("Page not found"), not a feed' in out
    )
    assert (
        f'{base["empty-feed"]}/empty.atom (link rel="alternate" (application/atom+xml)): '
        "an empty feed" in out
    )
    assert "a feed of readers' comments, not of articles" in out
    assert "why: a news sitemap" in out and "why: a sitemap index" in out
    unreachable = [line for line in out.splitlines() if line.startswith(f"# === {dead}")]
    assert len(unreachable) == 1 and "unreachable" in unreachable[0]
    assert "refused" in unreachable[0], unreachable
    # every request passed the private-address guard with the homepage's source
    assert partner_hits == [], "a private address on another host was requested"
    assert "is the private address 127.0.0.2" in out
    # robots.txt is read once per site: its Sitemap: lines come from the crawl's cache
    assert robots_reads == {name: 1 for name in CASES}
    for page in [*pages, dead]:
        assert f"discover {page}:" in shown.stderr

    # written: the same sources, the file still loads, a backup was kept
    assert written.returncode == 0, written.stderr
    assert sources_in(config.read_text()) == expected
    assert len(load_settings(config, env={}).sources) == len(expected)
    assert list(tmp_path.glob("newswatch.toml.*.bak"))
    assert again.returncode == 0, again.stderr
    assert again.stderr.count("not written:") == 2 and "already" in again.stderr
    assert sources_in(config.read_text()) == expected

    # one crawl of what was written stores every article of every outlet
    assert crawled.returncode == 0, crawled.stderr
    stored = {url for (url,) in rows(sqlite_url, "SELECT url FROM articles")}
    missing = {name: sorted(set(urls) - stored) for name, urls in articles.items()}
    assert not any(missing.values()), missing


def test_when_every_site_fails_the_command_exits_1(tmp_path, sqlite_url):
    config = write_config(tmp_path / "newswatch.toml", [])
    dead = f"http://127.0.0.1:{closed_port()}/"
    with OutletSite([Outlet("nothing", feed=None)], first_host=80) as outlets_site:
        empty = outlets_site.homepage("nothing")
        result = newswatch(config, sqlite_url, "discover", "--write", dead, empty)
    assert result.returncode == 1, result.stderr
    assert f"# === {dead}: unreachable (" in result.stdout
    assert f"# === {empty}: language en; no feed or sitemap the crawler can read" in result.stdout
    assert "no site gave a feed or sitemap" in result.stderr
    assert "[[sources]]" not in config.read_text()


def test_without_obeying_robots_txt_its_sitemap_lines_are_still_read(tmp_path, sqlite_url):
    config = write_config(tmp_path / "newswatch.toml", [], obey_robots=False)
    outlet, chosen = CASES["robots-only"]
    with OutletSite([outlet], first_host=90) as outlets_site:
        result = newswatch(config, sqlite_url, "discover", outlets_site.homepage(outlet.name))
        base = outlets_site.homepage(outlet.name).rstrip("/")
    assert result.returncode == 0, result.stderr
    assert sources_in(result.stdout) == {(kind, base + path) for kind, path in chosen}


def test_a_homepage_without_a_scheme_or_host_is_refused_before_anything_runs(tmp_path):
    config = write_config(tmp_path / "newswatch.toml", [])
    result = newswatch(config, f"sqlite:///{tmp_path / 'n.db'}", "discover", "ftp://x.be/")
    assert result.returncode == 2
    assert "is not a homepage address" in result.stderr
