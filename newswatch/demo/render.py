"""Render feeds (RSS 2.0, Atom 1.0, RSS 1.0) and sitemaps as XML text, every value escaped."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

NS_ATOM = "http://www.w3.org/2005/Atom"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_RSS1 = "http://purl.org/rss/1.0/"
NS_SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"


@dataclass(frozen=True)
class Channel:
    """What a feed says about itself."""

    title: str
    link: str  # the outlet's home page
    self_url: str  # the feed's own URL
    description: str
    language: str


@dataclass(frozen=True)
class Entry:
    """One item of a feed or one URL of a sitemap."""

    title: str
    link: str  # as the feed publishes it, tracking parameters included
    guid: str  # the canonical URL
    published: datetime
    author: str
    summary: str


@dataclass(frozen=True)
class Element:
    """An XML element: a tag (prefix included), attributes, and either text or children."""

    tag: str
    attrs: Mapping[str, str]
    text: str | None
    children: tuple[Element, ...]


def el(
    tag: str,
    *children: Element | None,
    text: str | None = None,
    attrs: Mapping[str, str] | None = None,
) -> Element:
    return Element(tag, dict(attrs or {}), text, tuple(c for c in children if c is not None))


def document(root: Element, declared_encoding: str = "utf-8") -> str:
    """The XML text; the caller encodes it (normally with the declared encoding)."""
    lines = [f'<?xml version="1.0" encoding="{declared_encoding}"?>']
    _write(root, 0, lines)
    return "\n".join(lines) + "\n"


def _write(node: Element, depth: int, lines: list[str]) -> None:
    pad = "  " * depth
    attrs = "".join(f" {name}={quoteattr(value)}" for name, value in node.attrs.items())
    if node.children:
        lines.append(f"{pad}<{node.tag}{attrs}>")
        for child in node.children:
            _write(child, depth + 1, lines)
        lines.append(f"{pad}</{node.tag}>")
    elif node.text is not None:
        lines.append(f"{pad}<{node.tag}{attrs}>{escape(node.text)}</{node.tag}>")
    else:
        lines.append(f"{pad}<{node.tag}{attrs}/>")


def _updated(entries: Iterable[Entry]) -> datetime:
    return max((entry.published for entry in entries), default=datetime(2026, 11, 1, tzinfo=UTC))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def rss2(channel: Channel, entries: list[Entry]) -> Element:
    items = [
        el(
            "item",
            el("title", text=entry.title),
            el("link", text=entry.link),
            el("guid", text=entry.guid, attrs={"isPermaLink": "true"}),
            el("pubDate", text=format_datetime(entry.published)),
            el("dc:creator", text=entry.author),
            el("description", text=entry.summary),
        )
        for entry in entries
    ]
    return el(
        "rss",
        el(
            "channel",
            el("title", text=channel.title),
            el("link", text=channel.link),
            el("atom:link", attrs={"href": channel.self_url, "rel": "self"}),
            el("description", text=channel.description),
            el("language", text=channel.language),
            el("lastBuildDate", text=format_datetime(_updated(entries))),
            *items,
        ),
        attrs={"version": "2.0", "xmlns:atom": NS_ATOM, "xmlns:dc": NS_DC},
    )


def atom(channel: Channel, entries: list[Entry]) -> Element:
    items = [
        el(
            "entry",
            el("id", text=entry.guid),
            el("title", text=entry.title),
            el("link", attrs={"rel": "alternate", "type": "text/html", "href": entry.link}),
            el("published", text=_iso(entry.published)),
            el("updated", text=_iso(entry.published)),
            el("author", el("name", text=entry.author)),
            el("summary", text=entry.summary),
        )
        for entry in entries
    ]
    return el(
        "feed",
        el("id", text=channel.self_url),
        el("title", text=channel.title),
        el("subtitle", text=channel.description),
        el("link", attrs={"rel": "self", "href": channel.self_url}),
        el("link", attrs={"rel": "alternate", "type": "text/html", "href": channel.link}),
        el("updated", text=_iso(_updated(entries))),
        *items,
        attrs={"xmlns": NS_ATOM, "xml:lang": channel.language},
    )


def rss1(channel: Channel, entries: list[Entry]) -> Element:
    """RSS 1.0 (RDF): the item list is repeated as an rdf:Seq inside the channel."""
    sequence = el("rdf:Seq", *(el("rdf:li", attrs={"rdf:resource": e.link}) for e in entries))
    items = [
        el(
            "item",
            el("title", text=entry.title),
            el("link", text=entry.link),
            el("description", text=entry.summary),
            el("dc:date", text=_iso(entry.published)),
            el("dc:creator", text=entry.author),
            el("dc:identifier", text=entry.guid),
            attrs={"rdf:about": entry.link},
        )
        for entry in entries
    ]
    return el(
        "rdf:RDF",
        el(
            "channel",
            el("title", text=channel.title),
            el("link", text=channel.link),
            el("description", text=channel.description),
            el("dc:language", text=channel.language),
            el("dc:date", text=_iso(_updated(entries))),
            el("items", sequence),
            attrs={"rdf:about": channel.self_url},
        ),
        *items,
        attrs={"xmlns:rdf": NS_RDF, "xmlns": NS_RSS1, "xmlns:dc": NS_DC},
    )


def news_sitemap(publication: str, language: str, entries: list[Entry]) -> Element:
    urls = [
        el(
            "url",
            el("loc", text=entry.link),
            el("lastmod", text=_iso(entry.published)),
            el(
                "news:news",
                el(
                    "news:publication",
                    el("news:name", text=publication),
                    el("news:language", text=language),
                ),
                el("news:publication_date", text=_iso(entry.published)),
                el("news:title", text=entry.title),
            ),
        )
        for entry in entries
    ]
    return el("urlset", *urls, attrs={"xmlns": NS_SITEMAP, "xmlns:news": NS_NEWS})


def sitemap_index(sitemaps: list[tuple[str, datetime]]) -> Element:
    """`sitemaps`: (URL, last modified) of each child sitemap."""
    children = [
        el("sitemap", el("loc", text=url), el("lastmod", text=_iso(modified)))
        for url, modified in sitemaps
    ]
    return el("sitemapindex", *children, attrs={"xmlns": NS_SITEMAP})
