"""Read sitemaps, sitemap indexes and Google News sitemaps into article links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin

from lxml import etree

from crawler.items import FeedHints, Link

NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"


class MalformedSitemap(ValueError):
    """The body is not a sitemap."""


@dataclass(frozen=True)
class SitemapReading:
    links: list[Link]  # article pages, newest first where dates are known
    sitemaps: list[str]  # further sitemaps named by a sitemap index


def read_sitemap(body: bytes, url: str) -> SitemapReading:
    # Sitemaps are untrusted: no entity expansion, no network access, no huge trees.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as error:
        raise MalformedSitemap(f"not a readable sitemap: {error}") from error
    if root is None:
        raise MalformedSitemap("not a readable sitemap: empty document")
    kind = etree.QName(root).localname
    if kind == "sitemapindex":
        return SitemapReading([], [urljoin(url, loc) for loc in _locs(root, "sitemap")])
    if kind != "urlset":
        raise MalformedSitemap(f"not a sitemap: root element is <{kind}>")
    links = [_link(element, url) for element in root if _local(element) == "url"]
    links = [link for link in links if link is not None]
    oldest = datetime.min.replace(tzinfo=UTC)
    links.sort(key=lambda link: link.hints.published_at or oldest, reverse=True)
    return SitemapReading(links, [])


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _locs(root: etree._Element, child: str) -> list[str]:
    return [
        loc.text.strip()
        for element in root
        if _local(element) == child
        for loc in element
        if _local(loc) == "loc" and loc.text and loc.text.strip()
    ]


def _link(element: etree._Element, base: str) -> Link | None:
    loc = lastmod = None
    for child in element:
        if _local(child) == "loc" and child.text:
            loc = child.text.strip()
        elif _local(child) == "lastmod" and child.text:
            lastmod = _date(child.text)
    if not loc:
        return None
    news = element.find(f"{NEWS}news")
    title = published = language = None
    if news is not None:
        title = _text(news.find(f"{NEWS}title"))
        published = _date(_text(news.find(f"{NEWS}publication_date")))
        language = _text(news.find(f"{NEWS}publication/{NEWS}language"))
    hints = FeedHints(
        title=title, published_at=published or lastmod, language=language and language.lower()
    )
    return Link(urljoin(base, loc), hints)


def _text(element: etree._Element | None) -> str | None:
    if element is None or not element.text:
        return None
    return element.text.strip() or None


def _date(value: str | None) -> datetime | None:
    """W3C datetime as sitemaps use it: a date, or a date and time with a zone."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
