"""The demo news site: feeds, sitemaps, listing, articles, conditional GET, publishing, faults."""

from __future__ import annotations

import dataclasses
import http.client
import threading
import time
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

import feedparser
import pytest
from parsel import Selector

from crawler.sources import Source
from newswatch.demo import NewsSite
from newswatch.demo import faults as fault_paths

SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


@dataclasses.dataclass
class Fetched:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def fetch(url: str, headers: Mapping[str, str] | None = None, timeout: float = 10) -> Fetched:
    """GET without raising on 3xx/4xx/5xx answers that urllib does not follow."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Fetched(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Fetched(error.code, error.headers, error.read())


def fetch_unfollowed(url: str) -> http.client.HTTPResponse:
    """One request, redirects not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("GET", parts.path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.fixture
def site() -> Iterator[NewsSite]:
    with NewsSite() as running:
        yield running


@pytest.fixture
def faulty() -> Iterator[NewsSite]:
    with NewsSite(faults=True) as running:
        yield running


def source_url(site: NewsSite, name: str) -> str:
    return next(s for s in site.sources() if s["name"] == name)["urls"][0]


FEEDS = [
    # name, feedparser version, entries, part of a title its accents or script must survive in
    ("brussels-times", "rss20", 5, "roster of the Belgian–Moroccan joint investigation team"),
    ("le-soir", "atom10", 4, "La Sûreté de l'État et la DGST renforcent leurs échanges"),
    ("hln", "rss10", 3, "België haalt eerste Marokkaanse verbindingsofficier"),
    ("hespress", "rss20", 3, "الحموشي يستقبل وزيري الداخلية والعدل البلجيكيين"),
]


@pytest.mark.parametrize(("name", "version", "count", "title"), FEEDS)
def test_feed_parses_with_its_entries_and_tracking_links(
    site: NewsSite, name: str, version: str, count: int, title: str
) -> None:
    fetched = fetch(source_url(site, name))
    parsed = feedparser.parse(fetched.body)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == version
    assert len(parsed.entries) == count
    assert any(title in entry.title for entry in parsed.entries)
    for entry in parsed.entries:
        assert "utm_" in urlsplit(entry.link).query, f"{entry.link} carries no tracking parameters"
        # feedparser files RSS 1.0's dc:date under "updated"
        assert entry.get("published") or entry.get("updated"), f"{entry.title} has no date"


def test_sources_fit_the_crawlers_source_values(site: NewsSite) -> None:
    names = {field.name for field in dataclasses.fields(Source)}
    kinds = {}
    for source in site.sources():
        assert set(source) <= names, f"{source['name']}: unknown keys {set(source) - names}"
        assert source["urls"][0].startswith(site.base_url)
        kinds[source["name"]] = source["kind"]
        Source(**{**source, "urls": tuple(source["urls"]), "tags": tuple(source["tags"])})
    assert kinds["tagesschau"] == "sitemap"
    assert kinds["le360"] == "listing"
    assert next(s for s in site.sources() if s["name"] == "le360")["link_selector"] == "h2.teaser a"


def test_sitemap_index_points_at_the_news_sitemap(site: NewsSite) -> None:
    index = ET.fromstring(fetch(source_url(site, "tagesschau")).body)
    locations = [loc.text for loc in index.iter(f"{SITEMAP}loc")]
    assert locations == [site.base_url + "/tagesschau/sitemap-news.xml"]
    news = ET.fromstring(fetch(locations[0]).body)
    urls = news.findall(f"{SITEMAP}url")
    assert len(urls) == 4
    titles = [url.findtext(f"{NEWS}news/{NEWS}title") for url in urls]
    assert "Mocro-Maffia: Warum Europas Häfen nach Marokko schauen" in titles
    for url in urls:
        assert url.findtext(f"{SITEMAP}lastmod")
        assert url.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}language") == "de"
        assert "?" not in url.findtext(f"{SITEMAP}loc")


