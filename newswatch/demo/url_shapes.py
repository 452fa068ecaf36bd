"""A strict outlet: it answers only the exact spelling of each link it published.

Many CMSs publish `/2025/04/28/story/` and answer 404 for `/2025/04/28/story`, serve a
story only on their `m.` host or only as AMP, or read `?page=2&id=7` but not
`?id=7&page=2`. A crawler that requests anything but the published link loses such
outlets whole. This outlet publishes one article per URL shape, in an RSS feed and a news
sitemap, and records every request it gets. It is meant to be reached through an HTTP
proxy (it is one): then any host name works, `m.` hosts included, without DNS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from urllib.parse import quote, urlsplit

from newswatch.demo.catalog import OUTLETS, load_articles
from newswatch.demo.server import Request, Response, conditional, text

HOST = "strict-news.test"
# (what the shape is, the link as published); {slug}, {Slug} and {n} are filled in per story.
SHAPES: tuple[tuple[str, str], ...] = (
    ("trailing slash", "http://{host}/2025/04/28/{slug}/"),
    ("no trailing slash", "http://{host}/2025/04/29/{slug}"),
    ("mixed-case path", "http://{host}/News/Politik/{Slug}"),
    ("index.html", "http://{host}/dossiers/{slug}/index.html"),
    ("session id in the path", "http://{host}/article.jsp;jsessionid=8F3A2B91?id={n}"),
    ("order-sensitive query", "http://{host}/view.php?page=2&id={n}"),
    ("percent-encoded path", "http://{host}/actualit%C3%A9/{slug}"),
    ("raw non-ASCII path", "http://{host}/été/{slug}-über"),
    ("mobile host only", "http://m.{host}/story/{slug}"),
    ("AMP only", "http://{host}/amp/{slug}"),
    ("tracking parameters", "http://{host}/{slug}.html?utm_source=rss&utm_medium=feed"),
)
# The sitemap lists the tracked story with other tracking junk: one article all the same.
SITEMAP_TRACKING = "?utm_source=sitemap&fbclid=IwAR0x"
ROBOTS = "User-agent: *\nDisallow: /admin/\n"


@dataclass(frozen=True)
class Story:
    shape: str
    link: str  # as published in the feed
    title: str
    paragraphs: tuple[str, ...]
    published: datetime

    @property
    def sitemap_link(self) -> str:
        base = self.link.split("?", 1)[0]
        return base + SITEMAP_TRACKING if "utm_source" in self.link else self.link


def wire_target(link: str) -> str:
    """The request target a browser sends for a link: non-ASCII as UTF-8 escapes."""
    parts = urlsplit(link)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    return quote(target, safe="/;=?&%:@!$'()*+,~-._")


class UrlShapesOutlet:
    """Routes for `newswatch.demo.server.serve`; `requests` lists (host, target) as received."""

    def __init__(self, host: str = HOST, count: int | None = None) -> None:
        self.host = host
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.faults: dict[str, Callable[[Request], Response | None]] = {}
        catalog = load_articles(OUTLETS)
        texts = [article for outlet in OUTLETS for article in catalog[outlet.name]]
        shapes = SHAPES if count is None else _repeat(SHAPES, count)
        now = datetime(2026, 12, 1, 8, tzinfo=UTC)
        self.stories: list[Story] = []
        for n, (shape, pattern) in enumerate(shapes, start=1):
            article = texts[(n - 1) % len(texts)]
            slug = f"story-{n}"
            link = pattern.format(host=host, slug=slug, Slug=f"Story-{n}-Update", n=n)
            published = now - timedelta(minutes=n)
            self.stories.append(
                Story(shape, link, f"{article.title} ({n})", article.paragraphs, published)
            )
        self._pages: dict[tuple[str, str], Story] = {}
        for story in self.stories:
            for link in (story.link, story.sitemap_link):
                self._pages[(urlsplit(link).hostname or "", wire_target(link))] = story

    def story_at(self, host: str, target: str) -> Story | None:
        """The story a request reached, if it asked for a spelling that was published."""
        return self._pages.get((host, target))

    def feed_url(self) -> str:
        return f"http://{self.host}/feed.xml"

    def sitemap_url(self) -> str:
        return f"http://{self.host}/news-sitemap.xml"

    def article_requests(self) -> list[tuple[str, str]]:
        with self._lock:
            return [
                r
                for r in self.requests
                if r[1] not in ("/feed.xml", "/news-sitemap.xml", "/robots.txt")
            ]

    def __call__(self, request: Request) -> Response | None:
        host, target = _host_and_target(request)
        with self._lock:
            self.requests.append((host, target))
        fault = self.faults.get(target)
        if fault is not None:
            return fault(request)
        if target == "/robots.txt":
            return text(200, ROBOTS, "text/plain; charset=utf-8")
        if host == self.host and target == "/feed.xml":
            return conditional(
                request, self._feed(), "application/rss+xml; charset=utf-8", self._newest()
            )
        if host == self.host and target == "/news-sitemap.xml":
            return conditional(
                request, self._sitemap(), "application/xml; charset=utf-8", self._newest()
            )
        story = self.story_at(host, target)
        if story is None:
            return text(404, "<h1>Not found</h1><p>No such page.</p>")
        return text(200, _page(story))

    def _newest(self) -> datetime:
        return max(story.published for story in self.stories)

    def _feed(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(s.title)}</title><link>{escape(s.link)}</link>"
            f"<pubDate>{s.published:%a, %d %b %Y %H:%M:%S +0000}</pubDate></item>"
            for s in self.stories
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Strict News</title><link>http://{self.host}/</link>{items}</channel></rss>"
        ).encode()

    def _sitemap(self) -> bytes:
        urls = "".join(
            f"<url><loc>{escape(s.sitemap_link)}</loc><news:news><news:publication>"
            "<news:name>Strict News</news:name><news:language>fr</news:language>"
            f"</news:publication><news:publication_date>{s.published.isoformat()}"
            f"</news:publication_date><news:title>{escape(s.title)}</news:title></news:news>"
            "</url>"
            for s in self.stories
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?>"
            "<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9' "
            "xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
            f"{urls}</urlset>"
        ).encode()


def _host_and_target(request: Request) -> tuple[str, str]:
    """(host, origin-form target) of a request, whether sent to a proxy or to the site."""
    if request.target.startswith(("http://", "https://")):
        parts = urlsplit(request.target)
        return parts.hostname or "", parts.path + (f"?{parts.query}" if parts.query else "")
    return (request.header("Host") or "").split(":")[0], request.target


def _page(story: Story) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    canonical = story.link.split("?", 1)[0] if "utm_" in story.link else story.link
    return (
        "<!doctype html><html lang='fr'><head><meta charset='utf-8'>"
        f"<title>{escape(story.title)}</title>"
        f"<link rel='canonical' href='{escape(canonical)}'>"
        f"<meta property='article:published_time' content='{story.published.isoformat()}'>"
        "</head><body><nav><a href='/'>Accueil</a></nav><main><article>"
        f"<h1>{escape(story.title)}</h1>{paragraphs}</article></main>"
        "<footer>Strict News</footer></body></html>"
    )


def _repeat(shapes: tuple[tuple[str, str], ...], count: int) -> list[tuple[str, str]]:
    return [shapes[index % len(shapes)] for index in range(count)]
