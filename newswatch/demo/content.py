"""Responses for the demo site's regular content: robots.txt, feeds, sitemaps, pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from newswatch.demo import pages, render
from newswatch.demo.catalog import Article, Outlet, load_labels
from newswatch.demo.newsroom import Newsroom
from newswatch.demo.server import HTML, Request, Response, conditional, text

CONTENT_TYPES = {
    "rss2": "application/rss+xml; charset=utf-8",
    "atom": "application/atom+xml; charset=utf-8",
    "rss1": "application/rdf+xml; charset=utf-8",
    "news-sitemap": "application/xml; charset=utf-8",
    "listing": HTML,
}

FEED_RENDERERS: dict[str, Callable[[render.Channel, list[render.Entry]], render.Element]] = {
    "rss2": render.rss2,
    "atom": render.atom,
    "rss1": render.rss1,
}

ROBOTS = """# newswatch demo site
User-agent: *
Disallow: /private/

Sitemap: {base_url}/sitemap-index.xml
"""


def channel(outlet: Outlet, base_url: str, *, language: str | None = None) -> render.Channel:
    return render.Channel(
        title=outlet.title,
        link=f"{base_url}/{outlet.name}/",
        self_url=base_url + outlet.feed_path,
        description=f"{outlet.title}: sample feed of the newswatch demo site (fictional content)",
        language=language or outlet.language,
    )


def entry(outlet: Outlet, article: Article, base_url: str, *, tracked: bool = True) -> render.Entry:
    canonical = base_url + article.path
    return render.Entry(
        title=article.title,
        link=f"{canonical}?{outlet.tracking}" if tracked and outlet.tracking else canonical,
        guid=canonical,
        published=article.published,
        author=article.author,
        summary=article.summary,
    )


def newest(articles: list[Article]) -> datetime:
    return max((a.published for a in articles), default=datetime(2026, 11, 1, tzinfo=UTC))


class Content:
    """One method per kind of regular response, reading the newsroom at request time."""

    def __init__(self, newsroom: Newsroom) -> None:
        self._newsroom = newsroom
        self._labels = load_labels()

    def robots(self, request: Request) -> Response:
        return text(200, ROBOTS.format(base_url=request.base_url), "text/plain; charset=utf-8")

    def not_found(self, request: Request) -> Response:
        return text(404, "<!DOCTYPE html><title>404</title><h1>Page not found</h1>")

    def outlet_document(self, outlet: Outlet, request: Request) -> Response:
        """The feed, news sitemap or listing page the outlet publishes its links in."""
        articles = self._newsroom.articles(outlet.name)
        base_url = request.base_url
        if outlet.feed_format == "listing":
            labels = self._labels[outlet.language]
            document = pages.listing_page(outlet, articles, base_url, labels)
        elif outlet.feed_format == "news-sitemap":
            # Sitemaps list canonical URLs: no tracking parameters there.
            entries = [entry(outlet, a, base_url, tracked=False) for a in articles]
            root = render.news_sitemap(outlet.name, outlet.language, entries)
            document = render.document(root)
        else:
            entries = [entry(outlet, a, base_url) for a in articles]
            root = FEED_RENDERERS[outlet.feed_format](channel(outlet, base_url), entries)
            document = render.document(root)
        body = document.encode("utf-8")
        return conditional(request, body, CONTENT_TYPES[outlet.feed_format], newest(articles))

    def sitemap_index(self, outlets: tuple[Outlet, ...], request: Request) -> Response:
        sitemaps = [
            (request.base_url + o.feed_path, newest(self._newsroom.articles(o.name)))
            for o in outlets
            if o.feed_format == "news-sitemap"
        ]
        body = render.document(render.sitemap_index(sitemaps)).encode("utf-8")
        modified = max((m for _, m in sitemaps), default=newest([]))
        return conditional(request, body, CONTENT_TYPES["news-sitemap"], modified)

    def article(self, request: Request) -> Response | None:
        """The article at the request's path, or None when there is none."""
        found = self._newsroom.find(request.path)
        return None if found is None else self.article_page(found, request)

    def article_page(self, article: Article, request: Request) -> Response:
        outlet = self._newsroom.outlet(article.outlet)
        related = [
            a
            for a in self._newsroom.articles(outlet.name)
            if a.path != article.path and not a.path.startswith("/private/")
        ][:3]
        labels = self._labels.get(article.language, self._labels["en"])
        page = pages.article_page(outlet, article, request.base_url, related, labels)
        return text(200, page)