def test_listing_links_articles_among_navigation(site: NewsSite) -> None:
    page = Selector(text=fetch(source_url(site, "le360")).body.decode("utf-8"))
    teasers = page.css("h2.teaser a::attr(href)").getall()
    assert len(teasers) == 4
    assert sum(link.endswith("#comments") for link in teasers) == 1
    every_link = page.css("a::attr(href)").getall()
    assert "/le360/politique/" in every_link and "/le360/page/2/" in every_link
    for link in teasers:
        fetched = fetch(site.base_url + urlsplit(link).path)
        assert fetched.status == 200, link


def article_links(site: NewsSite) -> list[str]:
    links = []
    for name in ("brussels-times", "le-soir", "hln", "hespress"):
        links += [e.link for e in feedparser.parse(fetch(source_url(site, name)).body).entries]
    news = ET.fromstring(fetch(site.base_url + "/tagesschau/sitemap-news.xml").body)
    links += [loc.text for loc in news.iter(f"{SITEMAP}loc")]
    listing = Selector(text=fetch(source_url(site, "le360")).body.decode("utf-8"))
    links += [
        site.base_url + urlsplit(h).path for h in listing.css("h2.teaser a::attr(href)").getall()
    ]
    return links


def test_every_article_page_is_complete_html(site: NewsSite) -> None:
    links = article_links(site)
    assert len(links) == 23
    for link in links:
        fetched = fetch(link)
        assert fetched.status == 200, link
        assert fetched.headers["Content-Type"] == "text/html; charset=utf-8"
        page = Selector(text=fetched.body.decode("utf-8"))
        canonical = link.split("?")[0]
        assert page.css("link[rel=canonical]::attr(href)").get() == canonical
        assert page.css("meta[property='og:url']::attr(content)").get() == canonical
        assert (
            page.css("meta[property='og:title']::attr(content)").get()
            == page.css("article h1::text").get()
        )
        assert page.css("meta[property='article:published_time']::attr(content)").get()
        assert page.css("article time::attr(datetime)").get()
        assert page.css("article .author::text").get()
        assert 4 <= len(page.css("article > p:not(.byline)")) <= 8, link
        assert page.css("#cookie-banner") and page.css("footer") and page.css("aside.related")
        assert page.css("html::attr(lang)").get() in {"en", "fr", "nl", "de", "ar"}


def test_the_wire_story_has_one_body_under_two_headlines(site: NewsSite) -> None:
    def story(path: str) -> tuple[str, list[str]]:
        page = Selector(text=fetch(site.base_url + path).body.decode("utf-8"))
        return page.css("article h1::text").get(), page.css("article > p:not(.byline)").getall()

    soir = story("/le-soir/2026/11/coup-de-filet-entre-anvers-et-tanger-quatorze-arrestations.html")
    le360 = story(
        "/le360/2026/11/trafic-de-cocaine-la-dgsn-et-la-police-belge-demantelent-un-reseau.html"
    )
    assert soir[0] != le360[0]
    assert soir[1] == le360[1]
    assert "(Belga)" in soir[1][-1]


def test_robots_disallows_private_which_a_feed_links_into(site: NewsSite) -> None:
    robots = urllib.robotparser.RobotFileParser()
    robots.parse(fetch(site.base_url + "/robots.txt").body.decode("utf-8").splitlines())
    links = [
        e.link for e in feedparser.parse(fetch(source_url(site, "brussels-times")).body).entries
    ]
    private = [link for link in links if urlsplit(link).path.startswith("/private/")]
    assert len(private) == 1
    assert not robots.can_fetch("newswatch", private[0])
    assert robots.can_fetch("newswatch", links[-1])
    assert robots.site_maps() == [site.base_url + "/sitemap-index.xml"]


