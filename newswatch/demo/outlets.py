"""Loopback outlets that say where their feeds and sitemaps are in different ways (discovery).

Each outlet is a site of its own (its own loopback address and port): a homepage that
advertises its feed with an absolute, relative or <base>-relative <link rel="alternate">,
an <a> link, or not at all; a robots.txt naming its sitemap or not; a sitemap that is a
news sitemap, a plain one or an index, at a usual path or hidden; and on request the
things discovery must see through (a dead feed link, an HTML page posing as a feed, an
empty feed, a feed of comments). `known_sources()` lists the endpoints a person who knows
the site would configure by hand. Used by the discovery tests and bench/discovery.py.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from newswatch.demo.render import (
    NS_SITEMAP,
    Channel,
    Entry,
    atom,
    document,
    el,
    news_sitemap,
    rss1,
    rss2,
    sitemap_index,
)
from newswatch.demo.server import QuietServer, Request, Response, serve, text

FEED_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "rdf": "application/rdf+xml",
    "json": "application/feed+json",
}
ERROR_PAGE = (
    "<!doctype html><html><head><title>Page not found</title></head>"
    "<body><h1>Oops! That page can’t be found.</h1></body></html>"
)
START = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)
WORDS = (
    "police justice minister court port customs cocaine container harbour suspect trial "
    "extradition embassy officer federal prosecutor investigation network laundering border "
    "agreement cooperation parliament judge appeal hearing witness evidence warrant arrest raid "
    "seizure shipment vessel terminal Antwerp Rabat Tangier Brussels Casablanca Rotterdam "
    "delegation visit plan action report budget unit liaison intelligence service threat "
    "security prison sentence statement spokesman lawyer defence family community mayor council"
).split()


@dataclass(frozen=True)
class Outlet:
    """One site and how it says (or does not say) where its feed and sitemap are."""

    name: str
    language: str = "en"
    articles: int = 4
    feed: str | None = "rss"  # rss | atom | rdf | json | None
    feed_path: str = "/feed.rss"
    feed_ad: str = "absolute"  # absolute | relative | base (<base href="/news/">) | anchor | none
    feed_items: int | None = None  # the feed lists only the newest N articles
    sitemap: str | None = None  # news | plain | index (of two plain parts) | None
    sitemap_path: str = "/sitemap.xml"
    sitemap_ad: str = "robots"  # robots | robots-relative | link | none
    extras: tuple[str, ...] = ()  # dead-feed | error-feed | empty-feed | comments-feed
    elsewhere: tuple[str, ...] = ()  # feeds on other sites the homepage advertises too


class OutletSite:
    """Serves `outlets`, outlet i at 127.0.0.(first_host + i). Use as a context manager."""

    def __init__(self, outlets: Sequence[Outlet], first_host: int = 40, seed: int = 7) -> None:
        self.outlets = {outlet.name: outlet for outlet in outlets}
        self.first_host = first_host
        self._rng = random.Random(seed)
        self._pages = {
            name: [self._article(o, n) for n in range(o.articles)]
            for name, o in self.outlets.items()
        }
        self._servers: dict[str, QuietServer] = {}
        self._lock = threading.Lock()
        self.log: list[tuple[str, str, int]] = []  # (outlet, path, status)

    def __enter__(self) -> OutletSite:
        for number, name in enumerate(self.outlets):
            host = f"127.0.0.{self.first_host + number}"
            respond = lambda request, name=name: self._respond(name, request)  # noqa: E731
            self._servers[name] = serve(host, 0, respond)[0]
        return self

    def __exit__(self, *exc_info: object) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()

    # -- what a test or benchmark asks -------------------------------------------------

    def homepage(self, name: str) -> str:
        return self._servers[name].base_url + "/"

    def article_urls(self, name: str) -> list[str]:
        base = self._servers[name].base_url
        return [base + path for path, _title, _when, _body in self._pages[name]]

    def known_sources(self) -> list[dict]:
        """The feeds and sitemaps a person who knows each outlet would configure."""
        sources = []
        for name, outlet in self.outlets.items():
            base = self._servers[name].base_url
            if outlet.feed and outlet.feed != "json":  # the crawler reads no JSON Feed
                sources.append(
                    {"name": f"{name}-feed", "kind": "feed", "url": base + outlet.feed_path}
                )
            if outlet.sitemap:
                sources.append(
                    {
                        "name": f"{name}-sitemap",
                        "kind": "sitemap",
                        "url": base + outlet.sitemap_path,
                    }
                )
        return sources

    # -- serving -----------------------------------------------------------------------

    def _respond(self, name: str, request: Request) -> Response:
        response = self._route(self.outlets[name], request)
        with self._lock:
            self.log.append((name, request.path, response.status))
        return response

    def _route(self, outlet: Outlet, request: Request) -> Response:
        base, path = request.base_url, request.path
        entries = self._entries(outlet, base)
        if path == "/":
            return text(200, self._homepage(outlet, base))
        if path == "/robots.txt":
            return text(200, self._robots(outlet, base), "text/plain")
        if outlet.feed and path == outlet.feed_path:
            return self._feed(outlet.feed, outlet, base, entries[: outlet.feed_items])
        if outlet.sitemap and path in self._sitemaps(outlet):
            return self._sitemap(outlet, path, base, entries)
        if path == "/rss/" and "error-feed" in outlet.extras:
            return text(200, ERROR_PAGE)
        if path == "/empty.atom" and "empty-feed" in outlet.extras:
            return self._feed("atom", outlet, base, [])
        if path == "/comments/feed" and "comments-feed" in outlet.extras:
            comments = [
                Entry(
                    f"Comment on {e.title}",
                    f"{e.link}#comment-1",
                    f"{e.guid}#c1",
                    e.published,
                    "reader",
                    "I agree.",
                )
                for e in entries
            ]
            return self._feed("rss", outlet, base, comments)
        for page_path, title, when, body in self._pages[outlet.name]:
            if path == page_path:
                return text(200, _page(outlet, title, when, body))
        return text(404, "<!doctype html><title>404 Not Found</title><h1>Not Found</h1>")

    def _homepage(self, outlet: Outlet, base: str) -> str:
        head = [f"<title>{escape(outlet.name)} — news</title>"]
        body = [
            f'<p><a href="{base}{path}">{escape(title)}</a></p>'
            for path, title, _when, _body in self._pages[outlet.name][:10]
        ]
        feed_type = FEED_TYPES.get(outlet.feed or "", "")
        href = {
            "absolute": base + outlet.feed_path,
            "relative": outlet.feed_path.lstrip("/"),
            "base": outlet.feed_path.removeprefix("/news/"),
        }.get(outlet.feed_ad)
        if outlet.feed_ad == "base":
            head.append('<base href="/news/">')
        for extra, kind, at, title in (
            ("dead-feed", "rss", "/old-feed.rss", "Feed"),
            ("error-feed", "rss", "/rss/", "RSS"),
            ("empty-feed", "atom", "/empty.atom", "Atom"),
        ):
            if extra in outlet.extras:
                head.append(_alternate(FEED_TYPES[kind], f"{outlet.name} » {title}", base + at))
        if outlet.feed and href is not None:
            head.append(_alternate(feed_type, f"{outlet.name} » Feed", href))
        for href in outlet.elsewhere:
            head.append(_alternate(FEED_TYPES["rss"], "Partner feed", href))
        if "comments-feed" in outlet.extras:
            title = f"{outlet.name} » Comments Feed"
            head.append(_alternate(FEED_TYPES["rss"], title, base + "/comments/feed"))
        if outlet.feed and outlet.feed_ad == "anchor":
            body.append(f'<footer><a href="{outlet.feed_path}">RSS</a></footer>')
        if outlet.sitemap and outlet.sitemap_ad == "link":
            head.append(f'<link rel="sitemap" type="application/xml" href="{outlet.sitemap_path}">')
        return (
            f'<!doctype html><html lang="{outlet.language}"><head><meta charset="utf-8">'
            f"{''.join(head)}</head><body>{''.join(body)}</body></html>"
        )

    def _robots(self, outlet: Outlet, base: str) -> str:
        lines = ["User-agent: *", "Disallow: /private/"]
        if outlet.sitemap and outlet.sitemap_ad == "robots":
            lines.append(f"Sitemap: {base}{outlet.sitemap_path}")
        elif outlet.sitemap and outlet.sitemap_ad == "robots-relative":
            lines.append(f"sitemap: {outlet.sitemap_path}  # relative, against the rules")
        return "\n".join(lines) + "\n"

    def _feed(self, kind: str, outlet: Outlet, base: str, entries: list[Entry]) -> Response:
        channel = Channel(outlet.name, base + "/", base + outlet.feed_path, "news", outlet.language)
        if kind == "json":
            items = [
                {
                    "id": e.guid,
                    "url": e.link,
                    "title": e.title,
                    "date_published": e.published.isoformat(),
                }
                for e in entries
            ]
            body = json.dumps(
                {
                    "version": "https://jsonfeed.org/version/1.1",
                    "title": outlet.name,
                    "language": outlet.language,
                    "items": items,
                }
            )
            return text(200, body, FEED_TYPES["json"])
        render = {"rss": rss2, "atom": atom, "rdf": rss1}[kind]
        return text(200, document(render(channel, entries)), FEED_TYPES[kind])

    def _sitemaps(self, outlet: Outlet) -> list[str]:
        if outlet.sitemap == "index":
            return [outlet.sitemap_path, "/sitemap-posts-1.xml", "/sitemap-posts-2.xml"]
        return [outlet.sitemap_path]

    def _sitemap(self, outlet: Outlet, path: str, base: str, entries: list[Entry]) -> Response:
        half = len(entries) // 2
        if outlet.sitemap == "index" and path == outlet.sitemap_path:
            parts = [(base + p, START) for p in self._sitemaps(outlet)[1:]]
            root = sitemap_index(parts)
        elif outlet.sitemap == "news":
            root = news_sitemap(outlet.name, outlet.language, entries)
        else:
            part = {"/sitemap-posts-1.xml": entries[half:], "/sitemap-posts-2.xml": entries[:half]}
            urls = [
                el("url", el("loc", text=e.link), el("lastmod", text=e.published.isoformat()))
                for e in part.get(path, entries)
            ]
            root = el("urlset", *urls, attrs={"xmlns": NS_SITEMAP})
        return text(200, document(root), "application/xml")

    # -- content -----------------------------------------------------------------------

    def _article(self, outlet: Outlet, number: int) -> tuple[str, str, datetime, str]:
        when = START + timedelta(hours=number, minutes=len(outlet.name))
        title = " ".join(self._rng.choice(WORDS) for _ in range(6)).capitalize()
        paragraphs = [
            " ".join(self._rng.choice(WORDS) for _ in range(45)).capitalize() + "."
            for _ in range(4)
        ]
        path = f"/{when:%Y/%m/%d}/{outlet.name}-{number:03d}.html"
        return path, title, when, "".join(f"<p>{p}</p>" for p in paragraphs)

    def _entries(self, outlet: Outlet, base: str) -> list[Entry]:
        """The outlet's articles, newest first."""
        pages = sorted(self._pages[outlet.name], key=lambda page: page[2], reverse=True)
        return [
            Entry(title, base + path, base + path, when, "Desk", body[:120])
            for path, title, when, body in pages
        ]


def _alternate(kind: str, title: str, href: str) -> str:
    return f'<link rel="alternate" type="{kind}" title={quoteattr(title)} href={quoteattr(href)}>'


def _page(outlet: Outlet, title: str, when: datetime, body: str) -> str:
    return (
        f'<!doctype html><html lang="{outlet.language}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f'<meta property="article:published_time" content="{when.isoformat()}">'
        f"</head><body><nav>{escape(outlet.name)} · Home</nav><article><h1>{escape(title)}</h1>"
        f"{body}</article><footer>Imprint</footer></body></html>"
    )
