"""Pure: judge a fetched candidate (is it really a feed or a sitemap, and a useful one?).

The crawler's own readers (crawler.spiders.feeds, crawler.spiders.sitemaps) decide what
counts, so a candidate judged usable here is one the crawl can read. Which of the usable
ones to follow is crawler.discovery.choice's; `choose` is re-exported here.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from crawler.discovery.choice import choose
from crawler.discovery.homepage import Candidate, language_code
from crawler.items import Link
from crawler.spiders.feeds import MalformedFeed, read_feed
from crawler.spiders.sitemaps import NEWS, MalformedSitemap, read_sitemap

__all__ = ["Probe", "choose", "describe", "failed", "probe"]

FEED_ROOTS = {"rss": "RSS", "feed": "Atom", "rdf": "RSS 1.0"}
SITEMAP_ROOTS = ("urlset", "sitemapindex")
JSON_FEED = "https://jsonfeed.org/version/"
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


@dataclass(frozen=True)
class Probe:
    """What a candidate turned out to be once fetched."""

    candidate: Candidate
    kind: str | None  # "feed" | "sitemap" as found, None when neither
    items: int  # article links it lists (a sitemap index: 0, its sitemaps are `children`)
    children: tuple[str, ...]  # child sitemaps of an index
    newest: datetime | None
    language: str | None
    problem: str | None  # None when usable; else "HTTP 404", "an empty feed", ...
    final_url: str = ""  # where it was read in the end (after redirects)
    format: str | None = None  # "RSS 2.0", "Atom", "JSON Feed", "news sitemap", "sitemap index"
    title: str | None = None  # a feed's own title
    links: tuple[str, ...] = ()  # the article links, to compare candidates

    @property
    def url(self) -> str:
        """The address to configure: where the candidate led."""
        return self.final_url or self.candidate.url

    @property
    def news(self) -> bool:
        return self.format == "news sitemap"


def probe(
    candidate: Candidate, status: int, body: bytes, content_type: str | None, final_url: str
) -> Probe:
    """Judge a candidate from its response: what it is, what it lists, whether it is usable."""
    if not 200 <= status < 300:
        return failed(candidate, f"HTTP {status}", final_url)
    text = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text:
        return failed(candidate, "an empty response", final_url)
    if text[:1] == b"{":
        return _json(candidate, text, content_type, final_url)
    root = _root(text)
    name = etree.QName(root).localname.lower() if root is not None else None
    if name in FEED_ROOTS:
        return _feed(candidate, text, content_type, final_url, _feed_format(name, root))
    if name in SITEMAP_ROOTS:
        return _sitemap(candidate, text, final_url, root)
    media = (content_type or "").split(";")[0].strip().lower()
    if name == "html" or media in ("text/html", "application/xhtml+xml") or _htmlish(text):
        return failed(
            candidate, f"an HTML page{_page_title(text)}, not a {candidate.kind}", final_url
        )
    if name:
        return failed(candidate, f"an XML document <{name}>, not a feed or sitemap", final_url)
    return failed(
        candidate, f"neither a feed nor a sitemap ({media or 'no Content-Type'})", final_url
    )


def failed(candidate: Candidate, problem: str, final_url: str = "") -> Probe:
    """A candidate that could not be used: fetched with this problem, or not fetched."""
    return Probe(candidate, None, 0, (), None, None, problem, final_url)


def describe(found: Probe) -> str:
    """One line for people: 'RSS 2.0, 20 items, newest 2026-12-05 09:12 UTC, fr'."""
    if found.children:
        parts = [f"a sitemap index of {len(found.children)} sitemaps"]
    else:
        noun = "items" if found.kind == "feed" else "links"
        parts = [found.format or found.kind or "?", f"{found.items} {noun}"]
    if found.newest:
        parts.append(f"newest {found.newest.astimezone(UTC):%Y-%m-%d %H:%M} UTC")
    if found.language:
        parts.append(found.language)
    return ", ".join(parts)


def _feed(
    candidate: Candidate, body: bytes, content_type: str | None, final_url: str, form: str
) -> Probe:
    try:
        reading = read_feed(body, final_url, content_type)
    except MalformedFeed as error:
        return failed(candidate, str(error), final_url)
    return _listing(
        candidate, "feed", form, reading.links, final_url, reading.title, empty="an empty feed"
    )


def _sitemap(candidate: Candidate, body: bytes, final_url: str, root: etree._Element) -> Probe:
    try:
        reading = read_sitemap(body, final_url)
    except MalformedSitemap as error:
        return failed(candidate, str(error), final_url)
    if etree.QName(root).localname == "sitemapindex":
        children = tuple(dict.fromkeys(reading.sitemaps))
        problem = None if children else "an empty sitemap index"
        return Probe(
            candidate, "sitemap", 0, children, None, None, problem, final_url, "sitemap index"
        )
    form = "news sitemap" if root.find(f".//{NEWS}news") is not None else "sitemap"
    return _listing(
        candidate, "sitemap", form, reading.links, final_url, None, empty="an empty sitemap"
    )


def _listing(
    candidate: Candidate,
    kind: str,
    form: str,
    links: list[Link],
    final_url: str,
    title: str | None,
    *,
    empty: str,
) -> Probe:
    urls = tuple(dict.fromkeys(link.url for link in links))
    dates = [link.hints.published_at for link in links if link.hints.published_at]
    languages = Counter(link.hints.language for link in links if link.hints.language)
    return Probe(
        candidate,
        kind,
        len(urls),
        (),
        max(dates) if dates else None,
        language_code(languages.most_common(1)[0][0]) if languages else None,
        None if urls else empty,
        final_url,
        form,
        title,
        urls,
    )


def _json(candidate: Candidate, body: bytes, content_type: str | None, final_url: str) -> Probe:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return failed(candidate, "neither a feed nor a sitemap (broken JSON)", final_url)
    if not (isinstance(document, dict) and str(document.get("version", "")).startswith(JSON_FEED)):
        return failed(candidate, "JSON, but not a JSON Feed", final_url)
    try:
        links = read_feed(body, final_url, content_type).links
    except MalformedFeed as error:
        return failed(candidate, str(error), final_url)
    return _listing(
        candidate,
        "feed",
        "JSON Feed",
        links,
        final_url,
        document.get("title"),
        empty="an empty feed",
    )


def _root(body: bytes) -> etree._Element | None:
    # As crawler.spiders.sitemaps: untrusted XML, no entities, no network.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return None
    return root if root is not None and isinstance(root.tag, str) else None


def _feed_format(name: str, root: etree._Element) -> str:
    version = root.get("version") if name == "rss" else None
    return f"RSS {version}" if version else FEED_ROOTS[name]


def _htmlish(body: bytes) -> bool:
    return body[:200].lower().startswith((b"<!doctype html", b"<html", b"<head", b"<body"))


def _page_title(body: bytes) -> str:
    found = _TITLE.search(body[:65536])
    if not found:
        return ""
    title = " ".join(html.unescape(found[1].decode("utf-8", "replace")).split())
    return f' ("{title[:60]}")' if title else ""


def _iso(value: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