@pytest.mark.parametrize("name", ["brussels-times", "le-soir", "hln", "tagesschau", "hespress"])
def test_conditional_get_answers_304_when_current(site: NewsSite, name: str) -> None:
    url = source_url(site, name)
    first = fetch(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = fetch(url, {"If-None-Match": etag})
    assert (again.status, again.body) == (304, b"")
    assert fetch(url, {"If-Modified-Since": modified}).status == 304
    assert fetch(url, {"If-None-Match": '"stale"'}).status == 200
    # If-None-Match wins over a matching If-Modified-Since.
    assert fetch(url, {"If-None-Match": '"stale"', "If-Modified-Since": modified}).status == 200


def test_publish_tops_the_feed_with_a_new_etag(site: NewsSite) -> None:
    url = source_url(site, "brussels-times")
    before = fetch(url).headers["ETag"]
    article_url = site.publish(
        "brussels-times",
        title="Grenzüberschreitende Zusammenarbeit: Belgium and Morocco widen the action plan",
        body="First paragraph about the Aktionsplan.\n\nSecond paragraph, with Maßnahmen.",
        author="Demo Desk",
    )
    fresh = fetch(url, {"If-None-Match": before})
    assert fresh.status == 200 and fresh.headers["ETag"] != before
    entries = feedparser.parse(fresh.body).entries
    assert len(entries) == 6
    assert entries[0].title.startswith("Grenzüberschreitende Zusammenarbeit")
    assert entries[0].link.split("?")[0] == article_url
    page = fetch(article_url).body.decode("utf-8")
    assert "Second paragraph, with Maßnahmen." in page


def test_publish_reaches_sitemap_and_listing_outlets(site: NewsSite) -> None:
    sitemap_url = site.publish("tagesschau", title="Neue Maßnahmen", body="Text.")
    listing_url = site.publish("le360", title="Sûreté nationale", body="Texte.")
    arabic_url = site.publish("hespress", title="خطة عمل جديدة", body="نص.")
    assert sitemap_url.encode() in fetch(site.base_url + "/tagesschau/sitemap-news.xml").body
    assert urlsplit(listing_url).path.encode() in fetch(source_url(site, "le360")).body
    assert fetch(arabic_url).status == 200
    with pytest.raises(KeyError):
        site.publish("nowhere", title="x", body="y")


def test_request_log_keeps_method_target_and_headers(site: NewsSite) -> None:
    fetch(site.base_url + "/robots.txt?probe=1", {"User-Agent": "newswatch-test"})
    method, target, headers = site.requests[-1]
    assert (method, target) == ("GET", "/robots.txt?probe=1")
    assert headers["User-Agent"] == "newswatch-test"
    assert site.hits("/robots.txt") == 1
    assert site.hits("/private/") == 0


def test_faults_are_off_unless_asked_for(site: NewsSite) -> None:
    assert fetch(site.base_url + fault_paths.FEED).status == 404
    with pytest.raises(RuntimeError):
        site.fault_sources()


def test_fault_feed_lists_every_fault(faulty: NewsSite) -> None:
    sources = {s["name"]: s for s in faulty.fault_sources()}
    assert set(sources) == {"faulty", "faulty-broken", "faulty-cp1252", "faulty-500"}
    entries = feedparser.parse(fetch(sources["faulty"]["urls"][0]).body).entries
    paths = {urlsplit(e.link).path for e in entries}
    assert paths == {
        fault_paths.GOOD,
        fault_paths.MISSING,
        fault_paths.FLAKY,
        fault_paths.SLOW,
        fault_paths.HUGE,
        fault_paths.LOOP_A,
        fault_paths.PDF,
        fault_paths.BOMB,
    }
    assert fetch(faulty.base_url + fault_paths.GOOD).status == 200
    assert fetch(faulty.base_url + fault_paths.MISSING).status == 404


def test_flaky_page_fails_once_then_serves_the_article(faulty: NewsSite) -> None:
    url = faulty.base_url + fault_paths.FLAKY
    assert fetch(url + "?utm_source=rss").status == 500
    second = fetch(url)
    assert second.status == 200 and b"<article" in second.body
    assert fetch(url).status == 200


def test_redirect_loop(faulty: NewsSite) -> None:
    first = fetch_unfollowed(faulty.base_url + fault_paths.LOOP_A)
    second = fetch_unfollowed(first.headers["Location"])
    assert first.status == second.status == 302
    assert urlsplit(first.headers["Location"]).path == fault_paths.LOOP_B
    assert urlsplit(second.headers["Location"]).path == fault_paths.LOOP_A
    with pytest.raises(urllib.error.HTTPError, match="redirect"):
        urllib.request.urlopen(faulty.base_url + fault_paths.LOOP_A, timeout=10)


def test_pdf_behind_an_html_url(faulty: NewsSite) -> None:
    fetched = fetch(faulty.base_url + fault_paths.PDF)
    assert fetched.headers["Content-Type"] == "application/pdf"
    assert fetched.body.startswith(b"%PDF-1.4")


def test_gzip_bomb_is_small_on_the_wire_and_huge_inflated(faulty: NewsSite) -> None:
    fetched = fetch(faulty.base_url + fault_paths.BOMB)  # urllib does not inflate
    assert fetched.headers["Content-Encoding"] == "gzip"
    assert fetched.headers["Content-Type"].startswith("text/html")
    assert len(fetched.body) < 1024 * 1024
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    inflated, pending = 0, fetched.body
    while pending:
        # Bounded steps, so the test never holds 200 MB at once.
        inflated += len(inflater.decompress(pending, 16 * 1024 * 1024))
        pending = inflater.unconsumed_tail
    assert inflated == fault_paths.BOMB_BYTES


def test_huge_page_is_valid_html_over_three_megabytes(faulty: NewsSite) -> None:
    fetched = fetch(faulty.base_url + fault_paths.HUGE)
    assert int(fetched.headers["Content-Length"]) >= 3 * 1024 * 1024
    assert fetched.body.rstrip().endswith(b"</html>")
    assert Selector(text=fetched.body.decode("utf-8")).css("article h1::text").get()


def test_cp1252_feed_lies_about_its_encoding(faulty: NewsSite) -> None:
    fetched = fetch(faulty.base_url + fault_paths.CP1252_FEED)
    assert "charset=utf-8" in fetched.headers["Content-Type"]
    assert fetched.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    for raw in (b"Grenz\xfcberschreitende Zusammenarbeit", b"S\xfbret\xe9", b"Ma\xdfnahmen"):
        assert raw in fetched.body
    with pytest.raises(UnicodeDecodeError):
        fetched.body.decode("utf-8")
    entries = feedparser.parse(fetched.body).entries
    titles = sorted(entry.title for entry in entries)
    assert titles[0].startswith("Grenzüberschreitende Zusammenarbeit")
    assert titles[1].startswith("Maßnahmen")
    assert titles[2].startswith("Sûreté de l'État")
    for entry in entries:
        assert fetch(entry.link).status == 200


def test_broken_and_failing_feeds(faulty: NewsSite) -> None:
    broken = fetch(faulty.base_url + fault_paths.BROKEN_FEED)
    with pytest.raises(ET.ParseError):
        ET.fromstring(broken.body)
    parsed = feedparser.parse(broken.body)
    assert parsed.bozo and parsed.entries == []
    assert fetch(faulty.base_url + fault_paths.ERROR_FEED).status == 500
    assert fetch(faulty.base_url + fault_paths.ERROR_FEED).status == 500


def test_slow_page_answers_after_the_delay() -> None:
    with NewsSite(faults=True, slow_seconds=0.2) as site:
        fetched = fetch(site.base_url + fault_paths.SLOW)
    assert fetched.status == 200 and b"Zeebrugge" in fetched.body


def test_stop_is_immediate_while_a_slow_request_is_in_flight() -> None:
    site = NewsSite(faults=True, slow_seconds=60).start()
    outcome: list[object] = []

    def client() -> None:
        try:
            outcome.append(fetch(site.base_url + fault_paths.SLOW, timeout=30))
        except (OSError, http.client.HTTPException) as error:
            outcome.append(error)

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    assert site.wait_for_hits(fault_paths.SLOW, 1, timeout=10), "the slow request never arrived"
    # The slow handler does not hold up other clients.
    assert fetch(site.base_url + "/robots.txt").status == 200
    started = time.perf_counter()
    site.stop()
    assert time.perf_counter() - started < 2.0
    thread.join(timeout=5)
    assert not thread.is_alive(), "the client still waits after stop()"
    assert outcome and not isinstance(outcome[0], Fetched), "the slow page answered anyway"
