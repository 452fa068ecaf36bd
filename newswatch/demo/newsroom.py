"""The demo site's articles per outlet, safe to read while handler threads publish new ones."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from newswatch.demo.catalog import Article, Outlet, article_path, load_articles, slugify


class Newsroom:
    """Each outlet's articles, newest first, and an index by canonical path."""

    def __init__(self, outlets: tuple[Outlet, ...]) -> None:
        self._outlets = {outlet.name: outlet for outlet in outlets}
        self._lock = threading.Lock()
        self._articles = load_articles(outlets)
        self._by_path = {a.path: a for articles in self._articles.values() for a in articles}

    def outlet(self, name: str) -> Outlet:
        return self._outlets[name]

    def articles(self, outlet: str) -> list[Article]:
        """A snapshot: later publishing does not change the list the caller holds."""
        with self._lock:
            return list(self._articles[outlet])

    def find(self, path: str) -> Article | None:
        with self._lock:
            return self._by_path.get(path)

    def publish(
        self,
        outlet: str,
        *,
        title: str,
        body: str,
        language: str | None = None,
        author: str | None = None,
        published: datetime | None = None,
    ) -> Article:
        """Add an article at the top of the outlet; `body` holds paragraphs split by blank lines."""
        if outlet not in self._outlets:
            raise KeyError(f"no outlet {outlet!r}; known: {', '.join(sorted(self._outlets))}")
        paragraphs = tuple(p.strip() for p in body.split("\n\n") if p.strip())
        if not paragraphs:
            raise ValueError("an article needs a non-empty body")
        with self._lock:
            existing = self._articles[outlet]
            if published is None:
                # Later than everything already there, so it tops the feed and moves Last-Modified
                # even when the sample articles are dated in the future.
                now = datetime.now(UTC).replace(microsecond=0)
                newest = max((a.published for a in existing), default=now)
                published = max(now, newest + timedelta(minutes=1))
            slug = slugify(title) or "article"
            path = article_path(outlet, published, slug)
            suffix = 2
            while path in self._by_path:
                path = article_path(outlet, published, f"{slug}-{suffix}")
                suffix += 1
            article = Article(
                outlet=outlet,
                path=path,
                title=title,
                author=author or self._outlets[outlet].title,
                published=published,
                language=language or self._outlets[outlet].language,
                paragraphs=paragraphs,
            )
            existing.insert(0, article)
            self._by_path[path] = article
        return article
